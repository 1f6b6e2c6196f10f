"""Fuzzing what strangers control: article files of every format, and the questions.

Loaders: whatever the bytes, `parse_bytes` returns articles or raises ArticleError, nothing else, and what it
returns is usable (non-empty, valid Unicode, within the limits). Questions: `Engine.ask` answers any text.
Bounded: a few hundred examples in all, deadline off (the machine is shared and noisy).
"""

from __future__ import annotations

import gzip
import io
import json
import string

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.articles import Article, ArticleError, iter_corpus, load_corpus, parse_bytes
from bot.loaders import jsonstream, limits
from bot.render import answer_json, render_console

FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
FORMATS = [".txt", ".md", ".json", ".jsonl", ".html", ".txt.gz", ".jsonl.gz", ".json.gz", ".md.gz", ".html.gz"]

# Text that looks a little like each format, so the fuzzer gets past the first check
MARKUP = st.sampled_from(
    [
        "---\n",
        "\n",
        "\n\n",
        "# ",
        "title: ",
        "date: ",
        "&a ",
        "*a ",
        "!!int ",
        "[",
        "]",
        "{",
        "}",
        '"',
        ":",
        ",",
        "<p>",
        "</p>",
        "<html>",
        "<meta charset=utf-8>",
        "<!--",
        "-->",
        "**",
        "_",
        "`",
        "\\",
        "\\u0000",
        "\ud800",
        "\x00",
        "\ufeff",
        "\u2028",
        "1" * 50,
        "null",
        "true",
        '"text": ',
        '"title": ',
        "\r\n",
        "Title: x\n\n",
    ]
)
TEXTISH = st.lists(st.one_of(MARKUP, st.text(max_size=20)), max_size=40).map("".join)


def check_articles(articles: list[Article]) -> None:
    assert articles
    for a in articles:
        assert a.paragraphs and all(p and p == p.strip() for p in a.paragraphs)
        assert len(a.text) <= limits.MAX_ARTICLE_CHARS
        for value in (a.id, a.title, a.text, a.author, a.source, a.url, a.published, a.lang):
            if value is not None:
                value.encode("utf-8")  # no lone surrogates: the store and Telegram need valid UTF-8
                assert "\x00" not in value


def parse_or_refuse(name: str, data: bytes) -> None:
    if name.endswith(".gz"):
        data = gzip.compress(data)
    try:
        articles = parse_bytes(name, data)
    except ArticleError as e:
        assert e.reason and isinstance(e.reason, str)
        return
    check_articles(articles)


@FUZZ
@given(ext=st.sampled_from(FORMATS), data=st.binary(max_size=300))
def test_any_bytes_in_any_format(ext, data):
    parse_or_refuse("doc" + ext, data)


@FUZZ
@given(ext=st.sampled_from(FORMATS), text=TEXTISH, encoding=st.sampled_from(["utf-8", "utf-16", "latin-1"]))
def test_format_like_text_in_any_format(ext, text, encoding):
    parse_or_refuse("doc" + ext, text.encode(encoding, "surrogatepass" if encoding != "latin-1" else "replace"))


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20,
)
ARTICLE_OBJECTS = st.fixed_dictionaries(
    {},
    optional={
        "id": JSON_VALUES,
        "title": JSON_VALUES,
        "text": st.one_of(st.text(), JSON_VALUES),
        "paragraphs": st.one_of(st.lists(st.text(max_size=40), max_size=4), JSON_VALUES),
        "author": JSON_VALUES,
        "url": st.one_of(st.text(max_size=30), JSON_VALUES),
        "published": st.one_of(st.text(max_size=30), st.sampled_from(["2024-02-30", "03/04/2024", "2019-12-09"])),
        "lang": st.one_of(st.text(max_size=6), JSON_VALUES),
    },
)


@FUZZ
@given(items=st.lists(st.one_of(ARTICLE_OBJECTS, JSON_VALUES), max_size=6), ascii_only=st.booleans())
def test_json_and_jsonl_of_any_shape(items, ascii_only):
    dump = lambda v: json.dumps(v, ensure_ascii=ascii_only)  # noqa: E731
    for name, text in [
        ("a.json", dump(items)),
        ("b.json", dump(items[0] if items else {})),
        ("c.jsonl", "\n".join(dump(i) for i in items)),
        ("d.json", dump({"version": "1.1", "data": items})),
    ]:
        parse_or_refuse(name, text.encode("utf-8", "surrogatepass"))


