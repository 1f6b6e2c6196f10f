"""Article loaders: every format from real files on disk, and the corpus-level bookkeeping."""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
from pathlib import Path

import pytest

from bot.articles import (
    MAX_FILE_BYTES,
    SUPPORTED_EXTENSIONS,
    Article,
    ArticleError,
    load_corpus,
    load_file,
    normalize_date,
    normalize_lang,
    parse_bytes,
)
from bot.settings import SAMPLE_CORPUS

SAMPLE = SAMPLE_CORPUS / "000_d4a8a0365c09b999.txt"
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "articles"

LONG_PARA = "The council approved the budget after a long debate about road repairs and school meals."


def write(folder: Path, name: str, content: str | bytes) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, str):
        path.write_text(content, encoding="utf-8")
    else:
        path.write_bytes(content)
    return path


def one(path: Path) -> Article:
    articles = load_file(path)
    assert len(articles) == 1
    return articles[0]


def snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    """Every file and folder under `folder` with its size and mtime (ns)."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(folder):
        for name in dirnames + filenames:
            st = os.stat(os.path.join(dirpath, name))
            out[os.path.relpath(os.path.join(dirpath, name), folder)] = (st.st_size, st.st_mtime_ns)
    return out


# --- .txt ----------------------------------------------------------------------------------------


def test_sample_article_metadata_and_body():
    article = one(SAMPLE)
    assert article.id == "000_d4a8a0365c09b999"
    assert article.title == "Russia’s failure? Integration road maps still not signed"
    assert article.author == "Vitaut Siuchyk"
    assert article.source == "Belsat TV"
    assert article.path == str(SAMPLE)
    assert article.url is None and article.published is None and article.lang is None
    assert article.paragraphs[0].startswith("On December 7, the presidents of Belarus and Russia")
    assert article.paragraphs[-1] == "Turning point: Lukashenka, Putin deciding upon two countries’ integration"
    assert len(article.paragraphs) == 12
    assert "Integration road maps still not signed" not in article.text
    assert "Vitaut Siuchyk" not in article.text and "Belsat TV" not in article.text
    assert all(p == p.strip() and "\n" not in p and "  " not in p for p in article.paragraphs)


def test_txt_with_header(tmp_path):
    path = write(
        tmp_path,
        "council.txt",
        "TITLE: Council approves budget\n"
        "author: Ann Smith\n"
        "Source: City Times\n"
        "URL: https://example.com/budget\n"
        "Published: December 9, 2019\n"
        "Lang: en-US\n"
        "\n"
        f"{LONG_PARA}\n"
        "It was   wrapped\nacross lines.\n"
        "\n\n\n"
        "Second paragraph.\n"
        "\n"
        "Jane Doe, Other Paper\n",
    )
    article = one(path)
    assert article.title == "Council approves budget"
    assert article.author == "Ann Smith"
    assert article.source == "City Times"
    assert article.url == "https://example.com/budget"
    assert article.published == "2019-12-09"
    assert article.lang == "en"
    # with a header the body is the rest, as written: no title line or byline guessing
    assert article.paragraphs == [
        f"{LONG_PARA} It was wrapped across lines.",
        "Second paragraph.",
        "Jane Doe, Other Paper",
    ]


def test_txt_header_without_title_takes_first_line(tmp_path):
    path = write(tmp_path, "a.txt", "Author: Ann Smith\n\nThe real title\nBody line one.\n\nBody two.\n")
    article = one(path)
    assert (article.title, article.author) == ("The real title", "Ann Smith")
    assert article.paragraphs == ["Body line one.", "Body two."]


def test_txt_without_header_or_byline(tmp_path):
    # "Note: ..." is not a known header key, so it is the title; the last line ends a sentence.
    text = "\n\nNote: the vote, explained\n\nFirst, the council met.\n\nThen it voted, 7 to 2.\n"
    article = one(write(tmp_path, "n.txt", text))
    assert article.title == "Note: the vote, explained"
    assert article.author is None and article.source is None
    assert article.paragraphs == ["First, the council met.", "Then it voted, 7 to 2."]


def test_txt_title_only_is_an_error(tmp_path):
    with pytest.raises(ArticleError, match="no body text"):
        load_file(write(tmp_path, "t.txt", "Just a title\n\n"))


def test_cp1251_file_is_read_right():
    article = one(FIXTURES / "cp1251_belarus_russia.txt")
    assert article.title == "Беларусь и Россия не подписали дорожные карты"
    assert article.author == "Віталь Сіучык"
    assert article.source == "Белсат"
    assert article.published == "2019-12-09"
    assert article.lang == "ru"
    assert article.paragraphs[0].startswith("Президенты Беларуси и России провели пять часов")
    assert "Лукашэнка не расказалі" in article.paragraphs[1]
    assert "\r" not in article.text


def test_utf8_bom_and_stray_feff_removed(tmp_path):
    path = write(tmp_path, "bom.txt", "\ufeffHeadline here\n\nBody \ufefftext here.\n".encode("utf-8"))
    article = one(path)
    assert article.title == "Headline here"
    assert article.paragraphs == ["Body text here."]


def test_utf16_with_bom(tmp_path):
    path = write(tmp_path, "u16.txt", "Заголовок\n\nТекст статьи.\n".encode("utf-16"))
    article = one(path)
    assert (article.title, article.paragraphs) == ("Заголовок", ["Текст статьи."])


# --- .md -----------------------------------------------------------------------------------------


def test_markdown_front_matter(tmp_path):
    path = write(
        tmp_path,
        "notes/ferry.md",
        "---\n"
        "title: Ferry returns\n"
        "author: [Ann Smith, Bob Jones]\n"
        "outlet: River News\n"
        "url: https://example.org/ferry\n"
        "date: 2019-12-09\n"
        "language: be\n"
        "id: ferry-2019\n"
        "---\n"
        "\n"
        "# Ferry returns\n"
        "\n"
        "The **ferry** is back, see [the timetable](https://example.org/t).\n"
        "\n"
        "## Reactions\n"
        "\n"
        "> Commuters were *pleased*.\n",
    )
    article = one(path)
    assert article.id == "ferry-2019"
    assert article.title == "Ferry returns"
    assert article.author == "Ann Smith, Bob Jones"
    assert article.source == "River News"
    assert article.url == "https://example.org/ferry"
    assert article.published == "2019-12-09"  # YAML parses this to a date object
    assert article.lang == "be"
    assert article.paragraphs == ["The ferry is back, see the timetable.", "Reactions", "Commuters were pleased."]


def test_markdown_heading_is_title_without_front_matter(tmp_path):
    article = one(write(tmp_path, "plain.markdown", "# Heading title\nFirst line.\n\nSecond.\n"))
    assert article.title == "Heading title"
    assert article.id == "plain"
    assert article.paragraphs == ["First line.", "Second."]


def test_markdown_bad_front_matter_is_an_error(tmp_path):
    with pytest.raises(ArticleError, match="YAML"):
        load_file(write(tmp_path, "bad.md", "---\ntitle: [unclosed\n---\nBody.\n"))


# --- .json / .jsonl ------------------------------------------------------------------------------


def test_json_single_article(tmp_path):
    obj = {
        "title": "One",
        "text": "Para one\nwraps.\n\nPara two.",
        "author": "Ann",
        "source": "Daily",
        "url": "https://x.test/1",
        "date": "2019-12-09T10:00:00Z",
        "language": "EN",
    }
    article = one(write(tmp_path, "single.json", json.dumps(obj)))
    assert article.id == "single"
    assert article.paragraphs == ["Para one wraps.", "Para two."]
    assert (article.title, article.author, article.source) == ("One", "Ann", "Daily")
    assert (article.url, article.published, article.lang) == ("https://x.test/1", "2019-12-09", "en")


def test_json_list_of_articles(tmp_path):
    items = [
        {"id": 7, "title": "A", "paragraphs": ["  first  ", "", "second"], "published": "09.12.2019"},
        {"title": "B", "text": "Body B."},
    ]
    articles = load_file(write(tmp_path, "list.json", json.dumps(items)))
    assert articles[0].id == "7"
    assert re.fullmatch(r"list/[0-9a-f]{12}", articles[1].id)  # the file, and a hash of the article
    assert articles[0].paragraphs == ["first", "second"]
    assert articles[0].published == "2019-12-09"
    assert articles[1].text == "Body B."


def test_json_squad(tmp_path):
    squad = {
        "version": "1.1",
        "data": [
            {
                "title": "University_of_Notre_Dame",
                "paragraphs": [
                    {"context": "Architecturally, the school has a Catholic character.", "qas": []},
                    {"context": "As at most other universities, Notre Dame's students run news media.", "qas": []},
                ],
            },
            {"title": "Beyoncé", "paragraphs": [{"context": "Beyoncé Knowles-Carter is a singer.", "qas": []}]},
        ],
    }
    articles = load_file(write(tmp_path, "squad.json", json.dumps(squad)))
    assert all(re.fullmatch(r"squad/[0-9a-f]{12}", a.id) for a in articles) and articles[0].id != articles[1].id
    assert articles[0].title == "University of Notre Dame"
    assert articles[0].paragraphs == [
        "Architecturally, the school has a Catholic character.",
        "As at most other universities, Notre Dame's students run news media.",
    ]
    assert articles[1].title == "Beyoncé"
    assert all(a.lang is None for a in articles)


def test_jsonl_bad_line_is_skipped_and_others_kept(tmp_path, caplog):
    lines = [
        json.dumps({"title": "First", "text": "Body one."}),
        "",
        "{not json",
        json.dumps({"title": "No body"}),
        json.dumps({"title": "Fourth", "text": "Body four.", "id": "x4"}),
    ]
    path = write(tmp_path, "feed.jsonl", "\n".join(lines) + "\n")
    with caplog.at_level(logging.WARNING, logger="bot.articles"):
        result = load_corpus(tmp_path)
    assert re.fullmatch(r"feed/[0-9a-f]{12}", result.articles[0].id) and result.articles[1].id == "x4"
    assert [a.title for a in result.articles] == ["First", "Fourth"]
    assert [s.path for s in result.skipped] == [f"{path}:3", f"{path}:4"]
    assert "invalid JSON" in result.skipped[0].reason
    assert "no 'text' or 'paragraphs'" in result.skipped[1].reason
    assert f"{path}:3" in caplog.text and f"{path}:4" in caplog.text
    assert result.files == 1


def test_jsonl_with_only_bad_lines_is_an_error(tmp_path):
    with pytest.raises(ArticleError, match="no usable articles \\(line 1: invalid JSON"):
        load_file(write(tmp_path, "bad.jsonl", "{oops\n[1]\n"))


def test_invalid_json_is_an_error(tmp_path):
    with pytest.raises(ArticleError, match="invalid JSON"):
        load_file(write(tmp_path, "broken.json", '{"title": "x", '))


# --- .html ---------------------------------------------------------------------------------------


def test_html_extraction():
    article = one(FIXTURES / "news_page.html")
    assert article.id == "news_page"
    assert article.title == "Minsk river ferry returns after ten years"
    assert article.author == "Alesia Kavaleva"
    assert article.published == "2019-12-09"
    assert article.source == "Riverside Herald"
    assert article.url == "https://herald.example.org/news/2019/12/minsk-river-ferry-returns"
    assert article.lang == "en"
    assert article.paragraphs[0].startswith("The passenger ferry across the Svislach river resumed")
    assert "twelve thousand signatures" in article.paragraphs[-1]
    assert len(article.paragraphs) == 5
    for boilerplate in ("Subscribe to our newsletter", "Politics", "Related stories", "Copyright", "Cookie"):
        assert boilerplate not in article.text
    assert article.title not in article.text


def test_html_without_main_text_is_an_error(tmp_path):
    with pytest.raises(ArticleError, match="no main text"):
        load_file(write(tmp_path, "empty.html", "<html><head><title>Nothing</title></head><body></body></html>"))


def test_html_in_windows_1251_with_declared_charset(tmp_path):
    sentence = "президенты обсуждали интеграцию и цены на газ весь день."
    body = "".join(f"<p>Абзац номер {i}: {sentence}</p>" for i in range(5))
    page = (
        '<html lang="ru-RU"><head><meta charset="windows-1251"><title>Новости</title></head>'
        f"<body><article>{body}</article></body></html>"
    )
    article = one(write(tmp_path, "ru.htm", page.encode("cp1251")))
    assert article.lang == "ru"
    assert article.paragraphs[0] == f"Абзац номер 0: {sentence}"


# --- bad files, the corpus folder ----------------------------------------------------------------


def test_bad_files_are_skipped_with_warnings_and_the_rest_loads(tmp_path, caplog):
    shutil.copy(SAMPLE, tmp_path / SAMPLE.name)
    binary = write(tmp_path, "image.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00")
    empty = write(tmp_path, "empty.txt", b"")
    blank = write(tmp_path, "blank.md", "  \n\n")
    broken = write(tmp_path, "broken.json", "{nope")
    write(tmp_path, "sub/good.json", json.dumps({"title": "Good", "text": LONG_PARA}))
    write(tmp_path, "notes.pdf", b"%PDF-1.4")  # unknown extension: ignored, not counted
    write(tmp_path, ".hidden.txt", "Hidden\n\nNot loaded.")
    write(tmp_path, ".cache/x.txt", "Hidden dir\n\nNot loaded.")

    with caplog.at_level(logging.WARNING, logger="bot.articles"):
        result = load_corpus(tmp_path)

    assert [a.id for a in result.articles] == ["000_d4a8a0365c09b999", "sub/good"]
    assert result.files == 6
    reasons = {s.path: s.reason for s in result.skipped}
    assert set(reasons) == {str(binary), str(empty), str(blank), str(broken)}
    assert reasons[str(binary)].startswith("binary file")
    assert reasons[str(empty)] == "empty file"
    assert reasons[str(blank)] == "empty file"
    assert reasons[str(broken)].startswith("invalid JSON")
    warned = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    for path, reason in reasons.items():
        assert f"skipping {path}: {reason}" in warned


def test_undecodable_bytes_are_binary(tmp_path):
    noise = bytes((i * 73 + 41) % 256 for i in range(4000)).replace(b"\x00", b"\x01")
    with pytest.raises(ArticleError, match="binary file"):
        load_file(write(tmp_path, "noise.txt", noise))


def test_size_guard(tmp_path):
    path = tmp_path / "huge.txt"
    with open(path, "wb") as f:
        f.truncate(MAX_FILE_BYTES + 1)  # sparse: no 50 MB actually written
    with pytest.raises(ArticleError, match="too large"):
        load_file(path)


def test_duplicates_are_indexed_once(tmp_path, caplog):
    shutil.copy(SAMPLE, tmp_path / "a.txt")
    shutil.copy(SAMPLE, tmp_path / "b.txt")  # same text
    lines = [
        {"title": "X", "text": "Text X.", "url": "https://site.test/x"},
        {"title": "X again", "text": "Rewritten text X.", "url": "https://site.test/x/"},  # same URL
        {"title": "Y", "text": "Text  Y."},
        {"title": "Y copy", "text": "Text\nY."},  # same text after normalising
    ]
    write(tmp_path, "c.jsonl", "\n".join(json.dumps(line) for line in lines))
    with caplog.at_level(logging.INFO, logger="bot.articles"):
        result = load_corpus(tmp_path)
    assert result.articles[0].id == "a"
    assert [a.title for a in result.articles] == ["Russia’s failure? Integration road maps still not signed", "X", "Y"]
    assert result.duplicates == 3
    assert sum("duplicate" in r.getMessage() for r in caplog.records) == 3


def test_ids_unique_and_stable(tmp_path):
    write(tmp_path, "a.txt", "Title A\n\nBody A.")
    write(tmp_path, "a.md", "# Title A2\n\nBody A2.")
    write(tmp_path, "x.json", json.dumps([{"id": "a", "text": "Body three."}]))
    first = [a.id for a in load_corpus(tmp_path).articles]
    assert first == ["a", "a~2", "a~3"]  # a.md, a.txt, x.json in sorted order
    assert [a.id for a in load_corpus(tmp_path).articles] == first


def test_loading_does_not_modify_the_folder(tmp_path):
    shutil.copy(SAMPLE, tmp_path / SAMPLE.name)
    shutil.copy(FIXTURES / "news_page.html", tmp_path / "news_page.html")
    shutil.copy(FIXTURES / "cp1251_belarus_russia.txt", tmp_path / "cp.txt")
    write(tmp_path, "d/feed.jsonl", json.dumps({"text": "Body."}) + "\n{bad\n")
    write(tmp_path, "d/bin.txt", b"\x00\x01")
    before = snapshot(tmp_path)
    result = load_corpus(tmp_path)
    assert len(result.articles) == 4 and len(result.skipped) == 2
    assert snapshot(tmp_path) == before


def test_load_corpus_single_file_and_missing_path(tmp_path):
    result = load_corpus(SAMPLE)
    assert result.files == 1 and [a.id for a in result.articles] == ["000_d4a8a0365c09b999"]
    with pytest.raises(FileNotFoundError):
        load_corpus(tmp_path / "nope")


# --- parse_bytes (uploads) and normalisers -------------------------------------------------------


def test_parse_bytes_without_disk(tmp_path):
    articles = parse_bytes("upload.md", b"---\ntitle: Up\n---\nHello there.\n")
    assert [(a.id, a.title, a.paragraphs, a.path) for a in articles] == [("upload", "Up", ["Hello there."], None)]
    with pytest.raises(ArticleError) as err:
        parse_bytes("report.docx", b"PK\x03\x04")
    assert "unsupported file type '.docx'" in err.value.reason
    assert all(ext in err.value.reason for ext in SUPPORTED_EXTENSIONS)
    assert list(tmp_path.iterdir()) == []


def test_parse_bytes_reports_skipped_lines():
    skipped = []
    articles = parse_bytes("f.jsonl", b'{"text": "ok"}\nnope\n', skipped=skipped)
    assert [a.text for a in articles] == ["ok"]
    assert [(s.path, s.reason.split(":")[0]) for s in skipped] == [("f.jsonl:2", "invalid JSON")]


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("2019-12-09", "2019-12-09"),
        ("2019-12-09T23:30:00+03:00", "2019-12-09"),
        ("2019-12-09T08:30:00Z", "2019-12-09"),
        ("December 9, 2019", "2019-12-09"),
        ("Dec 9, 2019", "2019-12-09"),
        ("9 December 2019", "2019-12-09"),
        ("09.12.2019", "2019-12-09"),
        ("Mon, 09 Dec 2019 08:30:00 +0300", "2019-12-09"),
        ("last Tuesday", None),  # no date we can read: dropped, never kept as written
        ("2024-02-30", None),  # impossible
        ("2001-01-01 25:00:00", None),
        ("03/04/2024", "2024-03-04"),  # slashes: month first
        ("31/12/2019", "2019-12-31"),  # ... unless the first number cannot be a month
        ("December 2019", "2019-12"),  # as precise as it was written
        ("2019", "2019"),
        ("9 декабря 2019", "2019-12-09"),
        ("9. Dezember 2019", "2019-12-09"),
        (1575900000, "2019-12-09"),  # Unix time
        ("Q3 2019", None),
        ("", None),
        (None, None),
    ],
)
def test_normalize_date(raw, expected):
    assert normalize_date(raw) == expected


@pytest.mark.parametrize(
    "raw, expected",
    [("en", "en"), ("en-US", "en"), ("pt_BR", "pt"), ("BE", "be"), ("English", None), ("bel", None), (None, None)],
)
def test_normalize_lang(raw, expected):
    assert normalize_lang(raw) == expected
