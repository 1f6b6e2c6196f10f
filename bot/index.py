"""The BM25 index: postings in compressed-sparse-row form, one weight per (term, passage).

BM25 scores are sums over query terms of a weight that depends only on the term and the passage, so
the weights are computed once at build time and a query only adds up the postings of its own terms
(never a pass over every passage in Python). Scores follow rank-bm25's definitions exactly for
`okapi`; `plus` and `l` follow the BM25+ and BM25L papers (Lv & Zhai 2011), not rank-bm25 0.2.2,
which multiplies by tf twice in BM25L and adds BM25+'s delta to passages without the term.
`lucene` is Lucene's BM25 (idf = ln(1 + (N - n + 0.5) / (n + 0.5))).

Top-k is exact but does not always read every posting of every query term (see `Index.top`): each term
keeps its maximum weight and its best postings ("champions"), which give a lower bound on the k-th best
score; terms whose weights cannot lift a passage past it are only looked up for the few candidates.

Building (`IndexBuilder`) is vectorized: term ids go into one flat int32 array, and the postings come from
one sort of (term, passage) keys.
"""

from __future__ import annotations

import array
import logging
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

log = logging.getLogger(__name__)

VARIANTS = ("okapi", "plus", "l", "lucene")

# Bump when what a build writes changes (postings, weights, bounds): persisted indexes are rebuilt.
BUILD_VERSION = 1