@FUZZ
@given(items=st.lists(JSON_VALUES, max_size=8), chunk=st.integers(1, 64), indent=st.sampled_from([None, 0, 2]))
def test_the_json_scanner_splits_like_json_loads(monkeypatch_module, items, chunk, indent):
    monkeypatch_module.setattr(jsonstream, "CHUNK", chunk)
    doc = json.dumps(items, indent=indent).encode()
    assert [json.loads(e) for e in jsonstream.split(io.BytesIO(doc), 1 << 20)] == json.loads(doc)


@pytest.fixture(scope="module")
def monkeypatch_module():
    mp = pytest.MonkeyPatch()
    yield mp
    mp.undo()


@FUZZ
@given(front=TEXTISH, body=TEXTISH)
def test_markdown_front_matter_of_any_kind(front, body):
    parse_or_refuse("note.md", f"---\n{front}\n---\n{body}".encode("utf-8", "surrogatepass"))


HTML_TAGS = st.sampled_from(["p", "div", "article", "nav", "h1", "li", "script", "title", "meta", "footer", "b"])


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    parts=st.lists(
        st.one_of(HTML_TAGS.map(lambda t: f"<{t}>"), HTML_TAGS.map(lambda t: f"</{t}>"), st.text(max_size=40), MARKUP),
        max_size=60,
    ),
    plain=st.booleans(),
)
def test_html_pages_of_any_kind(monkeypatch_module, parts, plain):
    # `plain`: as if the page were over the size bound, so that the linear extraction is fuzzed too
    monkeypatch_module.setattr(limits, "MAX_HTML_ELEMENTS", 3 if plain else 15_000)
    try:
        parse_or_refuse("page.html", ("<html><body>" + "".join(parts)).encode("utf-8", "surrogatepass"))
    finally:
        monkeypatch_module.setattr(limits, "MAX_HTML_ELEMENTS", 15_000)


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture]
)
@given(
    files=st.dictionaries(
        st.text(string.ascii_letters + "é_-", min_size=1, max_size=8).map(str.strip).filter(bool),
        st.tuples(
            st.sampled_from(FORMATS),
            st.binary(max_size=200) | TEXTISH.map(lambda t: t.encode("utf-8", "surrogatepass")),
        ),
        max_size=5,
    )
)
def test_a_corpus_of_anything_loads_what_it_can(tmp_path_factory, files):
    folder = tmp_path_factory.mktemp("corpus")
    for stem, (ext, data) in files.items():
        (folder / (stem + ext)).write_bytes(gzip.compress(data) if ext.endswith(".gz") else data)
    stream = iter_corpus(folder)
    items = list(stream)
    assert stream.files == len(files)
    articles = [i for i in items if isinstance(i, Article)]
    if articles:
        check_articles(articles)
    assert len({a.id for a in articles}) == len(articles)
    assert load_corpus(folder).articles == articles


# --- the questions path ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def engine():
    from bot.search import Engine
    from bot.settings import SAMPLE_CORPUS

    return Engine.build(load_corpus(SAMPLE_CORPUS))


QUESTIONS = st.one_of(
    st.text(),
    st.lists(
        st.one_of(
            st.sampled_from(["Belarus", "Russia", "ambassador", "?", "the", "Лукашэнка", "東京"]), st.text(max_size=5)
        ),
        max_size=12,
    ).map(" ".join),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(question=QUESTIONS, k=st.integers(1, 10), offset=st.integers(0, 5))
def test_any_question_gets_an_answer(engine, question, k, offset):
    answer = engine.ask(question, k=k, offset=offset)
    assert len(answer.hits) <= k
    for hit in answer.hits:
        assert 0 <= hit.sentence[0] <= hit.sentence[1] <= len(hit.text)
        assert all(0 <= s < e <= len(hit.text) for s, e in hit.highlights)
    line = json.dumps(answer_json(answer), ensure_ascii=False)
    assert json.loads(line)["query"] == question
    render_console(answer)
