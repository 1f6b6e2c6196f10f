"""Byte streams of article files: a whole single document (bounded), and bounded gzip decompression."""

from __future__ import annotations

import io
import zlib
from typing import Any, BinaryIO

from bot.loaders import limits
from bot.loaders.model import ArticleError

CHUNK = 1 << 20
GZIP_CHUNK = 1 << 18  # each read decompresses at most this much: it is held twice for a moment


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
    """The decompressed bytes of a gzip stream (several members too), refusing a "gzip bomb": past
    GZIP_RATIO_FLOOR decompressed bytes, more than GZIP_MAX_RATIO times the compressed bytes read so far
    raises ArticleError. Corrupt or truncated data raises ArticleError, but only once everything that
    decompressed before the damage has been read (so the good lines before it still load)."""

    def __init__(self, raw: BinaryIO) -> None:
        super().__init__()
        self._raw = raw
        self._d = zlib.decompressobj(31)  # 31: a gzip header and trailer
        self._eof = False
        self.compressed = 0
        self.decompressed = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        out = self._decompress(len(buffer))
        n = len(out)
        buffer[:n] = out
        self.decompressed += n
        if self.decompressed > limits.GZIP_RATIO_FLOOR and self.decompressed > limits.GZIP_MAX_RATIO * self.compressed:
            raise ArticleError(
                f"gzip bomb refused ({limits.mb(self.compressed)} compressed grew past {limits.mb(self.decompressed)})"
            )
        return n

    def _decompress(self, size: int) -> bytes:
        while not self._eof:  # loops until some output, the end, or an error
            data = self._d.unconsumed_tail
            if not data and self._d.eof:  # a member ended: another may follow (zero padding may too)
                data = self._d.unused_data.lstrip(b"\0")
                while not data:
                    more = self._read()
                    if not more:
                        self._eof = True
                        return b""
                    data = more.lstrip(b"\0")
                self._d = zlib.decompressobj(31)
            elif not data:
                data = self._read()
                if not data:
                    raise ArticleError("corrupt gzip data (the file is truncated)")
            try:
                out = self._d.decompress(data, size)
            except zlib.error as e:
                raise ArticleError(f"corrupt gzip data ({e})") from None
            if out:
                return out
        return b""

    def _read(self) -> bytes:
        data = self._raw.read(GZIP_CHUNK)
        self.compressed += len(data)
        return data

    def close(self) -> None:
        try:
            self._raw.close()
        finally:
            super().close()


def gunzip(raw: BinaryIO) -> BinaryIO:
    """A buffered, bounded decompressing reader over `raw` (see GzipStream)."""
    return io.BufferedReader(GzipStream(raw), GZIP_CHUNK)


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
