"""Building the BM25 postings: term ids of passages in, compressed-sparse-row arrays of weights out.

Vectorized: term ids go into one flat int32 array, and the postings come from one sort of (term, passage)
keys. `bot.index.IndexBuilder` turns the result into an `Index`; the query side lives in `bot.index`.
"""

from __future__ import annotations

import array
import itertools
from collections import defaultdict
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from bot.scoring import ScoringSettings, idf_weights, tf_weights


class Postings(NamedTuple):
    """What a build makes, in the order of `bot.index.Index`'s arguments."""

    vocab: dict[str, int]
    indptr: np.ndarray  # int64, n_terms + 1: term t's postings are [indptr[t], indptr[t + 1])
    doc_ids: np.ndarray  # int32, ascending within a term
    weights: np.ndarray  # float32, idf * tf factor
    doc_len: np.ndarray  # int32, terms per passage
    idf: np.ndarray  # float32, per term
    settings: ScoringSettings


class PostingsBuilder:
    """Collects passages' terms, then builds the postings in a few vectorized passes
    (`bot.index.IndexBuilder` makes an `Index` of them).

    Memory stays near 4 bytes per kept token while collecting (an int32 term id) and about 20 bytes per
    token during the one sort that makes the postings.
    """

    _FLUSH = 4_000_000  # tokens collected in an array('i') before moving them to numpy

    def __init__(self, settings: ScoringSettings = ScoringSettings()):
        self.settings = settings
        self.vocab: defaultdict[str, int] = defaultdict()
        self.vocab.default_factory = self.vocab.__len__  # a new term gets the next id
        self._codes = array.array("i")  # term ids (-1: a dropped word) of the current chunk
        self._starts = array.array("q")  # where each passage of the chunk starts in _codes
        self._chunks: list[np.ndarray] = []  # kept term ids, int32
        self._lens: list[np.ndarray] = []  # kept terms per passage, int32
        self._word_ids: dict[object, _WordIds] = {}  # per analyzer
        self.n_docs = 0

    def add_terms(self, terms: Sequence[str]) -> None:
        """One passage's terms."""
        self._starts.append(len(self._codes))
        self._codes.extend(map(self.vocab.__getitem__, terms))
        self._next()

    def add_text(self, analyzer, text: str) -> None:
        """One passage's text, indexed as `add_terms(analyzer.terms(text))` would, faster.

        Each distinct word goes through the analyzer once and is remembered as a term id (-1: a
        dropped word), so a token costs one dict look-up. Text in scripts without spaces (bigrams)
        takes `analyzer.terms`.
        """
        words, nospace = analyzer.words(text)
        if nospace:
            self.add_terms(analyzer.terms(text))
            return
        ids = self._word_ids.get(analyzer)
        if ids is None:
            ids = self._word_ids[analyzer] = _WordIds(analyzer, self.vocab)
        self._starts.append(len(self._codes))
        self._codes.extend(map(ids.__getitem__, words))
        self._next()

    def add_ids(self, ids: np.ndarray, lens: np.ndarray) -> None:
        """Passages analysed elsewhere (`bot.build`): `lens[i]` term ids of `self.vocab` for passage i, in
        order, dropped words already left out."""
        self._flush()
        self._chunks.append(np.asarray(ids, dtype=np.int32))
        self._lens.append(np.asarray(lens, dtype=np.int32))
        self.n_docs += len(lens)

    def _next(self) -> None:
        self.n_docs += 1
        if len(self._codes) >= self._FLUSH:
            self._flush()

    def _flush(self) -> None:
        if not self._starts:
            return
        codes = np.frombuffer(self._codes, dtype=np.int32).copy() if len(self._codes) else np.zeros(0, np.int32)
        starts = np.frombuffer(self._starts, dtype=np.int64)
        raw_lens = np.diff(np.append(starts, len(codes)))
        keep = codes >= 0
        if keep.all():
            self._lens.append(raw_lens.astype(np.int32))
            self._chunks.append(codes)
        else:
            doc = np.repeat(np.arange(len(starts), dtype=np.int32), raw_lens)
            self._lens.append(np.bincount(doc[keep], minlength=len(starts)).astype(np.int32))
            self._chunks.append(codes[keep])
        self._codes = array.array("i")
        self._starts = array.array("q")

    def postings(self) -> Postings:
        self._flush()
        self._word_ids.clear()
        vocab = self.vocab
        vocab.default_factory = None  # a plain mapping from now on (no copy of a million terms)
        self.vocab = defaultdict()
        doc_len = np.concatenate(self._lens) if self._lens else np.zeros(0, np.int32)
        self._lens = []
        chunks, self._chunks = self._chunks, []
        if sum(len(c) for c in chunks) >= _TRIM_ABOVE:
            _trim_memory()  # hand the analysis' freed memory back before the big arrays come
        return build_postings(vocab, chunks, doc_len, self.settings)


_STEP = 1 << 22  # tokens (or postings) per slice in the vectorized passes of build_postings


