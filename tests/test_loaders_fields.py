"""Dates in ISO 8601 (impossible ones dropped with a warning), titles and stable ids for untitled articles."""

from __future__ import annotations

import json
import logging
import re

import pytest

from bot.articles import load_corpus, parse_bytes
from bot.loaders.fields import title_from_text

BODY = "Grey wolves returned to the Bialowieza forest in 2010. Rangers counted forty animals last winter."


def jsonl(*objs: dict) -> str:
    return "\n".join(json.dumps(o) for o in objs) + "\n"


def test_impossible_dates_are_dropped_with_a_warning_naming_the_file(tmp_path, caplog):
    (tmp_path / "feed.jsonl").write_text(
        jsonl(
            {"title": "A", "text": "Text A.", "published": "2024-02-30"},
            {"title": "B", "text": "Text B.", "date": "03/04/2024"},
            {"title": "C", "text": "Text C.", "published": "last Tuesday"},
        )
    )
    (tmp_path / "bad_date.md").write_text("---\ntitle: D\ndate: 2020-02-30\n---\nText D.\n")
    (tmp_path / "time.md").write_text(
        "---\ntitle: E\ndate: 2019-12-09 10:30:00\nx: 2001-01-01 25:00:00\n---\nText E.\n"
    )
    (tmp_path / "f.txt").write_text("Date: 2019-13-01\nTitle: F\n\nText F.\n")
    with caplog.at_level(logging.WARNING, logger="bot.articles"):
        result = load_corpus(tmp_path)
    published = {a.title: a.published for a in result.articles}
    assert published == {"A": None, "B": "2024-03-04", "C": None, "D": None, "E": "2019-12-09", "F": None}
    assert result.skipped == []  # the articles stay; only the dates go
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    # named as the skip report names files
    assert f"{tmp_path}/feed.jsonl:1: dropping the date '2024-02-30' (impossible date)" in warnings
    assert f"{tmp_path}/feed.jsonl:3: dropping the date 'last Tuesday' (not a date we can read)" in warnings
    assert f"{tmp_path}/bad_date.md: dropping the date '2020-02-30' (impossible date)" in warnings
    assert f"{tmp_path}/f.txt: dropping the date '2019-13-01' (impossible date)" in warnings
    assert len(warnings) == 4


def test_an_upload_with_an_impossible_date_is_named_by_its_upload_name(caplog):
    with caplog.at_level(logging.WARNING, logger="bot.articles"):
        [article] = parse_bytes("upload.jsonl", jsonl({"text": "x", "date": "2023-02-29"}).encode())
    assert article.published is None
    assert "upload.jsonl:1: dropping the date '2023-02-29' (impossible date)" in caplog.text


def test_dates_of_every_format_come_out_as_iso_8601():
    cases = {
        "a.json": json.dumps({"text": "x", "date": "Mon, 09 Dec 2019 08:30:00 +0300"}),
        "b.jsonl": json.dumps({"text": "x", "published": "9 December 2019"}),
        "c.md": "---\ndate: 09.12.2019\n---\nx\n",
        "d.txt": "Published: 2019-12-09T23:30:00+03:00\nTitle: T\n\nx\n",
        "e.json": json.dumps({"text": "x", "published": 1575900000}),
    }
    for name, text in cases.items():
        [article] = parse_bytes(name, text.encode())
        assert article.published == "2019-12-09", name


@pytest.mark.parametrize(
    "paragraphs, title",
    [
        ([BODY], "Grey wolves returned to the Bialowieza forest in 2010"),
        (
            ["Dr. Ann Smith said the council will meet again on Monday. More later."],
            "Dr. Ann Smith said the council will meet again on Monday",
        ),
        (
            ["Why did the ferry stop running after ten years of service? Nobody knows."],
            "Why did the ferry stop running after ten years of service?",
        ),
        (["A short one"], "A short one"),
        (["word " * 40], "word word word word word word word word word word word word word word word word…"),
        (["x" * 200], "x" * 80 + "…"),
    ],
)
def test_titles_from_the_text(paragraphs, title):
    assert title_from_text([" ".join(p.split()) for p in paragraphs]) == title


def test_untitled_json_articles_are_titled_from_their_text_not_their_file():
    lines = parse_bytes("feed.jsonl", jsonl({"text": BODY}, {"paragraphs": ["Short text.", "Second."]}).encode())
    assert [a.title for a in lines] == ["Grey wolves returned to the Bialowieza forest in 2010", "Short text"]
    [single] = parse_bytes("report.json", json.dumps({"text": BODY}).encode())
    assert single.title == "Grey wolves returned to the Bialowieza forest in 2010"
    [md] = parse_bytes("notes-on-wolves.md", BODY.encode())  # a single document keeps its file's name
    assert md.title == "notes on wolves"


def test_ids_of_lines_do_not_change_when_other_lines_are_added_or_moved(tmp_path):
    a = {"text": "Article A about the river."}
    b = {"text": "Article B about the forest.", "url": "https://news.test/b"}
    c = {"text": "Article C about the city.", "id": "own-id"}
    (tmp_path / "feed.jsonl").write_text(jsonl(a, b, c))
    before = {x.text: x.id for x in load_corpus(tmp_path).articles}
    new = {"text": "A new article inserted on top."}
    b_edited = dict(b, text="Article B about the forest, corrected.")
    (tmp_path / "feed.jsonl").write_text(jsonl(new, c, b_edited, a))
    after = {x.text: x.id for x in load_corpus(tmp_path).articles}
    assert after[a["text"]] == before[a["text"]]
    assert after[b_edited["text"]] == before[b["text"]]  # same URL: same id, even with an edited text
    assert after[c["text"]] == before[c["text"]] == "own-id"
    assert all(re.fullmatch(r"feed/[0-9a-f]{12}", i) for t, i in after.items() if t != c["text"])


def test_ids_are_consistent_across_formats(tmp_path):
    (tmp_path / "news").mkdir()
    (tmp_path / "news" / "volcano.txt").write_text("Volcano\n\nThe volcano erupted again.")
    (tmp_path / "news" / "feed.jsonl.gz").write_bytes(__import__("gzip").compress(jsonl({"text": "A line."}).encode()))
    (tmp_path / "news" / "list.json").write_text(json.dumps([{"text": "An element."}]))
    ids = sorted(a.id for a in load_corpus(tmp_path).articles)
    assert ids[2] == "news/volcano"
    assert re.fullmatch(r"news/feed/[0-9a-f]{12}", ids[0]) and re.fullmatch(r"news/list/[0-9a-f]{12}", ids[1])
