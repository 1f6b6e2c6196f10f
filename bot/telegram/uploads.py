"""Saving an uploaded article file into the corpus folder: safe name, no overwrite, no half files."""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

from bot.settings import is_sample_corpus

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_MAX_STEM = 80


def safe_name(name: str | None, default: str = "upload.txt") -> str:
    """A plain file name from whatever a client sent: no folders, no hidden files, ASCII only.

    "../../etc/passwd.txt" -> "passwd.txt"; "Пресс релиз (1).md" -> "1.md"; ".env.txt" -> "env.txt".
    """
    base = (name or "").replace("\\", "/").split("/")[-1]
    base = os.path.basename(base).strip()
    stem, dot, ext = base.rpartition(".")
    if not dot:
        stem, ext = base, ""
    stem = _UNSAFE.sub("_", stem).strip("._-")[:_MAX_STEM].strip("._-")
    ext = _UNSAFE.sub("", ext).lower()
    d_stem, _, d_ext = default.rpartition(".")
    return f"{stem or d_stem}.{ext or d_ext}"


def upload_refusal(corpus: Path) -> str | None:
    """Why an upload cannot be saved into `corpus` (one line for the admin), or None when it can.

    The bundled sample lives inside the installed package: writing there would change site-packages
    and be lost on the next install, so the admin is told how to give the bot a corpus of its own.
    """
    if is_sample_corpus(corpus):
        return (
            "the bot is answering from the bundled sample corpus, which is read-only. "
            "Set BOT_CORPUS_DIR to a folder of your own (the sample can be copied there) and restart the bot."
        )
    if corpus.exists() and not corpus.is_dir():
        return f"the corpus is the single file {corpus.name}; set BOT_CORPUS_DIR to a folder to add articles."
    probe = corpus if corpus.exists() else next((p for p in corpus.resolve().parents if p.exists()), None)
    if probe is not None and not os.access(probe, os.W_OK | os.X_OK):
        return f"the corpus folder {corpus} is read-only for the bot."
    return None


def save_upload(folder: Path, name: str, data: bytes) -> Path:
    """Write `data` as folder/name, or name-1, name-2, ... when taken; never overwrites a file.

    The bytes go to a hidden temporary file first (the corpus loader skips hidden files), then
    are linked under the final name, which fails rather than replaces if the name was taken
    meanwhile; a reload never sees a half-written file.
    """
    folder.mkdir(parents=True, exist_ok=True)
    stem, dot, ext = safe_name(name).rpartition(".")
    fd, tmp = tempfile.mkstemp(prefix=".upload-", suffix=".tmp", dir=folder)
    try:
        os.fchmod(fd, 0o644)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        for n in range(0, 10_000):
            target = folder / (f"{stem}{'-' + str(n) if n else ''}{dot}{ext}")
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
