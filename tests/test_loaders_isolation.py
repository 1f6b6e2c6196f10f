"""Every file and every line isolated: bad input of every kind is skipped with its reason, the rest loads.

Real files on disk (links, FIFOs, devices, names that are not UTF-8), read through `iter_corpus` /
`load_corpus`, uploads through `parse_bytes` (ArticleError only), and the CLI as a user runs it.
"""

from __future__ import annotations

import gzip
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from bot.articles import Article, ArticleError, Skipped, iter_corpus, load_corpus, parse_bytes
from bot.loaders import limits

GOOD = "Wolves returned to the forest of Bialowieza after forty years, the rangers said on Monday."
LYNX = json.dumps({"title": "Lynx", "text": "The lynx population stayed small, with about ten cats each winter."})
BISON = json.dumps({"title": "Bison", "text": "Bison herds grew to six hundred animals in the national park."})

ALIAS_BOMB = (
    "---\na: &a [lol,lol,lol,lol,lol,lol,lol,lol,lol]\n"
    + "".join(f"{c}: &{c} [{', '.join(['*' + p] * 9)}]\n" for p, c in zip("abcdefgh", "bcdefghi"))
    + "title: *i\n---\nBody of the bomb.\n"
)

# name -> (content, a piece of the reason it is skipped for)
BAD_FILES: dict[str, tuple[bytes, str]] = {
    "deep.json": (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
    "deep_object.json": (b'{"a":' * 50_000 + b"1" + b"}" * 50_000, "nested too deeply"),
    "bigint.json": (b'{"title": "t", "text": "hello", "n": ' + b"1" * 5000 + b"}", "4300 digits"),
    "deep_yaml.md": (b"---\ntitle: " + b"[" * 5000 + b"]" * 5000 + b"\n---\nBody.\n", "nested deeper"),
    "bad_tag.md": (b"---\ntitle: Bad tag\nn: !!int xyz\n---\nBody.\n", "invalid YAML front matter"),
    "python_tag.md": (b"---\ntitle: !!python/object/apply:os.system [ls]\n---\nBody.\n", "invalid YAML"),
    "recursive.md": (b"---\ntitle: &a [*a]\n---\nBody.\n", "aliases expand"),
    "bomb.md": (ALIAS_BOMB.encode(), "aliases expand"),
    "broken.json": (b'{"title": "x", ', "invalid JSON"),
    "binary.txt": (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00", "binary file"),
    "empty.jsonl": (b"\n\n  \n", "empty file"),
    "trunc.json.gz": (gzip.compress(b'[{"title": "x", "text": "y"}]' * 10)[:40], "corrupt gzip"),
    "bomb.txt.gz": (gzip.compress(b"a" * (40 * limits.MB), 9), "gzip bomb"),
}


def write(folder: Path, name: str | bytes, content: str | bytes) -> Path:
    path = Path(os.fsdecode(os.path.join(os.fsencode(folder), os.fsencode(name))))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    return path


def reasons(skipped: list[Skipped]) -> dict[str, str]:
    return {s.path: s.reason for s in skipped}


def test_every_bad_file_is_skipped_with_its_reason_and_the_rest_loads(tmp_path, caplog):
    write(tmp_path, "good.txt", f"Wolves are back\n\n{GOOD}\n")
    for name, (content, _) in BAD_FILES.items():
        write(tmp_path, name, content)
    result = load_corpus(tmp_path)
    assert [a.title for a in result.articles] == ["Wolves are back"]
    got = reasons(result.skipped)
    for name, (_, why) in BAD_FILES.items():
        path = str(tmp_path / name)
        assert path in got, name
        assert why in got[path], (name, got[path])
        assert f"skipping {path}: {got[path]}" in caplog.text
    assert result.files == len(BAD_FILES) + 1


@pytest.mark.parametrize("name", sorted(BAD_FILES))
def test_an_upload_of_a_bad_file_is_refused_with_the_reason(name):
    content, why = BAD_FILES[name]
    with pytest.raises(ArticleError) as err:
        parse_bytes(name, content)
    assert why in err.value.reason


def test_jsonl_lines_are_isolated(tmp_path):
    lines = [
        LYNX,
        '{"title": "deep", "text": ' + "[" * 50_000 + "]" * 50_000 + "}",
        '{"title": "bigint", "text": "x", "n": ' + "9" * 5000 + "}",
        '{"title": "nul", "text": "a\x00b"}',
        '{"title": "latin", "text": "caf\xe9"}',
        "[1, 2]",
        BISON,
    ]
    latin1 = lines[4].encode("latin-1")  # b'... "caf\xe9"}': not UTF-8
    data = b"\n".join(latin1 if i == 4 else line.encode("utf-8") for i, line in enumerate(lines))
    path = write(tmp_path, "feed.jsonl", data)
    result = load_corpus(tmp_path)
    assert [a.title for a in result.articles] == ["Lynx", "latin", "Bison"]
    assert result.articles[1].text == "café"  # a Latin-1 line among UTF-8 ones is read as such
    got = reasons(result.skipped)
    assert list(got) == [f"{path}:2", f"{path}:3", f"{path}:4", f"{path}:6"]
    assert "nested too deeply" in got[f"{path}:2"]
    assert "4300 digits" in got[f"{path}:3"]
    assert "NUL" in got[f"{path}:4"]
    assert "expected an article object" in got[f"{path}:6"]


def test_jsonl_has_no_file_limit_only_a_line_limit(tmp_path, monkeypatch):
    monkeypatch.setattr(limits, "MAX_RECORD_BYTES", 400)
    monkeypatch.setattr(limits, "MAX_FILE_BYTES", 1000)
    lines = [json.dumps({"title": f"Story {i}", "text": f"Report number {i} about the river."}) for i in range(100)]
    lines[50] = json.dumps({"title": "Long", "text": "word " * 200})
    path = write(tmp_path, "feed.jsonl", "\n".join(lines) + "\n")
    assert path.stat().st_size > 5 * limits.MAX_FILE_BYTES
    result = load_corpus(tmp_path)
    assert len(result.articles) == 99
    assert [(s.path, s.reason.split(" (")[0]) for s in result.skipped] == [(f"{path}:51", "line too long")]


def test_too_many_bad_lines_are_counted_not_listed(tmp_path, monkeypatch):
    monkeypatch.setattr(limits, "MAX_LISTED_PROBLEMS", 5)
    path = write(tmp_path, "feed.jsonl", LYNX + "\n" + "{bad\n" * 20)
    result = load_corpus(tmp_path)
    assert len(result.articles) == 1
    assert len(result.skipped) == 6
    assert result.skipped[-1] == Skipped(str(path), "15 more bad parts, not listed one by one")


def test_a_file_with_no_good_line_is_one_entry(tmp_path):
    path = write(tmp_path, "bad.jsonl", "{oops\n[1]\n")
    result = load_corpus(tmp_path)
    assert len(result.skipped) == 1
    assert result.skipped[0].path == str(path)
    assert result.skipped[0].reason.startswith("no usable articles (line 1: invalid JSON")


def test_an_article_over_the_text_limit_is_skipped(tmp_path, monkeypatch):
    monkeypatch.setattr(limits, "MAX_ARTICLE_CHARS", 1000)
    write(tmp_path, "long.txt", "Long one\n\n" + "word " * 300)
    write(tmp_path, "short.txt", f"Short one\n\n{GOOD}")
    result = load_corpus(tmp_path)
    assert [a.title for a in result.articles] == ["Short one"]
    assert "article text too long" in result.skipped[0].reason


def test_single_document_files_over_the_limit_are_skipped_unread(tmp_path, monkeypatch):
    monkeypatch.setattr(limits, "MAX_FILE_BYTES", 1000)
    big = write(tmp_path, "big.md", "# Big\n\n" + "word " * 1000)
    zipped = write(tmp_path, "big.txt.gz", gzip.compress(b"Big\n\n" + b"word " * 1000))
    write(tmp_path, "small.md", f"# Small\n\n{GOOD}")
    result = load_corpus(tmp_path)
    assert [a.title for a in result.articles] == ["Small"]
    got = reasons(result.skipped)
    assert "file too large" in got[str(big)] and "file too large" in got[str(zipped)]


# --- links, special files, names --------------------------------------------------------------------


def test_links_outside_the_corpus_are_reported_and_never_read(tmp_path):
    corpus, outside = tmp_path / "corpus", tmp_path / "outside"
    write(outside, "secret.txt", "Secret title\n\nThe password is swordfish and nobody may know.")
    write(corpus, "good.txt", f"Wolves\n\n{GOOD}")
    write(corpus, "inner/real.txt", "Inner\n\nA story that lives inside the corpus folder.")
    (corpus / "passwd.txt").symlink_to("/etc/passwd")
    (corpus / "secret.txt").symlink_to(outside / "secret.txt")
    (corpus / "inside.txt").symlink_to(corpus / "inner" / "real.txt")  # inside: fine (a duplicate here)
    (corpus / "away").symlink_to(outside, target_is_directory=True)
    (corpus / "dangling.txt").symlink_to(corpus / "nowhere.txt")
    result = load_corpus(corpus)
    assert sorted(a.title for a in result.articles) == ["Inner", "Wolves"]
    assert all("swordfish" not in a.text and "root:" not in a.text for a in result.articles)
    got = reasons(result.skipped)
    assert got[str(corpus / "passwd.txt")] == "link to a file outside the corpus (/etc/passwd); not read"
    assert "outside the corpus" in got[str(corpus / "secret.txt")]
    assert "link to a folder outside the corpus" in got[str(corpus / "away")]
    assert "broken link" in got[str(corpus / "dangling.txt")]
    assert result.duplicates == 1


def test_special_files_are_skipped_without_opening_them(tmp_path):
    write(tmp_path, "good.txt", f"Wolves\n\n{GOOD}")
    os.mkfifo(tmp_path / "fifo.jsonl")  # opening it for reading would block until a writer comes
    (tmp_path / "zero.txt").symlink_to("/dev/zero")  # would never end
    stream = iter_corpus(tmp_path)
    items = list(stream)
    assert [i.title for i in items if isinstance(i, Article)] == ["Wolves"]
    got = reasons(stream.skipped)
    assert got[str(tmp_path / "fifo.jsonl")] == "not a regular file (a FIFO); not read"
    assert "outside the corpus" in got[str(tmp_path / "zero.txt")]
    with pytest.raises(ArticleError, match="not a regular file"):
        from bot.articles import load_file

        load_file("/dev/zero", name="zero.txt")


def test_file_names_that_are_not_utf8(tmp_path):
    write(tmp_path, b"caf\xe9.txt", f"Cafe\n\n{GOOD}")
    write(tmp_path, b"bad\xff.json", "{nope")
    result = load_corpus(tmp_path)
    assert [(a.id, a.path) for a in result.articles] == [("caf\\xe9", f"{tmp_path}/caf\\xe9.txt")]
    assert [s.path for s in result.skipped] == [f"{tmp_path}/bad\\xff.json"]
    for text in (result.articles[0].id, result.articles[0].path, result.skipped[0].path):
        text.encode("utf-8")  # valid Unicode everywhere


def test_iter_corpus_streams_articles_and_skips_in_corpus_order(tmp_path):
    write(tmp_path, "a.jsonl", f"{LYNX}\n{{bad\n{BISON}\n")
    write(tmp_path, "b.txt", f"Wolves\n\n{GOOD}")
    write(tmp_path, "c.json", "[1]")
    stream = iter_corpus(tmp_path)
    kinds = [(type(i).__name__, getattr(i, "title", None) or i.path.rsplit("/", 1)[-1]) for i in stream]
    assert kinds == [
        ("Article", "Lynx"),
        ("Skipped", "a.jsonl:2"),
        ("Article", "Bison"),
        ("Article", "Wolves"),
        ("Skipped", "c.json"),
    ]
    assert (stream.files, stream.duplicates, len(stream.skipped)) == (3, 0, 2)
    with pytest.raises(FileNotFoundError):
        iter_corpus(tmp_path / "missing")


def test_duplicates_are_found_by_hash_across_formats(tmp_path):
    write(tmp_path, "a.txt", f"Wolves\n\n{GOOD}")
    write(tmp_path, "b.jsonl", json.dumps({"title": "Again", "text": GOOD.upper()}) + "\n" + LYNX + "\n")
    write(tmp_path, "c.json", json.dumps({"title": "Same URL", "text": "Different.", "url": "https://x.test/a/"}))
    write(tmp_path, "d.json", json.dumps({"title": "URL", "text": "Other.", "url": "https://x.test/a"}))
    result = load_corpus(tmp_path)
    assert [a.title for a in result.articles] == ["Wolves", "Lynx", "Same URL"]
    assert result.duplicates == 2


# --- the command line over a corpus full of bad files ----------------------------------------------


def run(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    full = {k: v for k, v in os.environ.items() if not k.startswith("BOT_")}
    return subprocess.run(
        [sys.executable, "-m", "bot", *args], env={**full, **env}, capture_output=True, text=True, timeout=120
    )


def test_index_and_ask_over_a_corpus_of_bad_files(tmp_path):
    corpus = tmp_path / "corpus"
    write(corpus, "good.txt", f"Wolves are back\n\n{GOOD}")
    write(corpus, "feed.jsonl", f'{LYNX}\n{{"text": "a\\u0000b", "x": {"[" * 5000}\n{BISON}\n')
    for name, (content, _) in BAD_FILES.items():
        write(corpus, name, content)
    write(corpus, b"caf\xe9.txt", "Cafe by the river\n\nA cafe opened in the old mill by the river.")
    os.mkfifo(corpus / "fifo.jsonl")
    (corpus / "passwd.txt").symlink_to("/etc/passwd")
    (corpus / "zero.txt").symlink_to("/dev/zero")
    env = {"BOT_CORPUS_DIR": str(corpus), "BOT_INDEX_DIR": str(tmp_path / "index")}
    out = run("index", env=env)
    assert out.returncode == 0, out.stderr
    assert "articles 4," in out.stdout  # good.txt, two lines of feed.jsonl, café.txt
    for name in [*BAD_FILES, "feed.jsonl:2", "fifo.jsonl", "passwd.txt", "zero.txt"]:
        assert f"skipped {corpus}/{name}: " in out.stdout, name
    assert "Traceback" not in out.stderr
    manifest = json.loads(next((tmp_path / "index").glob("gen-*/manifest.json")).read_text())
    assert len(manifest["skipped"]) == len(BAD_FILES) + 4
    ask = run("ask", "--json", "cafe old mill", env=env)
    assert ask.returncode == 0, ask.stderr
    hit = json.loads(ask.stdout)["hits"][0]
    assert hit["article"]["id"] == "caf\\xe9" and hit["article"]["title"] == "Cafe by the river"
    root = run("ask", "--json", "root bin bash nologin daemon", env=env)
    assert json.loads(root.stdout)["hits"] == []


def test_the_bot_starts_over_bad_files_answers_and_refuses_bad_uploads_with_the_reason(tmp_path):
    from tests.fakebotapi import FakeBotAPI
    from tests.test_telegram_process import start_bot

    corpus = tmp_path / "corpus"
    write(corpus, "good.txt", f"Wolves are back\n\n{GOOD}")
    for name, (content, _) in BAD_FILES.items():
        write(corpus, name, content)
    write(corpus, b"caf\xe9.txt", "Cafe\n\nA cafe opened in the old mill by the river.")
    os.mkfifo(corpus / "fifo.jsonl")
    (corpus / "passwd.txt").symlink_to("/etc/passwd")
    with FakeBotAPI.running_in_thread() as api:
        proc = start_bot(api, corpus, tmp_path, index_dir=str(tmp_path / "index"))
        try:
            api.wait_for_sync("setMyCommands", timeout=60)
            api.push_message("how many years were the wolves away from the forest?")
            assert "forty years" in api.wait_for_sync("sendMessage", ok=True, timeout=15).result["text"]
            for name in ("deep.json", "bomb.md", "bigint.json"):
                content, why = BAD_FILES[name]
                api.push_document(name, content, user_id=4242)
                text = api.wait_for_sync("sendMessage", ok=True, timeout=15).result["text"]
                assert text.startswith(f"Not added: {name} is not a valid article file") and why in text, text
            proc.send_signal(signal.SIGTERM)
            _out, err = proc.communicate(timeout=30)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
    assert proc.returncode == 0, err
    assert "Traceback" not in err and "something went wrong" not in err
