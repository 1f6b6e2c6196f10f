"""Streaming: gzip-compressed files of every format, JSON lists read element by element, bounded memory."""

from __future__ import annotations

import gzip
import io
import json
import tracemalloc
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.articles import Article, ArticleError, iter_corpus, load_corpus, parse_bytes
from bot.loaders import jsonstream, limits
from bot.loaders.hashset import HashSet, _key

TEXT = "Otters were seen again in the river near the old bridge, {n} of them this spring."
PAGE = (
    '<html lang="en"><head><title>Ferry returns</title></head><body><nav>Home | News</nav><article>'
    + "".join(
        f"<p>The ferry crossed the river {i} times on its first day back, the operator said.</p>" for i in range(5)
    )
    + "</article><footer>Copyright</footer></body></html>"
)


def article(n: int, **extra: object) -> dict:
    return {"title": f"Otters {n}", "text": TEXT.format(n=n), **extra}


def gz(data: str | bytes) -> bytes:
    return gzip.compress(data.encode() if isinstance(data, str) else data)


def test_gzip_compressed_files_of_every_format_load(tmp_path):
    files = {
        "feed.jsonl.gz": "\n".join(json.dumps(article(i)) for i in range(3)),
        "list.json.gz": json.dumps([article(10), article(11)]),
        "one.json.gz": json.dumps(article(20)),
        "story.txt.gz": "Otters by the bridge\n\n" + TEXT.format(n=30),
        "notes.md.gz": "---\ntitle: Otter notes\n---\n" + TEXT.format(n=40),
        "page.html.gz": PAGE,
        "ignored.pdf.gz": "not read",
    }
    for name, content in files.items():
        (tmp_path / name).write_bytes(gz(content))
    result = load_corpus(tmp_path)
    assert result.skipped == [] and result.files == 6
    titles = {a.title for a in result.articles}
    assert titles == {
        "Otters 0",
        "Otters 1",
        "Otters 2",
        "Otters 10",
        "Otters 11",
        "Otters 20",
        "Otters by the bridge",
        "Otter notes",
        "Ferry returns",
    }
    by_title = {a.title: a for a in result.articles}
    assert by_title["Otters by the bridge"].id == "story"  # ids ignore the .gz suffix
    assert by_title["Otter notes"].id == "notes"
    assert by_title["Ferry returns"].paragraphs[0].startswith("The ferry crossed the river 0 times")
    assert "Copyright" not in by_title["Ferry returns"].text


def test_gzip_uploads(tmp_path):
    articles = parse_bytes("feed.jsonl.gz", gz(json.dumps(article(1)) + "\n" + json.dumps(article(2))))
    assert [a.title for a in articles] == ["Otters 1", "Otters 2"]
    with pytest.raises(ArticleError, match="corrupt gzip"):
        parse_bytes("feed.jsonl.gz", b"\x1f\x8b\x08\x00garbage")
    with pytest.raises(ArticleError, match="corrupt gzip"):
        parse_bytes("story.txt.gz", b"plain text, not gzip")


def test_a_gzip_bomb_stops_its_file_only(tmp_path, monkeypatch):
    monkeypatch.setattr(limits, "GZIP_RATIO_FLOOR", 1 << 20)
    lines = json.dumps(article(1)) + "\n" + " " * (20 << 20) + "\n" + json.dumps(article(2)) + "\n"
    (tmp_path / "bomb.jsonl.gz").write_bytes(gz(lines))
    (tmp_path / "good.jsonl").write_text(json.dumps(article(3)))
    result = load_corpus(tmp_path)
    assert [a.title for a in result.articles] == ["Otters 1", "Otters 3"]
    [skip] = result.skipped
    assert skip.path == str(tmp_path / "bomb.jsonl.gz")
    assert skip.reason.startswith("gzip bomb refused") and "the 1 article(s) before it were loaded" in skip.reason


