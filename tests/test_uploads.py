"""Admin uploads: where they may be saved, and under which name."""

from __future__ import annotations

import os
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pathvalidate import validate_filename

from bot.settings import SAMPLE_CORPUS
from bot.telegram.uploads import safe_name, save_upload, upload_refusal
from tests.conftest import ADMIN_ID, running_bot

SUPPORTED = ("txt", "md", "json", "jsonl", "html")


@pytest.mark.parametrize(
    "raw, safe",
    [
        ("Пресс релиз (1).md", "Пресс релиз (1).md"),
        ("Ελληνικά νέα.HTML", "Ελληνικά νέα.html"),
        ("خبر عاجل.txt", "خبر عاجل.txt"),
        ("新闻 2024.jsonl", "新闻 2024.jsonl"),
        ("naïve—report.md", "naïve_report.md"),  # a dash that is not in the kept set becomes "_"
        ("../../etc/passwd.txt", "passwd.txt"),
        ("C:\\Users\\x\\notes.md", "notes.md"),
        (".env.txt", "env.txt"),
        ("..", "upload.txt"),
        ("CON.txt", "CON_.txt"),  # reserved device names stay unusable as such
        ("nul.json", "nul_.json"),
        ("report\u202etxt.exe.txt", "reporttxt.exe.txt"),  # a right-to-left override is dropped
        ("zero\u200bwidth.md", "zerowidth.md"),
        ("tab\there\nnow.txt", "tab here now.txt"),
        ("a:b*c?<d>|e.txt", "a_b_c_d_e.txt"),
        ("notes.T X T", "notes.txt"),
        ("no extension", "no extension.txt"),
    ],
)
def test_safe_name_keeps_letters_of_every_script(raw, safe):
    assert safe_name(raw) == safe


def test_long_names_are_cut_on_a_letter_boundary():
    name = safe_name("q\u0301" * 200 + ".md")  # q + combining acute: no precomposed form exists
    stem = name.removesuffix(".md")
    assert len(name.encode()) <= 160 and stem and unicodedata.category(stem[0])[0] == "L"
    assert stem.endswith("\u0301") and not stem.endswith("q")  # never a q without its accent
    assert len(safe_name("新" * 500 + ".txt").encode()) <= 160


names = st.text(st.characters(codec="utf-8"), max_size=300) | st.builds(
    lambda a, b: f"{a}.{b}", st.text(max_size=80), st.sampled_from((*SUPPORTED, "MD", "", "exe", "t x t"))
)


@given(names)
@settings(max_examples=400, deadline=None)
def test_safe_name_is_always_one_plain_visible_file_name(raw):
    name = safe_name(raw)
    validate_filename(name, platform="universal")  # raises if any platform would refuse it
    assert "/" not in name and "\\" not in name and not name.startswith((".", " ", "-"))
    assert len(name.encode("utf-8")) <= 170
    assert not any(unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") for c in name)
    stem, _, ext = name.rpartition(".")
    assert stem and ext.isascii() and ext.isalnum() and ext == ext.lower()
    letters = [c for c in unicodedata.normalize("NFC", raw.replace("\\", "/").split("/")[-1]) if c.isalpha()]
    if letters and len(raw.encode()) < 100 and "." not in raw:  # a short name keeps all its letters
        assert [c for c in stem if c.isalpha()] == letters


@given(st.lists(names, min_size=1, max_size=5))
@settings(max_examples=60, deadline=None)
def test_uploads_land_inside_the_folder_and_never_overwrite(tmp_path_factory, raws):
    folder = tmp_path_factory.mktemp("uploads")
    saved = [save_upload(folder, raw, raw.encode("utf-8", "replace")) for raw in raws]
    assert all(p.parent == folder and p.read_bytes() == raw.encode("utf-8", "replace") for p, raw in zip(saved, raws))
    assert len({p.name for p in saved}) == len(saved) == len(os.listdir(folder))  # no temp file left behind


def test_uploads_into_the_bundled_sample_are_refused(tmp_path):
    assert "bundled sample" in (upload_refusal(SAMPLE_CORPUS) or "")
    assert "BOT_CORPUS_DIR" in (upload_refusal(SAMPLE_CORPUS / "000_d4a8a0365c09b999.txt") or "")
    single = tmp_path / "one.txt"
    single.write_text("Title: One\n\nText.\n")
    assert "single file" in (upload_refusal(single) or "")
    assert upload_refusal(tmp_path) is None
    assert upload_refusal(tmp_path / "new" / "folder") is None  # created on the first upload


async def test_admin_upload_to_the_sample_corpus_says_why_and_writes_nothing(fake_api, clean_env):
    before = sorted(p.name for p in SAMPLE_CORPUS.iterdir())
    async with running_bot(fake_api, SAMPLE_CORPUS):
        fake_api.push_document("harbour.txt", b"Title: Harbour\n\nTwo new cranes.\n", user_id=ADMIN_ID)
        call = await fake_api.wait_for("sendMessage", ok=True, timeout=20)
    text = call.result["text"]
    assert text.startswith("Not added: the bot is answering from the bundled sample corpus")
    assert "BOT_CORPUS_DIR" in text
    assert sorted(p.name for p in SAMPLE_CORPUS.iterdir()) == before
