"""What a user reads of a passage: a window of whole sentences around the question's words.

A passage is scored whole (a paragraph), but a long paragraph is more than a chat message should show.
The window is the run of consecutive sentences, at most `budget` characters, with the best score: the idf
of the question's distinct terms it holds (coverage), plus DENSITY times the sum over its sentences of
each sentence's own distinct terms' idf (density: a run where the question's words come back sentence
after sentence is where a question is answered, not a run that merely touches each word once). Ties go to
the run with the best single sentence, then to the earliest. A paragraph that fits the budget is shown
whole. A single sentence longer than the budget (some scripts have no sentence punctuation) is cut at
spaces around its densest stretch of matches.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from operator import attrgetter

from bot.analysis import Token

DENSITY = 1.0  # weight of the density term (docs/quality.md: chosen by halves)
_START = attrgetter("start")


def best_window(
    text: str,
    sentences: Sequence[tuple[int, int]],
    matched: Sequence[Token],
    idf: Mapping[str, float],
    budget: int,
) -> tuple[int, int]:
    """(start, end) in `text` of the window to show; `matched` are the question's terms found in it."""
    if len(text) <= budget or not sentences:
        return (0, len(text))
    per = _terms_per_sentence(sentences, matched)
    single = [sum(idf.get(t, 0.0) for t in ts) for ts in per]
    best, best_key = (0, 0), (-1.0, -1.0, 0)
    n = len(sentences)
    j = 0
    for i in range(n):
        j = max(j, i)
        while j + 1 < n and sentences[j + 1][1] - sentences[i][0] <= budget:
            j += 1
        covered = set().union(*per[i : j + 1])
        score = sum(idf.get(t, 0.0) for t in covered) + DENSITY * sum(single[i : j + 1])
        key = (round(score, 9), max(single[i : j + 1]), -i)  # rounded: sums in another order tie as they should
        if key > best_key:
            best, best_key = (i, j), key
    start, end = sentences[best[0]][0], sentences[best[1]][1]
    if end - start > budget:
        return _clause(text, start, end, matched, idf, budget)
    return (start, end)


def best_sentence(
    sentences: Sequence[tuple[int, int]], matched: Sequence[Token], idf: Mapping[str, float], lo: int, hi: int
) -> tuple[int, int] | None:
    """The sentence within [lo, hi) holding the rarest question terms (sum of idf of distinct ones); the
    first of the best."""
    if sentences and lo <= sentences[0][0] and sentences[-1][1] <= hi:
        inside = sentences  # (the usual case: the window is the whole passage)
    else:
        inside = [(s, e) for s, e in sentences if s >= lo and e <= hi]
    if not inside:
        return None
    # only the sentences with matches are scored; of the others (score 0) the first competes: the first number
    # missing from `per`'s keys (they come in increasing order)
    per = _terms_of_sentences(inside, matched)
    best = 0
    for i in per:
        if i != best:
            break
        best += 1
    if best < len(inside):
        best_key: tuple[float, int] = (0, -best)
    else:
        best, best_key = -1, (0.0, 0)
    get = idf.get
    for i, ts in per.items():
        key = (sum([get(t, 0.0) for t in ts]), -i)
        if best < 0 or key > best_key:
            best, best_key = i, key
    return inside[best]


def _terms_per_sentence(sentences: Sequence[tuple[int, int]], matched: Sequence[Token]) -> list[set[str]]:
    per: list[set[str]] = [set() for _ in sentences]
    for i, ts in _terms_of_sentences(sentences, matched).items():
        per[i] = ts
    return per


def _terms_of_sentences(sentences: Sequence[tuple[int, int]], matched: Sequence[Token]) -> dict[int, set[str]]:
    """The distinct terms of `matched` in each sentence that has any (by the sentence's number)."""
    per: dict[int, set[str]] = {}
    i, n = 0, len(sentences)
    for t in sorted(matched, key=_START):
        start = t.start
        while i < n and sentences[i][1] <= start:
            i += 1
        if i == n:
            break
        if start >= sentences[i][0]:
            if i in per:
                per[i].add(t.term)
            else:
                per[i] = {t.term}
    return per


def _clause(
    text: str, start: int, end: int, matched: Sequence[Token], idf: Mapping[str, float], budget: int
) -> tuple[int, int]:
    """A `budget`-long stretch of text[start:end] with the most distinct matched terms, cut at spaces."""
    inside = sorted((t for t in matched if start <= t.start and t.end <= end), key=lambda t: t.start)
    lo = start
    if inside:
        best_score = -1.0
        for a, first in enumerate(inside):
            terms = {t.term for t in inside[a:] if t.end - first.start <= budget}
            score = sum(idf.get(t, 0.0) for t in terms)
            if score > best_score:
                best_score, lo = score, first.start
        # centre the matches: start half of the slack before the first of them
        last = max((t.end for t in inside if t.start >= lo and t.end - lo <= budget), default=lo)
        lo = max(start, lo - (budget - (last - lo)) // 2)
    hi = min(end, lo + budget)
    lo = max(start, hi - budget)
    if lo > start:  # move forward to a word boundary
        space = text.find(" ", lo, hi)
        lo = space + 1 if space != -1 else lo
    if hi < end:  # and back
        space = text.rfind(" ", lo, hi)
        hi = space if space > lo else hi
    return (lo, hi)
