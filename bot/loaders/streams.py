"""Byte streams of article files: a whole single document (bounded), and bounded gzip decompression."""

from __future__ import annotations

import gzip
import io
import zlib
from typing import Any, BinaryIO

from bot.loaders import limits
from bot.loaders.model import ArticleError

CHUNK = 1 << 20


def read_document(stream: BinaryIO, limit: int | None = None) -> bytes:
    """All of a single-document stream, refused when it exceeds `limit` (default MAX_FILE_BYTES)
    without reading past it, and refused when it holds nothing but whitespace."""
    limit = limits.MAX_FILE_BYTES if limit is None else limit
    data = stream.read(limit + 1)
    if len(data) > limit:
        raise ArticleError(f"file too large (over the {limits.mb(limit)} limit for one document)")
    if not data.strip():
        raise ArticleError("empty file")
    return data


class GzipStream(io.RawIOBase):
    """The decompressed bytes of a gzip stream, refusing a "gzip bomb": past GZIP_RATIO_FLOOR
    decompressed bytes, more than GZIP_MAX_RATIO times the compressed bytes read so far raises
    ArticleError. Corrupt or truncated data raises ArticleError too (with what was read before it kept)."""

    def __init__(self, raw: BinaryIO) -> None:
        super().__init__()
        self._raw = raw
        self._gz = gzip.GzipFile(fileobj=raw, mode="rb")
        self.decompressed = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        try:
            n = self._gz.readinto(buffer)
        except (OSError, EOFError, zlib.error) as e:
            raise ArticleError(f"corrupt gzip data ({e or type(e).__name__})") from None
        self.decompressed += n
        if self.decompressed > limits.GZIP_RATIO_FLOOR:
            compressed = max(self._raw.tell(), 1)
            if self.decompressed > limits.GZIP_MAX_RATIO * compressed:
                raise ArticleError(
                    f"gzip bomb refused ({limits.mb(compressed)} compressed grew past {limits.mb(self.decompressed)})"
                )
        return n

    def close(self) -> None:
        try:
            self._gz.close()
            self._raw.close()
        finally:
            super().close()


def gunzip(raw: BinaryIO) -> BinaryIO:
    """A buffered, bounded decompressing reader over `raw` (see GzipStream)."""
    return io.BufferedReader(GzipStream(raw), CHUNK)


class Prefixed:
    """`head` (already read from `stream`) followed by the rest of `stream`: enough of a stream for read()."""

    def __init__(self, head: bytes, stream: BinaryIO) -> None:
        self._head = head
        self._stream = stream

    def read(self, n: int = -1) -> bytes:
        if self._head:
            out = self._head if n < 0 else self._head[:n]
            self._head = self._head[len(out) :]
            return out
        return self._stream.read(n)


def peek(stream: BinaryIO, n: int) -> bytes:
    """The first `n` bytes of a fresh stream, left unconsumed (buffered readers peek, others seek back)."""
    if hasattr(stream, "peek"):
        return stream.peek(n)[:n]
    pos = stream.tell()
    head = stream.read(n)
    stream.seek(pos)
    return head
