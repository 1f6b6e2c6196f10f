"""BM25's two factors, per variant: the idf of a term and the term-frequency factor of a posting.

Scores follow rank-bm25's definitions exactly for `okapi`; `plus` and `l` follow the BM25+ and BM25L
papers (Lv & Zhai 2011), not rank-bm25 0.2.2, which multiplies by tf twice in BM25L and adds BM25+'s delta
to passages without the term. `lucene` is Lucene's BM25 (idf = ln(1 + (N - n + 0.5) / (n + 0.5))).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

VARIANTS = ("okapi", "plus", "l", "lucene")


@dataclass(frozen=True)
class ScoringSettings:
    variant: str = "okapi"
    k1: float = 1.5
    b: float = 0.75
    epsilon: float = 0.25  # okapi: floor for negative idf, as a fraction of the mean idf
    delta: float = 1.0  # plus / l

    def __post_init__(self) -> None:
        if self.variant not in VARIANTS:
            raise ValueError(f"unknown BM25 variant {self.variant!r}; choose one of {', '.join(VARIANTS)}")

    def fingerprint(self) -> str:
        return f"bm25-v1 {self.variant} k1={self.k1} b={self.b} eps={self.epsilon} delta={self.delta}"


def idf_weights(df: np.ndarray, n_docs: int, s: ScoringSettings) -> np.ndarray:
    """Per-term idf, float64, as each variant defines it."""
    df = df.astype(np.float64)
    if s.variant == "okapi":  # rank-bm25 BM25Okapi._calc_idf
        idf = np.log(n_docs - df + 0.5) - np.log(df + 0.5)
        average_idf = idf.sum() / len(idf) if len(idf) else 0.0
        return np.where(idf < 0, s.epsilon * average_idf, idf)
    if s.variant == "plus":  # BM25+ paper: log((N + 1) / df)
        return np.log((n_docs + 1) / df)
    if s.variant == "l":  # BM25L paper: log((N + 1) / (df + 0.5))
        return np.log((n_docs + 1) / (df + 0.5))
    return np.log1p((n_docs - df + 0.5) / (df + 0.5))  # lucene


def tf_weights(tf: np.ndarray, doc_len: np.ndarray, avgdl: float, s: ScoringSettings) -> np.ndarray:
    """The term-frequency factor of each posting (tf > 0), float64."""
    tf = tf.astype(np.float64)
    norm = 1.0 - s.b + s.b * doc_len / avgdl if avgdl > 0 else np.ones_like(tf)
    if s.variant == "l":
        ctd = tf / norm
        return (s.k1 + 1) * (ctd + s.delta) / (s.k1 + ctd + s.delta)
    w = tf * (s.k1 + 1) / (tf + s.k1 * norm)
    if s.variant == "plus":
        w = w + s.delta
    if s.variant == "lucene":
        w = w / (s.k1 + 1)  # Lucene drops the constant (k1 + 1) numerator
    return w
