"""The BM25 index: postings in compressed-sparse-row form, one weight per (term, passage).

BM25 scores are sums over query terms of a weight that depends only on the term and the passage, so
the weights are computed once at build time and a query only adds up the postings of its own terms
(never a pass over every passage in Python). The weights of each variant are in `bot.scoring`; the
vectorized build is in `bot.postings` (`IndexBuilder` below makes an `Index` of it).

Top-k is exact but does not always read every posting of every query term (see `Index.top`): each term
keeps its maximum weight and its best postings ("champions"), which give a lower bound on the k-th best
score; terms whose weights cannot lift a passage past it are only looked up for the few candidates.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from bot.arrays import unique
from bot.postings import Postings, PostingsBuilder
from bot.scoring import VARIANTS, ScoringSettings, idf_weights, tf_weights

__all__ = [
    "BUILD_VERSION",
    "CHAMPIONS",
    "SEED_ALL",
    "VARIANTS",
    "Index",
    "IndexBuilder",
    "ScoringSettings",
    "idf_weights",
    "term_bounds",
    "tf_weights",
]

# Bump when what a build writes changes (postings, weights, bounds): persisted indexes are rebuilt.
BUILD_VERSION = 1

CHAMPIONS = 64  # best postings kept per term, for terms with more postings than that
SEED_ALL = 2048  # a query term with at most this many postings seeds the threshold with all of them


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

    @classmethod
    def from_postings(cls, p: Postings) -> Index:
        return cls(p.vocab, p.indptr, p.doc_ids, p.weights, p.doc_len, p.idf, p.settings)

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
        seeds, partial = [], []  # partial: the terms whose postings are not all in the seed
        for ql in lists:
            champ = self._champions(ql) if len(ql.ids) > SEED_ALL else None
            if champ is None:
                seeds.append(ql.ids)
                ql.seeded = True
            else:
                seeds.append(ql.ids[champ])
                ql.floor = float(ql.w[champ[-1]])  # postings weighing more than this are all champions
                partial.append(ql)
        if not partial:  # every posting of every term is in the seed: the seed is the answer
            seed = _union(seeds)
            return _select(seed, _score(seed, lists, seed=True), want, offset)
        in_order = list(lists)  # (the dense fallback adds the terms up in the query's order)
        lists.sort(key=lambda ql: ql.ub)
        partial.sort(key=lambda ql: ql.ub)
        seed = _union(seeds)
        seed_scores = _score(seed, lists, seed=True)
        theta = _kth_largest(seed_scores, want) if len(seed) >= want else -np.inf
        if theta == -np.inf:
            return self._top_dense(in_order, want, offset)

        # 2. MaxScore over the passages outside the seed: they have none of the seeded terms, so only the
        # partial terms count. Non-essential terms: ascending bounds whose sum stays below theta.
        slack = 1e-9 * abs(theta)
        total_ub = sum(ql.ub for ql in partial)
        cum, n_ne = 0.0, 0
        for ql in partial:
            if cum + ql.ub + slack < theta:
                cum += ql.ub
                n_ne += 1
            else:
                break
        essential = partial[n_ne:]
        kept, n_kept = [], 0
        source: tuple[_QueryList, np.ndarray | None] | None = None  # (the term of the last candidates)
        for ql in essential:
            need = theta - (total_ub - ql.ub) - slack  # this term's weight a candidate needs at least
            if need > ql.floor * ql.mult * (1 + 1e-6):  # (a margin for float32 rounding)
                continue  # only champions weigh that much: they are in the seed
            if need > 0:
                picked = np.flatnonzero(ql.w * ql.mult >= need) if ql.mult != 1 else np.flatnonzero(ql.w >= need)
                sel, source = ql.ids[picked], (ql, picked)
            else:
                sel, source = ql.ids, (ql, None)
            kept.append(sel)
            n_kept += len(sel)
        if not kept:
            return _select(seed, seed_scores, want, offset, cut=theta)

        # 3. exact scores of the candidates: by lookups, or summed densely when there are many
        lookups = n_kept * sum(_log2(len(ql.ids)) for ql in lists)
        dense = sum(len(ql.ids) for ql in lists) * _DENSE_COST
        if lookups <= dense:
            if len(kept) == 1 and source is not None:  # (one term's candidates: their weights there are known)
                term, where = source
                weights = term.w if where is None else term.w[where]
                cand, scores = kept[0], _score(kept[0], lists, known=(term, weights))
            else:
                cand = _union(kept)
                scores = _score(cand, lists)
            found = _select(cand, scores, want, offset=0)
        else:
            found = self._top_dense(lists, want, 0, theta=theta, essential=essential)
        return _merge_top(_select(seed, seed_scores, want, 0, cut=theta), found, want, offset)

    # -- top-k internals ------------------------------------------------------------------------------

    def _query_lists(self, query_terms: Sequence[str]) -> list[_QueryList]:
        mult: dict[int, int] = {}
        for t in query_terms:
            tid = self.vocab.get(t)
            if tid is not None:
                mult[tid] = mult.get(tid, 0) + 1
        out = []
        for tid, m in mult.items():
            a, b = self.indptr[tid : tid + 2].tolist()
            if b > a:
                out.append(_QueryList(tid, self.doc_ids[a:b], self.weights[a:b], m, float(self.max_w[tid]) * m))
        return out

    def _champions(self, ql: _QueryList) -> np.ndarray | None:
        """Positions (in the term's list) of its best postings, best first; None for a short list."""
        # (the id as the array's own type: a Python int makes numpy convert the whole array first)
        i = int(self.champ_terms.searchsorted(self.champ_terms.dtype.type(ql.tid)))
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
            for ql in lists:  # (ufunc.at of float64 weights: one pass, where acc[ids] += w makes three)
                w = ql.w.astype(np.float64)
                np.add.at(acc, ql.ids, w if ql.mult == 1 else w * ql.mult)
            sources = essential if essential is not None else lists
            if len(sources) == 1 and theta == -np.inf:
                cand = sources[0].ids
                vals = acc[cand]
            else:
                # a better bound: the want-th best of the longest source (its passages are distinct)
                longest = max(sources, key=lambda ql: len(ql.ids))
                longest_vals = acc[longest.ids] if len(longest.ids) >= want else None
                if longest_vals is not None:
                    theta = max(theta, _kth_largest(longest_vals, want))
                parts = []
                for ql in sources:
                    v = longest_vals if ql is longest and longest_vals is not None else acc[ql.ids]
                    parts.append(ql.ids[v >= theta] if theta > -np.inf else ql.ids)
                cand = _union(parts)
                vals = acc[cand]
        finally:
            if sum(len(ql.ids) for ql in lists) > len(acc) // 10:
                acc.fill(0.0)  # (cheaper than zeroing that many scattered entries)
            else:
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
    floor: float = 0.0  # (a term with champions) the weight of its last champion
    seeded: bool = False  # all its postings are in the seed


_DENSE_COST = 8.0  # one posting summed densely costs about as much as 8 binary-search steps
_EMPTY_IDS = np.zeros(0, dtype=np.int32)
_EMPTY_W = np.zeros(0, dtype=np.float32)


def _log2(n: int) -> float:
    return float(max(1, int(n).bit_length()))


def _union(parts: list[np.ndarray]) -> np.ndarray:
    if len(parts) == 1:
        return parts[0]
    return unique(np.concatenate(parts))


def _score(
    cand: np.ndarray,
    lists: list[_QueryList],
    seed: bool = False,
    known: tuple[_QueryList, np.ndarray] | None = None,
) -> np.ndarray:
    """Exact scores of `cand` (sorted, distinct, int32) by binary search in each term's postings (or of
    a term's postings in `cand`, when it has fewer: a rare term's few postings are all in the seed).
    `seed`: `cand` is the seed, which holds every posting of the terms marked `seeded`. `known`: a term of
    `lists` and its weight in each of `cand` (all among its postings), added in its turn without a search."""
    scores = np.zeros(len(cand), dtype=np.float64)
    if not len(cand):
        return scores
    for ql in lists:
        if known is not None and ql is known[0]:
            w = known[1]
            scores += w if ql.mult == 1 else w.astype(np.float64) * ql.mult
            continue
        all_in = seed and ql.seeded  # every posting is in `cand`: none needs checking
        if all_in or len(ql.ids) < len(cand):
            at = cand.searchsorted(ql.ids)
            w = ql.w  # (float32: added to float64 scores exactly)
            if not all_in:
                np.minimum(at, len(cand) - 1, out=at)
                found = cand[at] == ql.ids
                at, w = at[found], w[found]
            scores[at] += w if ql.mult == 1 else w.astype(np.float64) * ql.mult
            continue
        pos = ql.ids.searchsorted(cand)
        np.minimum(pos, len(ql.ids) - 1, out=pos)
        hit = np.flatnonzero(ql.ids[pos] == cand)  # (positions once: a boolean mask is searched at each use)
        w = ql.w[pos[hit]]
        scores[hit] += w if ql.mult == 1 else w.astype(np.float64) * ql.mult
    return scores


def _merge_top(a: list[tuple[int, float]], b: list[tuple[int, float]], want: int, offset: int):
    """The best `want` of two best-first lists (a passage in both has the same score in both), from `offset`."""
    merged = dict(a)
    merged.update(b)
    return sorted(merged.items(), key=_best_first)[offset:want]


def _kth_largest(values: np.ndarray, k: int) -> float:
    return float(np.partition(values, len(values) - k)[len(values) - k])


def _select(
    cand: np.ndarray, vals: np.ndarray, want: int, offset: int, cut: float | None = None
) -> list[tuple[int, float]]:
    """The best `want` of the candidates by (score desc, passage asc), from `offset` on (`cut`: the want-th
    best of `vals` when the caller has it already)."""
    if len(cand) > want:
        # keep every candidate tied with the cut-off so ties break by passage order
        part = np.flatnonzero(vals >= (_kth_largest(vals, want) if cut is None else cut))
        cand, vals = cand[part], vals[part]
    if len(cand) > 64:  # (many tied at the cut)
        order = np.lexsort((cand, -vals))[offset:want]
        return list(zip(cand[order].tolist(), vals[order].tolist()))
    # (usually about `want` of them: sorting Python tuples beats numpy's per-call cost)
    return sorted(zip(cand.tolist(), vals.tolist()), key=_best_first)[offset:want]


def _best_first(hit: tuple[int, float]) -> tuple[float, int]:
    return -hit[1], hit[0]


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


class IndexBuilder(PostingsBuilder):
    """Collects passages' terms (`add_terms`, `add_text`, `add_ids`; see `bot.postings`), then `build()`s the
    `Index`."""

    def build(self) -> Index:
        return Index.from_postings(self.postings())
