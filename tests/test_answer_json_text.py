"""answer_json_text writes the `--json` line itself: exactly the text json.dumps gives for answer_json."""

from __future__ import annotations

import json

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.articles import Article
from bot.passages import Passage
from bot.render import answer_json, answer_json_text
from bot.search import Answer, Hit

# any text: quotes, backslashes, control characters, line separators, lone surrogates, astral characters
texts = st.text(st.characters(codec=None), max_size=30) | st.sampled_from(['"', "\\", "\x00\x1f\x7f", "\u2028\x85"])
maybe = st.none() | texts
ints = st.integers(0, 2**40)
scores = (
    st.sampled_from([float("nan"), float("inf"), -float("inf"), 1e16, 1e-7])
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.floats(0, 50, allow_nan=False)
    | st.floats(0, 2).map(np.float64)
    | st.integers(-5, 5)
)


@st.composite
def hits(draw, rank: int) -> Hit:
    text = draw(texts)
    a, b = sorted(draw(st.tuples(st.integers(0, len(text)), st.integers(0, len(text)))))
    article = Article(
        id=draw(texts), title=draw(texts), paragraphs=[text], author=draw(maybe), source=draw(maybe),
        url=draw(maybe), published=draw(maybe), lang=draw(st.none() | st.sampled_from(["en", "de", "zh"])),
    )  # fmt: skip
    index = draw(st.integers(0, 9))
    passage = Passage(draw(ints), index, index + draw(st.integers(1, 9)), draw(ints), draw(ints))
    spans = draw(st.lists(st.tuples(ints, ints), max_size=4))
    return Hit(rank, draw(scores), passage, article, text, (a, b), spans, draw(ints), draw(ints))


@st.composite
def answers(draw) -> Answer:
    n = draw(st.integers(0, 4))
    return Answer(draw(texts), [draw(hits(rank)) for rank in range(1, n + 1)], more=draw(st.booleans()))


@given(answers())
@settings(max_examples=200, deadline=None)
def test_the_text_is_what_json_dumps_writes(answer):
    assert answer_json_text(answer) == json.dumps(answer_json(answer), ensure_ascii=False)


def test_an_empty_answer():
    assert answer_json_text(Answer("", [])) == '{"query": "", "hits": []}'