CHAMPIONS = 64  # best postings kept per term, for terms with more postings than that
SEED_ALL = 2048  # a query term with at most this many postings seeds the threshold with all of them


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
    """Terms -> postings (passage ids and weights). Built once, read-only afterwards.

    `vocab` maps a term to its id: a dict when built in memory, a `bot.store.SortedVocabulary` when
    loaded from disk (anything with `get` and `len`). The arrays may be memory-mapped. Queries are
    thread-safe.
    """

    def __init__(
        self,
        vocab: Mapping[str, int],
        indptr: np.ndarray,
        doc_ids: np.ndarray,
        weights: np.ndarray,
        doc_len: np.ndarray,
        idf: np.ndarray,
        settings: ScoringSettings,
        max_w: np.ndarray | None = None,
        champ_terms: np.ndarray | None = None,
        champ_pos: np.ndarray | None = None,
    ):
        self.vocab = vocab
        self.idf = idf
        self.indptr = indptr
        self.doc_ids = doc_ids
        self.weights = weights
        self.doc_len = doc_len
        self.settings = settings
        self.n_docs = len(doc_len)
        if max_w is None or champ_terms is None or champ_pos is None:
            max_w, champ_terms, champ_pos = term_bounds(indptr, doc_ids, weights)
        self.max_w = max_w  # per term: its largest weight (an upper bound of its part of any score)
        self.champ_terms = champ_terms  # sorted ids of the terms with more than CHAMPIONS postings
        self.champ_pos = champ_pos  # [i]: positions of champ_terms[i]'s best postings in its list, best first
        # Pruning needs scores that only grow as terms are added: weights >= 0, which holds unless okapi
        # floors idf below 0 (tiny corpora) or b, k1, delta are out of their ranges.
        s = settings
        self.prunable = bool(
            (len(idf) == 0 or float(np.min(idf)) >= 0) and 0 <= s.b <= 1 and s.k1 >= 0 and s.delta >= 0
        )
        self._accumulators: list[np.ndarray] = []  # dense score buffers, each used by one query at a time

    # -- building ---------------------------------------------------------------------------------

    @classmethod
    def build(cls, docs: Iterable[Sequence[str]], settings: ScoringSettings = ScoringSettings()) -> Index:
        """Index term lists (one per passage)."""
        builder = IndexBuilder(settings)
        for terms in docs:
            builder.add_terms(terms)
        return builder.build()

    # -- querying -----------------------------------------------------------------------------------

    @property
    def vocabulary_size(self) -> int:
        return len(self.vocab)

    @property
    def postings_count(self) -> int:
        return len(self.doc_ids)

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

        Scores are those of `get_scores` (a term repeated in the query counts again), ties break by
        passage order, and the result is exact. How it avoids reading every posting:

        1. A lower bound `theta` of the k-th best score: the exact scores of a few passages (all
           passages of the rare query terms, the champions of the common ones).
        2. MaxScore: terms are sorted by their largest weight; the terms whose largest weights add up to
           less than `theta` are "non-essential": a passage having only them cannot make the top.
           A passage of an essential term is a candidate only if its weight there, plus the largest
           weights of all other terms, reaches `theta`.
        3. Candidates are scored exactly by binary search in each term's (sorted) postings; when there
           are too many of them, the postings are summed into a dense buffer instead.
        """
        want = k + offset
        if k <= 0:
            return []
        lists = self._query_lists(query_terms)
        if not lists:
            return []
        if not self.prunable:
            return self._top_dense(lists, want, offset)
        if len(lists) == 1:
            return self._top_single(lists[0], want, offset)

        # 1. the seed: exact scores of the rare terms' passages and the common terms' champions
        seeds = []
        all_seeded = True
        for ql in lists:
            if len(ql.ids) <= SEED_ALL:
                seeds.append(ql.ids)
            else:
                champ = self._champions(ql)
                if champ is None:
                    seeds.append(ql.ids)
                else:
                    all_seeded = False
                    seeds.append(ql.ids[champ])
        seed = _union(seeds)
        seed_scores = _score(seed, lists)
        if all_seeded:  # every posting of every term is in the seed: the seed is the answer
            return _select(seed, seed_scores, want, offset)
        theta = _kth_largest(seed_scores, want) if len(seed) >= want else -np.inf
        if theta == -np.inf:
            return self._top_dense(lists, want, offset)

        # 2. MaxScore: non-essential terms (ascending bounds whose sum stays below theta)
        lists.sort(key=lambda ql: ql.ub)
        slack = 1e-9 * abs(theta)
        total_ub = sum(ql.ub for ql in lists)
        cum, n_ne = 0.0, 0
        for ql in lists:
            if cum + ql.ub + slack < theta:
                cum += ql.ub
                n_ne += 1
            else:
                break
        essential = lists[n_ne:]
        kept, n_kept = [], 0
        for ql in essential:
            need = theta - (total_ub - ql.ub) - slack  # this term's weight a candidate needs at least
            if need > 0:
                sel = ql.ids[ql.w * ql.mult >= need] if ql.mult != 1 else ql.ids[ql.w >= need]
            else:
                sel = ql.ids
            kept.append(sel)
            n_kept += len(sel)

        # 3. exact scores of the candidates: by lookups, or summed densely when there are many
        lookups = n_kept * sum(_log2(len(ql.ids)) for ql in lists)
        dense = sum(len(ql.ids) for ql in lists) * _DENSE_COST
        if lookups <= dense:
            cand = kept[0] if len(kept) == 1 else _union(kept)
            return _select(cand, _score(cand, lists), want, offset)
        return self._top_dense(lists, want, offset, theta=theta, essential=essential)

    # -- top-k internals ------------------------------------------------------------------------------

    def _query_lists(self, query_terms: Sequence[str]) -> list[_QueryList]:
        mult: dict[int, int] = {}
        for t in query_terms:
            tid = self.vocab.get(t)
            if tid is not None:
                mult[tid] = mult.get(tid, 0) + 1
        out = []
        for tid, m in mult.items():
            a, b = int(self.indptr[tid]), int(self.indptr[tid + 1])
            if b > a:
                out.append(_QueryList(tid, self.doc_ids[a:b], self.weights[a:b], m, float(self.max_w[tid]) * m))
        return out

    def _champions(self, ql: _QueryList) -> np.ndarray | None:
        """Positions (in the term's list) of its best postings, best first; None for a short list."""
        i = int(np.searchsorted(self.champ_terms, ql.tid))
        if i < len(self.champ_terms) and int(self.champ_terms[i]) == ql.tid:
            return self.champ_pos[i]
        return None

    def _top_single(self, ql: _QueryList, want: int, offset: int) -> list[tuple[int, float]]:
        """One term: its best postings by weight (the stored champions when they are enough)."""
        champ = self._champions(ql) if want <= self.champ_pos.shape[-1] else None
        if champ is not None:
            pos = champ[:want]
            ids, w = ql.ids[pos], ql.w[pos].astype(np.float64) * ql.mult
            return [(int(i), float(s)) for i, s in zip(ids[offset:], w[offset:])]
        return _select(ql.ids, ql.w.astype(np.float64) * ql.mult, want, offset)

    def _top_dense(
        self,
        lists: list[_QueryList],
        want: int,
        offset: int,
        theta: float = -np.inf,
        essential: list[_QueryList] | None = None,
    ) -> list[tuple[int, float]]:
        """Sum every posting of the query terms into a dense buffer; candidates from `essential`."""
        acc = self._accumulators.pop() if self._accumulators else np.zeros(self.n_docs, dtype=np.float64)
        try:
            for ql in lists:
                if ql.mult == 1:
                    acc[ql.ids] += ql.w
                else:
                    acc[ql.ids] += ql.w.astype(np.float64) * ql.mult
            sources = essential if essential is not None else lists
            if len(sources) == 1 and theta == -np.inf:
                cand = sources[0].ids
            else:
                # a better bound: the want-th best of the longest source (its passages are distinct)
                longest = max(sources, key=lambda ql: len(ql.ids))
                if len(longest.ids) >= want:
                    theta = max(theta, _kth_largest(acc[longest.ids], want))
                parts = []
                for ql in sources:
                    vals = acc[ql.ids]
                    parts.append(ql.ids[vals >= theta] if theta > -np.inf else ql.ids)
                cand = _union(parts)
            vals = acc[cand]
        finally:
            for ql in lists:
                acc[ql.ids] = 0.0
            self._accumulators.append(acc)
        return _select(cand, vals, want, offset)


@dataclass(slots=True)
class _QueryList:
    tid: int
    ids: np.ndarray  # int32, ascending
    w: np.ndarray  # float32
    mult: int  # times the term occurs in the query
    ub: float  # its largest weight times mult


_DENSE_COST = 8.0  # one posting summed densely costs about as much as 8 binary-search steps
_EMPTY_IDS = np.zeros(0, dtype=np.int32)
_EMPTY_W = np.zeros(0, dtype=np.float32)


def _log2(n: int) -> float:
    return float(max(1, int(n).bit_length()))


def _union(parts: list[np.ndarray]) -> np.ndarray:
    if len(parts) == 1:
        return parts[0]
    return np.unique(np.concatenate(parts))


def _score(cand: np.ndarray, lists: list[_QueryList]) -> np.ndarray:
    """Exact scores of `cand` (sorted, distinct, int32) by binary search in each term's postings."""
    scores = np.zeros(len(cand), dtype=np.float64)
    if not len(cand):
        return scores
    for ql in lists:
        pos = np.searchsorted(ql.ids, cand)
        np.minimum(pos, len(ql.ids) - 1, out=pos)
        hit = ql.ids[pos] == cand
        w = ql.w[pos[hit]].astype(np.float64)
        scores[hit] += w if ql.mult == 1 else w * ql.mult
    return scores


def _kth_largest(values: np.ndarray, k: int) -> float:
    return float(np.partition(values, len(values) - k)[len(values) - k])


def _select(cand: np.ndarray, vals: np.ndarray, want: int, offset: int) -> list[tuple[int, float]]:
    """The best `want` of the candidates by (score desc, passage asc), from `offset` on."""
    if len(cand) > want:
        part = np.argpartition(-vals, want - 1)[:want]
        # keep every candidate tied with the cut-off so ties break by passage order
        cut = vals[part].min()
        part = np.flatnonzero(vals >= cut)
        cand, vals = cand[part], vals[part]
    order = np.lexsort((cand, -vals))[offset:want]
    return [(int(cand[i]), float(vals[i])) for i in order]


def term_bounds(indptr: np.ndarray, doc_ids: np.ndarray, weights: np.ndarray):
    """Per term: the largest weight; and for terms with many postings, the positions of the best ones.

    Champions are ordered by weight descending, then passage ascending: for a one-term query the best k
    passages (ties broken by passage order) are their first k.
    """
    n_terms = len(indptr) - 1
    df = np.diff(indptr)
    max_w = np.zeros(n_terms, dtype=np.float32)
    nonempty = np.flatnonzero(df > 0)
    if len(nonempty):
        max_w[nonempty] = np.maximum.reduceat(weights, indptr[:-1][nonempty])
    champ_terms = np.flatnonzero(df > CHAMPIONS).astype(np.int32)
    champ_pos = np.zeros((len(champ_terms), CHAMPIONS), dtype=np.int32)
    for i, tid in enumerate(champ_terms.tolist()):
        a, b = int(indptr[tid]), int(indptr[tid + 1])
        w = weights[a:b]
        part = np.argpartition(-w, CHAMPIONS - 1)[:CHAMPIONS]
        cut = w[part].min()
        tied = np.flatnonzero(w >= cut)  # all passages tied with the cut, so ties break by passage order
        best = tied[np.lexsort((tied, -w[tied]))][:CHAMPIONS]
        champ_pos[i] = best
    return max_w, champ_terms, champ_pos


# --- building --------------------------------------------------------------------------------------


class IndexBuilder:
    """Collects passages' terms, then builds the postings in a few vectorized passes.

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

    def build(self) -> Index:
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
        return _postings(vocab, chunks, doc_len, self.settings)


_STEP = 1 << 22  # tokens (or postings) per slice in the vectorized passes of _postings


def _postings(
    vocab: dict[str, int],
    term_ids: np.ndarray | list[np.ndarray],
    doc_len: np.ndarray,
    settings: ScoringSettings,
) -> Index:
    """The index of token term ids (passage after passage, `doc_len[i]` tokens for passage i).

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
    n = sum(len(c) for c in chunks)
    key = np.empty(n, dtype=np.int64)
    at = 0
    while chunks:
        c = chunks.pop(0)
        key[at : at + len(c)] = c
        at += len(c)
        del c
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
    bounds = list(range(0, n, step)) + [n]

    def new_run(a: int, b: int) -> np.ndarray:
        return key[a:b] != (key[a - 1 : b - 1] if a else np.concatenate(([-1], key[: b - 1])))

    counts = [int(np.count_nonzero(new_run(a, b))) for a, b in zip(bounds[:-1], bounds[1:])]
    n_post = sum(counts)
    tf = np.empty(n_post, dtype=np.int32)
    at = 0
    for (a, b), c in zip(zip(bounds[:-1], bounds[1:]), counts):
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
    return Index(vocab, indptr, post_doc, weights, doc_len.astype(np.int32), idf.astype(np.float32), settings)


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
