"""Admin uploads of compressed article files, end to end: the real Application over HTTP to the fake Bot API.

The upload path accepts exactly what the corpus loader reads (`bot.articles.is_supported`): any supported
format gzip-compressed too (`feed.jsonl.gz`, `notes.md.gz`). A file that cannot be read is refused with a
one-line reason and leaves the corpus folder as it was.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

from tests.conftest import ADMIN_ID


def _feed(topic: str, n: int) -> bytes:
    lines = [
        json.dumps(
            {
                "title": f"{topic.capitalize()} report {i}",
                "author": "Kai Berg",
                "text": f"The {topic} inspectors counted {i * 11} loose bolts on pier {i} during the spring survey.",
            }
        )
        for i in range(1, n + 1)
    ]
    return ("\n".join(lines) + "\n").encode()


def _files(corpus: Path) -> dict[str, bytes]:
    """Every file in the corpus folder, hidden ones too (a half-written upload would be one)."""
    return {p.name: p.read_bytes() for p in corpus.iterdir() if p.is_file()}


async def _upload(api, name: str, data: bytes) -> str:
    api.push_document(name, data, user_id=ADMIN_ID)
    call = await api.wait_for("sendMessage", ok=True, timeout=60)
    return call.result["text"]


async def _answer(api, question: str) -> str:
    api.push_message(question)
    return (await api.wait_for("sendMessage", ok=True)).result["text"]


async def test_gzip_uploads_of_each_format_are_saved_loaded_and_answered(corpus_bot):
    api, corpus = corpus_bot.api, corpus_bot.settings.corpus_dir
    feed = gzip.compress(_feed("harbour", 3))
    text = await _upload(api, "feed.jsonl.gz", feed)
    assert "Saved as feed.jsonl.gz with 3 articles" in text and "Harbour report 2" in text
    assert "articles 1 → 4" in text
    assert (corpus / "feed.jsonl.gz").read_bytes() == feed  # kept compressed, as sent
    assert "22 loose bolts" in await _answer(api, "how many loose bolts did the harbour inspectors count on pier 2?")

    # the same name again: a numbered copy that the loader still reads as gzip'd JSONL
    text = await _upload(api, "feed.jsonl.gz", gzip.compress(_feed("lighthouse", 2)))
    assert "Saved as feed-1.jsonl.gz with 2 articles" in text and "articles 4 → 6" in text
    assert "lighthouse" in await _answer(api, "loose bolts lighthouse inspectors pier 1")

    note = b"---\ntitle: Ferry timetable\n---\n\nThe night ferry to the islands leaves at 23:40 from quay nine.\n"
    text = await _upload(api, "Ferry notes.MD.GZ", gzip.compress(note))
    assert "Ferry timetable" in text and "articles 6 → 7" in text
    assert "quay nine" in await _answer(api, "when does the night ferry leave?")
    assert sorted(_files(corpus)) == [
        "000_d4a8a0365c09b999.txt",
        "Ferry notes.MD.gz",
        "feed-1.jsonl.gz",
        "feed.jsonl.gz",
    ]


async def test_broken_gzip_uploads_are_refused_in_one_line_and_add_nothing(corpus_bot):
    api, corpus = corpus_bot.api, corpus_bot.settings.corpus_dir
    before = _files(corpus)
    good = gzip.compress(_feed("harbour", 40))
    refused = {
        "truncated.jsonl.gz": good[: len(good) // 2],  # good lines, then the data breaks off
        "no-trailer.md.gz": gzip.compress(b"# Title\n\nText about the harbour.\n")[:-6],
        "not-gzip.json.gz": b'{"title": "plain json named .gz", "text": "body"}',
        "flipped.txt.gz": good[:20] + bytes(b ^ 0xFF for b in good[20:60]) + good[60:],
        "bomb.txt.gz": gzip.compress(b"Title: Bomb\n\n" + b"a" * (40 << 20)),
    }
    for name, data in refused.items():
        text = await _upload(api, name, data)
        assert text.startswith(f"Not added: {name} is not a valid article file"), text
        assert "\n" not in text
        assert "gzip" in text
    for name in ("archive.tar.gz", "data.gz", "feed.jsonl.gz.zip"):
        text = await _upload(api, name, good)
        assert text.startswith("Not added: I read") and "gzip" in text and "\n" not in text
    assert _files(corpus) == before  # nothing saved, no temporary file left behind
    assert "loose bolts" not in await _answer(api, "loose bolts on pier 7 harbour inspectors")


async def test_a_gzipped_feed_with_some_bad_lines_says_what_was_left_out(corpus_bot):
    api, corpus = corpus_bot.api, corpus_bot.settings.corpus_dir
    lines = _feed("harbour", 3).split(b"\n")
    lines.insert(1, b'{"title": "broken", "text": ')
    text = await _upload(api, "mixed.jsonl.gz", gzip.compress(b"\n".join(lines)))
    assert "Saved as mixed.jsonl.gz with 3 articles" in text
    assert "1 part of the file could not be read and was left out, e.g. mixed.jsonl.gz:2" in text
    assert (corpus / "mixed.jsonl.gz").exists()


def test_numbered_copies_keep_the_whole_extension(tmp_path):
    from bot.articles import is_supported
    from bot.telegram.uploads import save_upload

    for name in ("feed.jsonl.gz", "a.b.md.gz", "notes.txt", "x.gz"):
        first, second = (save_upload(tmp_path, name, b"data") for _ in range(2))
        assert first.name == name
        assert second.name != name and is_supported(second.name) == is_supported(name)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "a.b-1.md.gz",
        "a.b.md.gz",
        "feed-1.jsonl.gz",
        "feed.jsonl.gz",
        "notes-1.txt",
        "notes.txt",
        "x-1.gz",
        "x.gz",
    ]
