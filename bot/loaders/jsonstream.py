"""The elements of a large JSON list, one at a time, without parsing (or holding) the whole file.

A byte-level scanner: JSON's structural characters are ASCII and never occur inside a UTF-8 multi-byte
sequence, so finding where each element of the top-level list (or of a top-level object's `"data"` list,
as in SQuAD) begins and ends needs no decoding. Each element's bytes are then parsed on their own, so a
bad element is one skipped element and memory stays bounded by the largest element.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import BinaryIO

from bot.loaders.model import ArticleError

CHUNK = 1 << 18
_STRING_BODY = re.compile(rb'(?:[^"\\]++|\\.)*+', re.DOTALL)
_CONTAINER_STOP = re.compile(rb'["\[\]{}]')
_SCALAR_END = re.compile(rb"[,\]}\s]")
_SPACE = re.compile(rb"[ \t\r\n]*+")


class TooLong:
    """Stands for an element longer than the limit (skipped, not kept)."""

    def __init__(self, size: int) -> None:
        self.size = size


class _Scanner:
    def __init__(self, stream: BinaryIO, limit: int) -> None:
        self.stream = stream
        self.limit = limit
        self.buf = b""
        self.pos = 0
        self.offset = 0  # file offset of buf[0]
        self.eof = False
        self.mark: int | None = None  # start of the element being kept, in buf

    # -- buffer -------------------------------------------------------------------------------------

    def more(self) -> bool:
        """Read another chunk, keeping the unconsumed tail (and the kept element); False at the end."""
        if self.eof:
            return False
        chunk = self.stream.read(CHUNK)
        if not chunk:
            self.eof = True
            return False
        keep = self.pos if self.mark is None else self.mark
        self.offset += keep
        self.buf = self.buf[keep:] + chunk
        self.pos -= keep
        if self.mark is not None:
            self.mark = 0
            if len(self.buf) > self.limit + CHUNK:  # far too long: stop keeping it
                self.mark = None
        return True

    def peek(self) -> int | None:
        """The next non-space byte (not consumed), None at the end of the data."""
        while True:
            self.pos = _SPACE.match(self.buf, self.pos).end()  # type: ignore[union-attr]
            if self.pos < len(self.buf):
                return self.buf[self.pos]
            if not self.more():
                return None

    def expect(self, chars: bytes) -> int:
        c = self.peek()
        if c is None or c not in chars:
            found = "the end of the file" if c is None else repr(chr(c))
            raise ArticleError(
                f"invalid JSON: expected one of {chars.decode()!r} at byte {self.offset + self.pos}, found {found}"
            )
        self.pos += 1
        return c

    # -- values -------------------------------------------------------------------------------------

    def _string(self) -> None:
        """Past a string whose opening quote is at pos."""
        self.pos += 1
        while True:
            self.pos = _STRING_BODY.match(self.buf, self.pos).end()  # type: ignore[union-attr]
            if self.pos < len(self.buf) and self.buf[self.pos] == 0x22:  # '"'
                self.pos += 1
                return
            if not self.more():
                raise ArticleError("invalid JSON: unterminated string at the end of the file")

    def value(self, keep: bool) -> bytes | TooLong | None:
        """Scan one value starting at the next non-space byte: its bytes (keep), else None."""
        c = self.peek()
        if c is None:
            raise ArticleError("invalid JSON: the file ends where a value should be")
        start_offset = self.offset + self.pos
        if keep:
            self.mark = self.pos
        if c == 0x22:
            self._string()
        elif c in b"[{":
            depth = 0
            while True:
                m = _CONTAINER_STOP.search(self.buf, self.pos)
                if m is None:
                    self.pos = len(self.buf)
                    if not self.more():
                        raise ArticleError("invalid JSON: the file ends inside a list or object")
                    continue
                self.pos = m.start()
                ch = self.buf[self.pos]
                if ch == 0x22:
                    self._string()
                    continue
                self.pos += 1
                depth += 1 if ch in b"[{" else -1
                if depth == 0:
                    break
        else:
            while True:
                m = _SCALAR_END.search(self.buf, self.pos)
                if m is not None:
                    self.pos = m.start()
                    break
                self.pos = len(self.buf)
                if not self.more():
                    break
        size = self.offset + self.pos - start_offset
        if not keep:
            return None
        mark, self.mark = self.mark, None
        if mark is None or size > self.limit:
            return TooLong(size)
        return self.buf[mark : self.pos]

    def key(self) -> str:
        """An object key, decoded."""
        raw = self.value(keep=True)
        if not isinstance(raw, bytes) or not raw.startswith(b'"'):
            raise ArticleError("invalid JSON: an object key must be a string")
        return raw[1:-1].decode("utf-8", "replace")

    def elements(self) -> Iterator[bytes | TooLong]:
        """The elements of the list whose '[' was just consumed."""
        if self.peek() == 0x5D:  # ']'
            self.pos += 1
            return
        while True:
            yield self.value(keep=True)  # type: ignore[misc]
            if self.expect(b",]") == 0x5D:
                return


def split(stream: BinaryIO, limit: int) -> Iterator[bytes | TooLong]:
    """The raw elements of the top-level list, or of the top-level object's "data" list (other members
    are passed over); elements over `limit` bytes come as TooLong. ArticleError when the file is not
    shaped like that or breaks off (the elements before the break have been yielded)."""
    scan = _Scanner(stream, limit)
    if scan.peek() == 0xEF:  # a UTF-8 byte order mark?
        while len(scan.buf) - scan.pos < 3 and scan.more():
            pass
        if scan.buf.startswith(b"\xef\xbb\xbf", scan.pos):
            scan.pos += 3
    first = scan.expect(b"[{")
    if first == 0x5B:
        yield from scan.elements()
    else:
        found = False
        if scan.peek() == 0x7D:  # '}'
            scan.pos += 1
        else:
            while True:
                name = scan.key()
                scan.expect(b":")
                if name == "data" and not found and scan.peek() == 0x5B:
                    scan.pos += 1
                    found = True
                    yield from scan.elements()
                else:
                    scan.value(keep=False)
                if scan.expect(b",}") == 0x7D:
                    break
        if not found:
            raise ArticleError('a JSON object this large must hold its articles in a "data" list')
    if scan.peek() is not None:
        raise ArticleError(f"invalid JSON: extra data after the end, at byte {scan.offset + scan.pos}")
