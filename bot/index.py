"""The BM25 index: postings in compressed-sparse-row form, one weight per (term, passage).

BM25 scores are sums over query terms of a weight that depends only on the term and the passage, so
the weights are computed once at build time and a query only adds up the postings of its own terms
(never a pass over every passage in Python). Scores follow rank-bm25's definitions exactly for
`okapi`; `plus` and `l` follow the BM25+ and BM25L papers (Lv & Zhai 2011), not rank-bm25 0.2.2,
which multiplies by tf twice in BM25L and adds BM25+'s delta to passages without the term.
`lucene` is Lucene's BM25 (idf = ln(1 + (N - n + 0.5) / (n + 0.5))).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Sequence

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


class Index:
    """Terms -> postings (passage ids and weights). Built once, read-only afterwards."""

    def __init__(
        self,
        vocab: dict[str, int],
        indptr: np.ndarray,
        doc_ids: np.ndarray,
        weights: np.ndarray,
        doc_len: np.ndarray,
        idf: np.ndarray,
        settings: ScoringSettings,
    ):
        self.vocab = vocab
        self.idf = idf
        self.indptr = indptr
        self.doc_ids = doc_ids
        self.weights = weights
        self.doc_len = doc_len
        self.settings = settings
        self.n_docs = len(doc_len)
        self._acc = np.zeros(self.n_docs, dtype=np.float64)

    # -- building ---------------------------------------------------------------------------------

    @classmethod
    def build(cls, docs: Iterable[Sequence[str]], settings: ScoringSettings = ScoringSettings()) -> "Index":
        """Index term lists (one per passage)."""
        vocab: dict[str, int] = {}
        rows: list[np.ndarray] = []
        lens: list[int] = []
        for terms in docs:
            ids = np.fromiter((vocab.setdefault(t, len(vocab)) for t in terms), dtype=np.int64, count=len(terms))
            rows.append(ids)
            lens.append(len(terms))
        doc_len = np.asarray(lens, dtype=np.int64)
        term_ids = np.concatenate(rows) if rows else np.zeros(0, np.int64)
        doc_of = np.repeat(np.arange(len(lens), dtype=np.int64), doc_len)
        return cls.from_arrays(vocab, term_ids, doc_of, doc_len, settings)

    @classmethod
    def from_arrays(
        cls,
        vocab: dict[str, int],
        term_ids: np.ndarray,
        doc_of: np.ndarray,
        doc_len: np.ndarray,
        settings: ScoringSettings,
    ) -> "Index":
        """Build from one (term id, passage id) pair per token occurrence."""
        n_docs, n_terms = len(doc_len), len(vocab)
        key = term_ids * max(n_docs, 1) + doc_of
        key.sort()
        uniq, tf = np.unique(key, return_counts=True) if len(key) else (key, key)
        post_term = uniq // max(n_docs, 1)
        post_doc = (uniq % max(n_docs, 1)).astype(np.int32)
        df = np.bincount(post_term, minlength=n_terms)
        indptr = np.zeros(n_terms + 1, dtype=np.int64)
        np.cumsum(df, out=indptr[1:])
        avgdl = float(doc_len.sum()) / n_docs if n_docs else 0.0
        idf = idf_weights(df, n_docs, settings)
        w = idf[post_term] * tf_weights(tf, doc_len[post_doc], avgdl, settings)
        return cls(vocab, indptr, post_doc, w.astype(np.float32), doc_len.astype(np.int32), idf.astype(np.float32), settings)

    # -- querying -----------------------------------------------------------------------------------

    @property
    def vocabulary_size(self) -> int:
        return len(self.vocab)

    def idf_of(self, term: str) -> float:
        tid = self.vocab.get(term)
        return 0.0 if tid is None else float(self.idf[tid])

    def postings(self, term: str) -> tuple[np.ndarray, np.ndarray]:
        tid = self.vocab.get(term)
        if tid is None:
            return _EMPTY_IDS, _EMPTY_W
        a, b = self.indptr[tid], self.indptr[tid + 1]
        return self.doc_ids[a:b], self.weights[a:b]

    def get_scores(self, query_terms: Sequence[str]) -> np.ndarray:
        """Dense scores of every passage (as rank-bm25's get_scores): for tests and small corpora."""
        scores = np.zeros(self.n_docs, dtype=np.float64)
        for t in query_terms:
            ids, w = self.postings(t)
            scores[ids] += w
        return scores

    def top(self, query_terms: Sequence[str], k: int, offset: int = 0) -> list[tuple[int, float]]:
        """The best `k` passages after `offset` that share a term with the query, best first.

        Ties break by passage order. Touches only the postings of the query's terms.
        """
        lists = [self.postings(t) for t in query_terms]
        lists = [(ids, w) for ids, w in lists if len(ids)]
        if not lists or k <= 0:
            return []
        want = k + offset
        acc = self._acc
        try:
            for ids, w in lists:
                acc[ids] += w
            cand = lists[0][0] if len(lists) == 1 else np.unique(np.concatenate([ids for ids, _ in lists]))
            vals = acc[cand]
        finally:
            for ids, _ in lists:
                acc[ids] = 0.0
        if len(cand) > want:
            part = np.argpartition(-vals, want - 1)[:want]
            # keep every candidate tied with the cut-off so ties break by passage order
            cut = vals[part].min()
            part = np.flatnonzero(vals >= cut)
            cand, vals = cand[part], vals[part]
        order = np.lexsort((cand, -vals))[offset:want]
        return [(int(cand[i]), float(vals[i])) for i in order]


_EMPTY_IDS = np.zeros(0, dtype=np.int32)
_EMPTY_W = np.zeros(0, dtype=np.float32)
