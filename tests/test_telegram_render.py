"""Telegram HTML: escaping, marks, attribution, and the 4096 limit, checked with the fake's
port of Telegram's own HTML parser."""

from __future__ import annotations

import pytest

from bot.articles import Article
from bot.render import (
    TELEGRAM_LIMIT,
    html_answer,
    html_article,
    html_nothing_found,
    html_reload_summary,
    html_sources,
    html_styled,
    html_welcome,
    tg_len,
)
from bot.search import Engine, SearchSettings
from tests.fakebotapi import parse_html

NASTY = 'Tom & Jerry <script>alert("x")</script> 5 > 3 &amp; 😀 '


def article(paragraphs: list[str], **kw) -> Article:
    meta = dict(
        id="a1",
        title=f"Title {NASTY}",
        author="A & B",
        source="<Outlet>",
        url='https://x.org/?a=1&b="2"',
        published="2024-01-02",
        lang="en",
    )
    meta.update(kw)
    return Article(paragraphs=paragraphs, **meta)


def parsed(text: str) -> tuple[str, list[dict]]:
    assert tg_len(text) <= TELEGRAM_LIMIT
    plain, entities = parse_html(text)  # raises like Telegram's "can't parse entities"
    return plain, entities


def test_styled_nests_bold_inside_italic_across_boundaries():
    text = "one two three four five"
    out = html_styled(text, [(4, 13), (19, 23)], italic=(8, 23))
    assert out == "one <b>two </b><i><b>three</b> four <b>five</b></i>"
    parsed(out)


def test_answer_escapes_everything_and_keeps_entities_valid():
    para = f"{NASTY} The wind turbines turned. {NASTY} Turbines again & again."
    engine = Engine.build([article([para] * 3)], SearchSettings())
    answer = engine.ask("wind turbines", k=3)
    text = html_answer(answer)
    plain, entities = parsed(text)
    assert '<script>alert("x")</script>' in plain and "Title Tom & Jerry" in plain
    assert "— A & B, <Outlet>, 2024-01-02 · ¶ 1 of" in plain
    link = next(e for e in entities if e["type"] == "text_link")
    assert link["url"] == "https://x.org/?a=1&b=%222%22"
    assert {"bold", "italic"} <= {e["type"] for e in entities}


@pytest.mark.parametrize("k", [1, 3, 10])
def test_answer_never_exceeds_the_limit(k):
    sentence = f"Wind & turbines <here> {NASTY}. "
    big = [sentence * 140] * 12  # paragraphs of ~8 000 characters, passages of up to 5 000
    huge = article(big, title="T" * 5000, url="https://x.org/" + "p" * 3000)
    engine = Engine.build([huge], SearchSettings(passage_chars=5000))
    answer = engine.ask("wind turbines", k=k)
    assert len(answer.hits) == k
    text = html_answer(answer)
    plain, _ = parsed(text)
    assert plain.count("¶") == k  # every hit keeps its attribution
    for rank in range(1, k + 1):
        assert f"{rank}. " in plain


def test_article_is_split_at_paragraphs_within_the_limit():
    paragraphs = [f"Paragraph {i} {NASTY}" + "x" * 900 for i in range(20)] + ["word " * 3000]
    parts = html_article(article(paragraphs))
    assert len(parts) > 5
    plains = [parsed(p)[0] for p in parts]
    for i in range(20):
        assert sum(f"Paragraph {i} " in p for p in plains) == 1
    assert plains[0].startswith("Title Tom & Jerry")


def test_other_messages_are_valid_html():
    a = article(["Body."])
    for text in (
        html_nothing_found(NASTY * 50, 3, [NASTY] * 3),
        html_welcome(3, 10, [a, a], ["What about " + NASTY + "?"], "my_bot"),
        html_sources([(i, a) for i in range(1, 11)], 0, 2, 12),
        html_reload_summary(True, (1, 6), (2, 7), 0.5, [("bad<1>.json", NASTY)] * 20),
        html_reload_summary(False, (1, 6), None, 0.5, [], error=NASTY, coalesced=True),
    ):
        parsed(text)
