"""Saving an uploaded article file into the corpus folder: safe name, no overwrite, no half files."""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

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
