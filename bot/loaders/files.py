"""Finding and opening the corpus's files safely.

Only regular files inside the corpus folder are read: a link that resolves outside it (`ln -s
/etc/passwd corpus/passwd.txt`), a FIFO, a device or a socket is reported and never opened (a FIFO would
block, /dev/zero never ends). Hidden files and folders are not looked into. File names need not be UTF-8.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import BinaryIO

from bot.loaders.model import ArticleError
from bot.loaders.streams import CHUNK, GZIP_CHUNK, gunzip

SUPPORTED_EXTENSIONS = (".txt", ".md", ".markdown", ".json", ".jsonl", ".html", ".htm")
COMPRESSED_SUFFIXES = (".gz",)


def format_of(name: str) -> tuple[str, bool]:
    """(the format's extension, compressed?) of a file name: 'a.jsonl.gz' -> ('.jsonl', True);
    the extension is '' or unsupported when the name says nothing we read."""
    path = PurePosixPath(name)
    suffix = path.suffix.lower()
    if suffix in COMPRESSED_SUFFIXES:
        return PurePosixPath(path.stem).suffix.lower(), True
    return suffix, False


def is_supported(name: str) -> bool:
    """Whether a file of this name is an article file we read (also gzip-compressed: `a.jsonl.gz`)."""
    return format_of(name)[0] in SUPPORTED_EXTENSIONS


def document_name(name: str) -> str:
    """The name a document's ids derive from: without a compression suffix ('feed.jsonl.gz' -> 'feed.jsonl')."""
    return name[: -len(PurePosixPath(name).suffix)] if format_of(name)[1] else name


@dataclass
class Entry:
    """A corpus file found by the walk; `problem` says why it is not read (it is still reported)."""

    path: str  # as the file system knows it (may hold surrogate-escaped bytes)
    name: str  # relative to the corpus folder, '/'-separated
    problem: str | None = None


def walk(root: str) -> list[Entry]:
    """Every supported file under `root`, sorted by relative path; links and special files checked."""
    real_root = os.path.realpath(root)
    found: list[tuple[tuple[str, ...], Entry]] = []
    stack: list[tuple[str, tuple[str, ...]]] = [(root, ())]
    while stack:
        folder, parts = stack.pop()
        try:
            entries = list(os.scandir(folder))
        except OSError as e:
            found.append((parts, Entry(folder, "/".join(parts) or ".", f"cannot read folder: {e.strerror or e}")))
            continue
        for entry in entries:
            if entry.name.startswith("."):
                continue
            rel = (*parts, entry.name)
            try:
                is_dir = entry.is_dir(follow_symlinks=False)
                is_link = entry.is_symlink()
            except OSError:
                continue
            if is_dir:
                stack.append((entry.path, rel))
            elif is_link and os.path.isdir(entry.path):
                outside = _outside(entry.path, real_root)
                if outside:  # a link to a folder elsewhere: not followed, and said so
                    found.append(
                        (
                            rel,
                            Entry(
                                entry.path,
                                "/".join(rel),
                                f"link to a folder outside the corpus ({outside}); not followed",
                            ),
                        )
                    )
            elif is_supported(entry.name):
                found.append((rel, Entry(entry.path, "/".join(rel), check(entry.path, real_root))))
    found.sort(key=lambda item: item[0])
    return [entry for _, entry in found]


def _outside(path: str, real_root: str) -> str | None:
    """Where `path` really leads when that is outside `real_root`; None when it stays inside."""
    real = os.path.realpath(path)
    if real == real_root or real.startswith(real_root.rstrip(os.sep) + os.sep):
        return None
    return real


def check(path: str, real_root: str | None) -> str | None:
    """Why `path` must not be read (outside the corpus, not a regular file, gone), or None."""
    if real_root is not None and os.path.islink(path):
        outside = _outside(path, real_root)
        if outside:
            return f"link to a file outside the corpus ({outside}); not read"
    try:
        st = os.stat(path)
    except OSError as e:
        return f"cannot read file: {e.strerror or e}" + (" (broken link)" if os.path.islink(path) else "")
    if not stat.S_ISREG(st.st_mode):
        return f"not a regular file ({_kind(st.st_mode)}); not read"
    return None


def _kind(mode: int) -> str:
    for test, kind in (
        (stat.S_ISFIFO, "a FIFO"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
        (stat.S_ISDIR, "a folder"),
    ):
        if test(mode):
            return kind
    return "not a plain file"


def open_article_file(path: str, compressed: bool) -> BinaryIO:
    """A buffered binary stream of a regular file (decompressed when `compressed`). Opened without
    blocking and checked again once open, so a file swapped for a FIFO meanwhile is still refused."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except OSError as e:
        raise ArticleError(f"cannot read file: {e.strerror or e}") from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise ArticleError(f"not a regular file ({_kind(st.st_mode)}); not read")
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        stream: BinaryIO = os.fdopen(fd, "rb", buffering=GZIP_CHUNK if compressed else CHUNK)
    except BaseException:
        os.close(fd)
        raise
    return gunzip(stream) if compressed else stream