def build_postings(
    vocab: dict[str, int],
    term_ids: np.ndarray | list[np.ndarray],
    doc_len: np.ndarray,
    settings: ScoringSettings,
) -> Postings:
    """The postings of token term ids (passage after passage, `doc_len[i]` tokens for passage i).

    `term_ids` may be a list of chunks, emptied as they are used. Memory: one int64 key per token (the
    sort), plus 4 bytes per posting; the unique keys, the passage ids and the weights are written over
    buffers already there (see the comments), so 1M passages peak near 0.65 GB here.
    """
    n_docs, n_terms = len(doc_len), len(vocab)
    span = max(n_docs, 1)
    step = _STEP
    # one int64 key per token: term * n_docs + passage; sorted, equal keys are one posting (tf = run)
    chunks = term_ids if isinstance(term_ids, list) else [term_ids]
    del term_ids
    n = sum(len(chunk) for chunk in chunks)
    key = np.empty(n, dtype=np.int64)
    at = 0
    while chunks:
        chunk = chunks.pop(0)
        key[at : at + len(chunk)] = chunk
        at += len(chunk)
        del chunk
    key *= span
    ends = np.cumsum(doc_len, dtype=np.int64)
    per = max(1, step // 64)
    for d0 in range(0, n_docs, per):  # a slice of passages at a time
        d1 = min(d0 + per, n_docs)
        a, b = int(ends[d0 - 1]) if d0 else 0, int(ends[d1 - 1])
        key[a:b] += np.repeat(np.arange(d0, d1, dtype=np.int64), doc_len[d0:d1])
    del ends
    key.sort()

    # two passes over the sorted keys, a slice at a time (no full-size temporary): count the postings;
    # then move each run's key to the front of `key` (in place: a run never moves right) and its length
    # to `tf`
    bounds = [*range(0, n, step), n]

    def new_run(a: int, b: int) -> np.ndarray:
        return key[a:b] != (key[a - 1 : b - 1] if a else np.concatenate(([-1], key[: b - 1])))

    counts = [int(np.count_nonzero(new_run(a, b))) for a, b in itertools.pairwise(bounds)]
    n_post = sum(counts)
    tf = np.empty(n_post, dtype=np.int32)
    at = 0
    for (a, b), c in zip(itertools.pairwise(bounds), counts, strict=True):
        starts = np.flatnonzero(new_run(a, b))
        if c:
            key[at : at + c] = key[a:b][starts]
            if at:  # the run that was open at the end of the previous slice ends here
                tf[at - 1] += int(starts[0])
            tf[at : at + c - 1] = np.diff(starts)
            tf[at + c - 1] = (b - a) - int(starts[-1])
        elif at:
            tf[at - 1] += b - a
        at += c

    df = np.zeros(n_terms, dtype=np.int64)
    for a in range(0, n_post, step):
        df += np.bincount(key[a : min(a + step, n_post)] // span, minlength=n_terms)
    indptr = np.zeros(n_terms + 1, dtype=np.int64)
    np.cumsum(df, out=indptr[1:])
    doc_len = doc_len.astype(np.int64)
    avgdl = float(doc_len.sum()) / n_docs if n_docs else 0.0
    idf = idf_weights(df, n_docs, settings)
    # weights go over tf (float32 over int32, slice by slice) and passage ids over the first half of
    # `key` (int32 slot i lies in int64 slot i // 2, already read when a slice is never longer than the
    # slices before it); then `key` is shrunk to that half
    weights = tf.view(np.float32)
    key32 = key.view(np.int32)
    wstep = max(1, step // 4)  # tf_weights makes several float64 temporaries per slice: keep them small
    for a in range(0, n_post, wstep):
        b = min(a + wstep, n_post)
        u = key[a:b].copy()
        t = u // span
        d = u - t * span
        w = idf[t] * tf_weights(tf[a:b], doc_len[d], avgdl, settings)
        weights[a:b] = w
        key32[a:b] = d
    del key32, tf
    key.resize((n_post + 1) // 2, refcheck=False)
    post_doc = key.view(np.int32)[:n_post]
    return Postings(vocab, indptr, post_doc, weights, doc_len.astype(np.int32), idf.astype(np.float32), settings)


# --- the fast analysis path for indexing -------------------------------------------------------------

_TRIM_ABOVE = 1 << 22  # tokens: smaller builds free too little for a full garbage collection (~50-100 ms) to pay


def _trim_memory() -> None:
    """Return freed heap memory to the OS (glibc malloc_trim), so it stops counting as resident."""
    import gc

    gc.collect()
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


class _WordIds(dict):
    """word -> term id (-1: dropped), each missing word analyzed once.

    At most LIMIT words are remembered: by then the frequent ones are in, and the rest of a Zipf tail
    is mostly seen once (remembering it would only cost memory)."""

    LIMIT = 600_000

    def __init__(self, analyzer, vocab: dict[str, int]):
        super().__init__()
        self.analyzer = analyzer
        self.vocab = vocab

    def __missing__(self, word: str) -> int:
        term = self.analyzer.term(word)
        tid = -1 if term is None else self.vocab[term]
        if len(self) < self.LIMIT:
            self[word] = tid
        return tid
