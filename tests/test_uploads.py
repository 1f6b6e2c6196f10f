"""Admin uploads: where they may be saved, and under which name."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import unicodedata
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pathvalidate import validate_filename

from bot.settings import SAMPLE_CORPUS
from bot.telegram.uploads import safe_name, save_upload, upload_refusal
from tests.conftest import ADMIN_ID, running_bot

ROOT = Path(__file__).resolve().parent.parent
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


def installed_copy(root: Path, packages: str = "site-packages") -> Path:
    """The sample as an installed package holds it: <prefix>/lib/python3.x/site-packages/bot/sample/."""
    target = root / "venv" / "lib" / "python3.11" / packages / "bot" / "sample"
    shutil.copytree(SAMPLE_CORPUS, target)
    return target


def test_uploads_never_go_into_an_installed_package(tmp_path):
    for packages in ("site-packages", "dist-packages"):
        installed = installed_copy(tmp_path / packages, packages)
        why = upload_refusal(installed) or ""
        assert "inside the Python installation" in why and "BOT_CORPUS_DIR" in why
        assert upload_refusal(installed / "000_d4a8a0365c09b999.txt")  # a file in there too
    single = tmp_path / "one.txt"
    single.write_text("Title: One\n\nText.\n")
    assert "single file" in (upload_refusal(single) or "")
    assert upload_refusal(tmp_path) is None
    assert upload_refusal(tmp_path / "new" / "folder") is None  # created on the first upload


def test_in_a_clone_uploads_go_through_the_corpus_link_into_the_checkout(tmp_path):
    clone = tmp_path / "clone"
    shutil.copytree(SAMPLE_CORPUS, clone / "bot" / "sample")
    (clone / "corpus").symlink_to(Path("bot") / "sample")  # as the repository has it
    assert upload_refusal(clone / "corpus") is None
    saved = save_upload(clone / "corpus", "harbour.txt", b"Title: Harbour\n\nTwo new cranes.\n")
    assert saved.resolve() == (clone / "bot" / "sample" / "harbour.txt").resolve()
    repo_link = ROOT / "corpus"
    assert repo_link.is_symlink() and repo_link.resolve() == SAMPLE_CORPUS  # one copy of the sample


def test_the_sample_of_this_installation_is_refused_exactly_when_it_is_installed(tmp_path):
    """Run from an empty folder: CI's non-editable install refuses; a clone's editable install accepts."""
    code = (
        "from bot.settings import SAMPLE_CORPUS as s; from bot.telegram.uploads import upload_refusal as r; "
        "print(s); print(r(s))"
    )
    env = {**os.environ, "PYTHONPATH": ""}
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60
    )
    sample, why = out.stdout.splitlines()
    installed = any(part in ("site-packages", "dist-packages") for part in Path(sample).parts)
    assert why.startswith("the bot is answering from the sample article installed") if installed else why == "None"


async def test_admin_upload_into_an_installed_sample_says_why_and_writes_nothing(fake_api, clean_env, tmp_path):
    installed = installed_copy(tmp_path)
    before = sorted(p.name for p in installed.iterdir())
    async with running_bot(fake_api, installed):
        fake_api.push_document("harbour.txt", b"Title: Harbour\n\nTwo new cranes.\n", user_id=ADMIN_ID)
        call = await fake_api.wait_for("sendMessage", ok=True, timeout=20)
    text = call.result["text"]
    assert text.startswith("Not added: the bot is answering from") and "inside the Python installation" in text
    assert "BOT_CORPUS_DIR" in text
    assert sorted(p.name for p in installed.iterdir()) == before
