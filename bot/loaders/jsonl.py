""".jsonl: one article object per line, read line by line (no whole-file limit, MAX_RECORD_BYTES a line).

A bad line (invalid JSON, a NUL byte, too long, not an article) is one Problem `:LINE`; the others load.
"""

from __future__ import annotations

import codecs
from collections.abc import Iterator
from typing import BinaryIO

from bot.loaders import limits
from bot.loaders.decoding import RecordDecoder, bom_encoding
from bot.loaders.jsonfile import json_article, loads
from bot.loaders.model import Article, ArticleError, Problem
from bot.loaders.streams import CHUNK, peek


def read(name: str, stream: BinaryIO) -> Iterator[Article | Problem]:
    encoding = bom_encoding(peek(stream, 4))
    lines = _wide_lines(stream, encoding) if encoding else _lines(stream)
    decoder = RecordDecoder()
    blank = True
    for lineno, line in enumerate(lines, start=1):
        if isinstance(line, int):
            blank = False
            yield Problem(
                f":{lineno}", f"line too long ({limits.mb(line)}; limit {limits.mb(limits.MAX_RECORD_BYTES)})"
            )
            continue
        try:
            text = line if isinstance(line, str) else decoder(line)
            if not text.strip():
                continue
            blank = False
            yield json_article(loads(text), name, f":{lineno}")
        except ArticleError as e:
            blank = False
            yield Problem(f":{lineno}", e.reason)
    if blank:
        raise ArticleError("empty file")


def _lines(stream: BinaryIO) -> Iterator[bytes | int]:
    """Raw lines (without the newline); an over-long line as its length, read past without keeping it."""
    first = True
    while True:
        line = stream.readline(limits.MAX_RECORD_BYTES + 1)
        if not line:
            return
        if len(line) > limits.MAX_RECORD_BYTES and not line.endswith(b"\n"):
            size = len(line)
            while line and not line.endswith(b"\n"):
                line = stream.readline(CHUNK)
                size += len(line)
            yield size
            continue
        if first and line.startswith(codecs.BOM_UTF8):
            line = line[3:]
        first = False
        yield line.strip(b" \t\r\n\x1e")  # \x1e: RFC 7464 JSON text sequences


def _wide_lines(stream: BinaryIO, encoding: str) -> Iterator[str | int]:
    """Lines of a UTF-16/32 file (with its byte order mark), decoded incrementally."""
    decoder = codecs.getincrementaldecoder(encoding)("strict")
    pending = ""
    while True:
        chunk = stream.read(CHUNK)
        try:
            pending += decoder.decode(chunk, final=not chunk)
        except UnicodeDecodeError:
            raise ArticleError(f"binary file (invalid {encoding} text)") from None
        *done, pending = pending.split("\n")
        for line in done:
            yield line if len(line) <= limits.MAX_RECORD_BYTES else len(line)
        if not chunk:
            if pending.strip():
                yield pending
            return
        if len(pending) > limits.MAX_RECORD_BYTES:
            raise ArticleError(f"line too long (over {limits.mb(limits.MAX_RECORD_BYTES)})")
