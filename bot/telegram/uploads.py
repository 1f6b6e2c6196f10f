"""Saving an uploaded article file into the corpus folder: safe name, no overwrite, no half files."""

from __future__ import annotations

import os
import re
import tempfile
import unicodedata
from pathlib import Path

from pathvalidate import sanitize_filename

from bot.articles import COMPRESSED_SUFFIXES
from bot.settings import is_sample_corpus

# Characters kept in a name besides letters, combining marks and digits of any script.
_PUNCTUATION = frozenset(" -_.,()[]+'&")
# Invisible or line-breaking characters (controls, bidi overrides, zero-width marks, separators): dropped, so
# that "report\u202etxt.exe" cannot pretend to be something else.
_DROPPED = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})
_MAX_STEM_BYTES = 150  # UTF-8 bytes; with "-9999" and the extension, far below the 255 of most file systems
_MAX_EXT = 10
_PACKAGE_DIRS = frozenset({"site-packages", "dist-packages"})  # where pip and distributions install packages


def safe_name(name: str | None, default: str = "upload.txt") -> str:
    """A plain file name from whatever a client sent: letters of any script kept, no folders, no hidden
    files, no reserved names (CON, NUL, ...), no invisible characters, bounded length.

    "../../etc/passwd.txt" -> "passwd.txt"; "Пресс релиз (1).md" -> "Пресс релиз (1).md";
    ".env.txt" -> "env.txt"; "a:b?.json" -> "a_b.json"; "CON.txt" -> "CON_.txt".
    """
    base = unicodedata.normalize("NFC", (name or "").replace("\\", "/").split("/")[-1])
    base = "".join(" " if c.isspace() else c for c in base if c.isspace() or unicodedata.category(c) not in _DROPPED)
    stem, dot, ext = base.rpartition(".")
    if not dot:
        stem, ext = base, ""
    ext = "".join(c for c in ext.lower() if c.isascii() and c.isalnum())[:_MAX_EXT]
    stem = "".join(_keep(c) for c in stem)
    stem = re.sub(r"_+", "_", re.sub(r"\s+", " ", stem)).strip(" ._-")
    stem = _clip_utf8(stem, _MAX_STEM_BYTES).rstrip(" ._-")
    d_stem, _, d_ext = default.rpartition(".")
    # pathvalidate: names that no platform allows (reserved device names, trailing dots or spaces)
    return sanitize_filename(f"{stem or d_stem}.{ext or d_ext}", platform="universal", replacement_text="_")


def _keep(c: str) -> str:
    if c in _PUNCTUATION or unicodedata.category(c)[0] in "LMN":
        return c
    return " " if c.isspace() else "_"


def _clip_utf8(text: str, limit: int) -> str:
    """The longest prefix of `text` within `limit` UTF-8 bytes that does not split a letter from its marks."""
    if len(text.encode("utf-8")) <= limit:
        return text
    cut = text.encode("utf-8")[:limit].decode("utf-8", "ignore")
    if unicodedata.category(text[len(cut)])[0] == "M":  # the next character belongs to the last letter
        while cut and unicodedata.category(cut[-1])[0] == "M":
            cut = cut[:-1]
        cut = cut[:-1]
    return cut


def upload_refusal(corpus: Path) -> str | None:
    """Why an upload cannot be saved into `corpus` (one line for the admin), or None when it can.

    Never into an installed package (site-packages): pip owns those files and replaces them on the next
    install, so the sample article that ships with the package is read-only there. In a clone, ./corpus
    links to bot/sample/ in the checkout, which is the user's own folder: uploads go there as they always did.
    """
    resolved = corpus.resolve()
    if any(part in _PACKAGE_DIRS for part in resolved.parts):
        what = "the sample article installed with the package" if is_sample_corpus(corpus) else "a folder"
        return (
            f"the bot is answering from {what} inside the Python installation ({resolved}), which is read-only "
            "for uploads. Set BOT_CORPUS_DIR to a folder of your own (the sample can be copied there) and restart."
        )
    if corpus.exists() and not corpus.is_dir():
        return f"the corpus is the single file {corpus.name}; set BOT_CORPUS_DIR to a folder to add articles."
    probe = corpus if corpus.exists() else next((p for p in resolved.parents if p.exists()), None)
    if probe is not None and not os.access(probe, os.W_OK | os.X_OK):
        return f"the corpus folder {corpus} is read-only for the bot."
    return None


def split_extension(name: str) -> tuple[str, str]:
    """(stem, extension with its dot) where a compressed file's extension is both suffixes:
    'feed.jsonl.gz' -> ('feed', '.jsonl.gz'), so a numbered copy stays readable ('feed-1.jsonl.gz')."""
    stem, dot, ext = name.rpartition(".")
    if not dot:
        return name, ""
    if "." + ext.lower() in COMPRESSED_SUFFIXES:
        inner_stem, inner_dot, inner = stem.rpartition(".")
        if inner_dot and inner_stem:
            return inner_stem, f".{inner}.{ext}"
    return stem, f".{ext}"


def save_upload(folder: Path, name: str, data: bytes) -> Path:
    """Write `data` as folder/name, or name-1, name-2, ... when taken; never overwrites a file.

    The bytes go to a hidden temporary file first (the corpus loader skips hidden files), then
    are linked under the final name, which fails rather than replaces if the name was taken
    meanwhile; a reload never sees a half-written file.
    """
    folder.mkdir(parents=True, exist_ok=True)
    stem, ext = split_extension(safe_name(name))
    fd, tmp = tempfile.mkstemp(prefix=".upload-", suffix=".tmp", dir=folder)
    try:
        os.fchmod(fd, 0o644)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        for n in range(0, 10_000):
            target = folder / (f"{stem}{'-' + str(n) if n else ''}{ext}")
            if _claim(Path(tmp), target):
                return target
        raise FileExistsError(f"no free name for {name} in {folder}")
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _claim(tmp: Path, target: Path) -> bool:
    """Give `tmp` the name `target` unless that exists; True when it did."""
    try:
        os.link(tmp, target)  # atomic, and fails if target exists
        return True
    except FileExistsError:
        return False
    except OSError:  # a file system without hard links: reserve the name, then replace it
        try:
            fd = os.open(target, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            return False
        os.close(fd)
        os.replace(tmp, target)
        return True
