"""best_sentence scores only the sentences that hold matches: the same choice as scoring every sentence."""

from __future__ import annotations

from itertools import pairwise

from hypothesis import example, given, settings
from hypothesis import strategies as st

from bot.analysis import Token
from bot.window import _terms_per_sentence, best_sentence


def every_sentence_scored(sentences, matched, idf, lo, hi):
    """best_sentence as it was: the distinct terms' idf summed for every sentence inside [lo, hi)."""
    inside = [(s, e) for s, e in sentences if s >= lo and e <= hi]
    if not inside:
        return None
    per: list[set[str]] = [set() for _ in inside]
    i = 0
    for t in sorted(matched, key=lambda t: t.start):
        while i < len(inside) and inside[i][1] <= t.start:
            i += 1
        if i == len(inside):
            break
        if t.start >= inside[i][0]:
            per[i].add(t.term)
    scores = [sum(idf.get(t, 0.0) for t in ts) for ts in per]
    return inside[max(range(len(inside)), key=lambda i: (scores[i], -i))]


@st.composite
def cases(draw):
    cuts = sorted(set(draw(st.lists(st.integers(0, 300), max_size=16))))
    sentences = list(pairwise(cuts))[:: draw(st.sampled_from([1, 2]))]  # (every other one: gaps)
    terms = draw(st.lists(st.sampled_from("abcdefgh"), min_size=1, max_size=8, unique=True))
    matched = [
        Token(draw(st.sampled_from(terms)), start, start + draw(st.integers(1, 9)))
        for start in draw(st.lists(st.integers(0, 310), max_size=20))
    ]
    weights = st.sampled_from([0.0, 1.0, 0.1, 0.2, -0.5, -1.0]) | st.floats(-2, 9, allow_nan=False)  # (idf may be < 0)
    idf = {t: draw(weights) for t in terms if draw(st.integers(0, 5))}  # sometimes a term has none
    lo = draw(st.integers(0, 310))
    hi = draw(st.integers(lo, 320) | st.just(320))
    if draw(st.booleans()):
        lo, hi = 0, 320
    return sentences, matched, idf, lo, hi


@given(cases())
@settings(max_examples=400, deadline=None)
# the first sentence without matches (the third) ties at 0 with the first, whose term has no idf: the first wins
@example(([(0, 10), (10, 20), (20, 30)], [Token("a", 1, 2), Token("b", 11, 12)], {"b": -0.5}, 0, 30))
def test_best_sentence_is_the_one_every_sentence_scored_gives(case):
    sentences, matched, idf, lo, hi = case
    assert best_sentence(sentences, matched, idf, lo, hi) == every_sentence_scored(sentences, matched, idf, lo, hi)


@given(cases())
@settings(max_examples=300, deadline=None)
def test_terms_per_sentence_holds_each_sentences_distinct_terms(case):
    sentences, matched, _, _, _ = case
    per = _terms_per_sentence(sentences, matched)
    assert per == [{t.term for t in matched if s <= t.start < e} for s, e in sentences]
