"""The index against rank-bm25 itself, on generated corpora (the habit of bm25s' comparison tests)."""

import math
import random

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rank_bm25 import BM25Okapi

from bot.index import Index, ScoringSettings


def generated_corpus(seed: int, n_docs: int, vocab: int, max_len: int = 40) -> list[list[str]]:
    """Zipf-like term draws: a few very common terms (negative idf in BM25Okapi), a long tail."""
    rng = random.Random(seed)
    words = [f"w{i}" for i in range(vocab)]
    weights = [1.0 / (i + 1) for i in range(vocab)]
    return [rng.choices(words, weights, k=rng.randint(1, max_len)) for _ in range(n_docs)]


@pytest.mark.parametrize("seed,n_docs,vocab", [(0, 1, 5), (1, 3, 4), (2, 50, 30), (3, 400, 500), (4, 1000, 2000)])
@pytest.mark.parametrize("k1,b,eps", [(1.5, 0.75, 0.25), (1.2, 0.3, 0.1), (0.9, 1.0, 0.5)])
def test_okapi_scores_equal_rank_bm25(seed, n_docs, vocab, k1, b, eps):
    docs = generated_corpus(seed, n_docs, vocab)
    ref = BM25Okapi(docs, k1=k1, b=b, epsilon=eps)
    ours = Index.build(docs, ScoringSettings(variant="okapi", k1=k1, b=b, epsilon=eps))
    rng = random.Random(seed + 100)
    for _ in range(20):
        query = rng.choices([f"w{i}" for i in range(vocab + 5)], k=rng.randint(1, 6))  # some unknown terms
        np.testing.assert_allclose(ours.get_scores(query), ref.get_scores(query), rtol=1e-5, atol=1e-5)


def test_top_ranks_like_rank_bm25_and_only_matching_passages():
    docs = generated_corpus(7, 600, 800)
    ref = BM25Okapi(docs)
    ours = Index.build(docs, ScoringSettings(variant="okapi"))
    rng = random.Random(8)
    for _ in range(50):
        query = rng.choices([f"w{i}" for i in range(50, 900)], k=rng.randint(1, 4))
        expected = ref.get_scores(query)
        got = ours.top(query, 10)
        touching = {i for i, d in enumerate(docs) if set(d) & set(query)}
        assert {pid for pid, _ in got} <= touching
        assert len(got) == min(10, len(touching))
        # same scores in the same order as sorting rank-bm25's scores of the touching passages
        want = sorted(touching, key=lambda i: (-expected[i], i))[:10]
        np.testing.assert_allclose([s for _, s in got], [expected[i] for i in want], rtol=1e-5, atol=1e-6)


def test_paging_is_a_continuation():
    docs = generated_corpus(9, 300, 100)
    idx = Index.build(docs, ScoringSettings())
    query = ["w3", "w10"]
    whole = idx.top(query, 12)
    assert idx.top(query, 4) + idx.top(query, 4, offset=4) + idx.top(query, 4, offset=8) == whole


def test_no_shared_term_means_no_hits():
    idx = Index.build([["a", "b"], ["c"]], ScoringSettings())
    assert idx.top(["zzz"], 5) == []
    assert idx.top([], 5) == []


def test_plus_follows_the_paper_not_rank_bm25():
    """BM25+ adds delta only for terms the passage contains; passages without the term score 0."""
    docs = [["x", "y"], ["y", "z", "z"], ["q"]]
    s = ScoringSettings(variant="plus", k1=1.2, b=0.75, delta=1.0)
    idx = Index.build(docs, s)
    scores = idx.get_scores(["z"])
    assert scores[0] == 0 and scores[2] == 0
    n, df, avgdl = 3, 1, 2.0
    tf, dl = 2, 3
    expected = math.log((n + 1) / df) * (tf * (s.k1 + 1) / (tf + s.k1 * (1 - s.b + s.b * dl / avgdl)) + s.delta)
    assert scores[1] == pytest.approx(expected, rel=1e-6)


def test_l_follows_the_paper():
    docs = [["x", "y"], ["y", "z", "z"], ["q"]]
    s = ScoringSettings(variant="l", k1=1.2, b=0.75, delta=0.5)
    scores = Index.build(docs, s).get_scores(["z"])
    ctd = 2 / (1 - s.b + s.b * 3 / 2.0)
    expected = math.log(4 / 1.5) * (s.k1 + 1) * (ctd + s.delta) / (s.k1 + ctd + s.delta)
    assert scores[1] == pytest.approx(expected, rel=1e-6)
    assert scores[0] == 0


def test_unknown_variant_is_refused():
    with pytest.raises(ValueError, match="unknown BM25 variant"):
        ScoringSettings(variant="bm99")


def _brute_top(idx: Index, query: list[str], k: int, offset: int) -> list[tuple[int, float]]:
    """`get_scores`' passages that share a term with the query, best first, ties by passage order."""
    scores = idx.get_scores(query)
    touching = {int(i) for t in query for i in idx.postings(t)[0]}
    order = sorted(touching, key=lambda i: (-scores[i], i))
    return [(i, float(scores[i])) for i in order[offset : offset + k]]


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    champions=st.sampled_from([2, 4, 16]),
    seed_all=st.sampled_from([3, 8, 40]),
    dense_cost=st.sampled_from([0.0, 8.0, 1e12]),
)
def test_pruned_top_equals_the_dense_ordering(seed, champions, seed_all, dense_cost):
    """Every way `top` can take (the seed alone, champions skipped, lookups, dense) gives `get_scores`' order:
    a few very common terms (many postings, champions), many rare ones (seeded whole), repeated query terms."""
    import bot.index as index_mod

    rng = random.Random(seed)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(index_mod, "CHAMPIONS", champions)
        mp.setattr(index_mod, "SEED_ALL", seed_all)
        mp.setattr(index_mod, "_DENSE_COST", dense_cost)
        _check_top(rng, seed)


def _check_top(rng: random.Random, seed: int) -> None:
    docs = generated_corpus(seed, rng.choice([30, 200, 600]), rng.choice([20, 80, 300]), max_len=rng.choice([5, 30]))
    idx = Index.build(docs, ScoringSettings(variant=rng.choice(["plus", "lucene", "l"])))
    vocab = sorted({t for d in docs for t in d}, key=lambda t: int(t[1:]))
    for _ in range(15):
        query = rng.choices(vocab[: rng.choice([3, 10, len(vocab)])], k=rng.randint(1, 6))
        k, offset = rng.choice([1, 3, 10]), rng.choice([0, 0, 2])
        assert idx.top(query, k, offset) == _brute_top(idx, query, k, offset), (query, k, offset)