def test_a_truncated_gzip_keeps_what_came_before(tmp_path):
    data = gz("\n".join(json.dumps(article(i, filler="x" * 2000 + str(i))) for i in range(200)))
    (tmp_path / "cut.jsonl.gz").write_bytes(data[: len(data) // 2])
    result = load_corpus(tmp_path)
    assert 0 < len(result.articles) < 200
    assert [a.title for a in result.articles] == [f"Otters {i}" for i in range(len(result.articles))]
    assert "corrupt gzip data" in result.skipped[-1].reason


# --- JSON lists, element by element ---------------------------------------------------------------------

TRICKY = [
    article(1, note='quotes " and \\ backslashes, ] brackets } and { in strings, [ too'),
    article(2, nested={"a": [1, 2, {"b": "]}"}], "c": None}, flag=True, number=-1.5e3),
    dict(article(3), title="Юникод \u2028 and \U0001f98a escapes"),
    article(4, paragraphs=None),
]


@pytest.mark.parametrize("chunk", [1, 2, 3, 7, 64, 1 << 20])
@pytest.mark.parametrize("ascii_only", [True, False])
def test_the_splitter_finds_every_element_at_any_chunk_boundary(monkeypatch, chunk, ascii_only):
    monkeypatch.setattr(jsonstream, "CHUNK", chunk)
    doc = "\ufeff" + json.dumps(TRICKY, ensure_ascii=ascii_only, indent=1 if chunk % 2 else None)
    elements = list(jsonstream.split(io.BytesIO(doc.encode()), 1 << 20))
    assert [json.loads(e) for e in elements] == TRICKY
    squad = json.dumps(
        {"version": "1.1", "extra": {"data": [0]}, "data": TRICKY, "after": "x"}, ensure_ascii=ascii_only
    )
    assert [json.loads(e) for e in jsonstream.split(io.BytesIO(squad.encode()), 1 << 20)] == TRICKY


@pytest.mark.parametrize(
    "doc, message",
    [
        ("", "the end of the file"),
        ('"a string"', "expected one of '[{'"),
        ('[{"a": 1}', "expected one of ',]'"),
        ('[{"a": "unterminated', "unterminated string"),
        ('[{"a": [1, 2}', "ends inside a list"),
        ("[1] [2]", "extra data"),
        ('{"version": 1}', 'a "data" list'),
    ],
)
def test_the_splitter_reports_a_broken_file(doc, message):
    with pytest.raises(ArticleError) as err:
        list(jsonstream.split(io.BytesIO(doc.encode()), 1000))
    assert message in err.value.reason


def test_a_large_json_list_is_streamed_with_each_element_isolated(tmp_path, monkeypatch):
    monkeypatch.setattr(limits, "MAX_FILE_BYTES", 1000)
    monkeypatch.setattr(limits, "MAX_RECORD_BYTES", 500)
    items: list = [article(i) for i in range(30)]
    items[3] = {"title": "no text"}
    items[4] = article(4, filler="y" * 600)
    items[5] = [1, 2]
    path = tmp_path / "big.json"
    path.write_text(json.dumps(items))
    assert path.stat().st_size > 3 * limits.MAX_FILE_BYTES
    result = load_corpus(tmp_path)
    assert len(result.articles) == 27
    assert [(s.path, s.reason.split(" (")[0].split(":")[0]) for s in result.skipped] == [
        (f"{path}#3", "no 'text' or 'paragraphs' field"),
        (f"{path}#4", "entry too large"),
        (f"{path}#5", "expected an article object, got list"),
    ]


def test_a_large_squad_file_is_streamed(tmp_path, monkeypatch):
    monkeypatch.setattr(limits, "MAX_FILE_BYTES", 500)
    entries = [{"title": f"Topic_{i}", "paragraphs": [{"context": TEXT.format(n=i), "qas": []}]} for i in range(20)]
    (tmp_path / "squad.json").write_text(json.dumps({"version": "1.1", "data": entries}))
    result = load_corpus(tmp_path)
    assert [a.title for a in result.articles] == [f"Topic {i}" for i in range(20)]


def test_a_large_json_file_broken_midway_keeps_the_elements_before(tmp_path, monkeypatch):
    monkeypatch.setattr(limits, "MAX_FILE_BYTES", 500)
    text = json.dumps([article(i) for i in range(10)])
    cut = text.index('"Otters 5", ') + 12  # inside element 5, after its title
    (tmp_path / "cut.json").write_text(text[:cut])
    result = load_corpus(tmp_path)
    assert len(result.articles) == 5
    assert result.skipped[-1].reason == (
        "invalid JSON: the file ends inside a list or object (the 5 article(s) before it were loaded)"
    )


def test_utf16_json_and_jsonl(tmp_path, monkeypatch):
    (tmp_path / "a.json").write_bytes(json.dumps([article(1)], ensure_ascii=False).encode("utf-16"))
    (tmp_path / "b.jsonl").write_bytes((json.dumps(article(2)) + "\n" + json.dumps(article(3))).encode("utf-16"))
    assert [a.title for a in load_corpus(tmp_path).articles] == ["Otters 1", "Otters 2", "Otters 3"]
    monkeypatch.setattr(limits, "MAX_FILE_BYTES", 100)
    assert "must be UTF-8" in load_corpus(tmp_path / "a.json").skipped[0].reason


# --- memory -------------------------------------------------------------------------------------------


def peak_while_loading(path: Path) -> tuple[int, int]:
    """(articles, peak bytes traced) while streaming `path`, keeping nothing."""
    tracemalloc.start()
    try:
        n = sum(isinstance(item, Article) for item in iter_corpus(path))
        return n, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("name", ["feed.jsonl", "feed.jsonl.gz", "list.json"])
def test_memory_is_bounded_by_one_article_not_by_the_file(tmp_path, monkeypatch, name):
    monkeypatch.setattr(limits, "MAX_FILE_BYTES", 1 << 20)  # so that list.json is streamed
    body = "Report {i}: " + "the-council-met-again-and-talked-about-the-bridge-" * 160  # long words: cheap to trace
    rows = [{"title": f"Report {i}", "text": body.format(i=i), "url": f"https://x.test/{i}"} for i in range(2000)]
    raw = "\n".join(json.dumps(r) for r in rows) if name.startswith("feed") else json.dumps(rows)
    path = tmp_path / name
    path.write_bytes(gz(raw) if name.endswith(".gz") else raw.encode())
    assert len(raw) > 15 << 20
    n, peak = peak_while_loading(path)
    assert n == 2000
    # buffers of about 1 MB, one article, and a hash per article: not the file
    assert peak < 4 << 20, f"peak {peak / 2**20:.1f} MB while streaming {len(raw) / 2**20:.1f} MB"


@settings(max_examples=50, deadline=None)
@given(st.lists(st.integers(-(1 << 70), 1 << 70) | st.sampled_from([0, 1, -1, 1 << 63, -(1 << 63)]), max_size=300))
def test_the_hash_set_behaves_like_a_set(values):
    hs, ref = HashSet(capacity=2), set()
    for v in values:
        key = _key(v)
        assert hs.add(v) == (key not in ref)
        ref.add(key)
        assert v in hs
    assert len(hs) == len(ref)
