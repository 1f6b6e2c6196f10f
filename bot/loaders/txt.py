""".txt: a `Key: value` header and a blank line, or the sample's title line / paragraphs / byline."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import BinaryIO

from bot.loaders.decoding import decode
from bot.loaders.fields import build_article, clean, split_paragraphs
from bot.loaders.model import Article, ArticleError, Problem
from bot.loaders.streams import read_document

HEADER_KEYS = {
    "title": "title",
    "author": "author",
    "source": "source",
    "url": "url",
    "id": "id",
    "date": "published",
    "published": "published",
    "language": "lang",
    "lang": "lang",
}
_HEADER_LINE = re.compile(r"([A-Za-z]+)[ \t]*:[ \t]*(.*)")


def read(name: str, stream: BinaryIO) -> Iterator[Article | Problem]:
    """Plain text: a `Key: value` header block and a blank line, or title line + body + byline."""
    lines = decode(read_document(stream)).split("\n")
    while lines and not lines[0].strip():
        lines.pop(0)
    meta, rest = _header(lines)
    if meta is None:  # the sample's convention: title line, paragraphs, `Name, Outlet` last line
        meta = {}
        rest = _drop_byline(lines, meta)
    if "title" not in meta:
        while rest and not rest[0].strip():
            rest.pop(0)
        if not rest:
            raise ArticleError("no text")
        meta["title"] = rest.pop(0)
    paragraphs = split_paragraphs("\n".join(rest))
    if not paragraphs:
        raise ArticleError("no body text (only a title)")
    yield build_article(meta, paragraphs, name)


def _header(lines: list[str]) -> tuple[dict[str, str] | None, list[str]]:
    """The leading `Key: value` lines (known keys only), if a blank line ends them; else None."""
    meta: dict[str, str] = {}
    for i, line in enumerate(lines):
        m = _HEADER_LINE.fullmatch(line.strip())
        if m and m.group(1).lower() in HEADER_KEYS:
            meta[HEADER_KEYS[m.group(1).lower()]] = m.group(2)
            continue
        if meta and not line.strip():
            return meta, lines[i + 1 :]
        break
    return None, lines


def _drop_byline(lines: list[str], meta: dict[str, str]) -> list[str]:
    """Remove a last line like "Vitaut Siuchyk, Belsat TV", putting author and source in `meta`."""
    end = len(lines)
    while end and not lines[end - 1].strip():
        end -= 1
    if end < 2:  # a lone line is the title, never a byline
        return lines
    parts = _byline_parts(lines[end - 1])
    if parts is None:
        return lines
    meta["author"], meta["source"] = parts
    return lines[: end - 1]


_NAME_WORD = re.compile(r"(?:[A-Z\u0400-\u042F\u00C0-\u00DE][\w'’.-]*|de|van|von|der|da|di|la|le|bin|al)")


def _byline_parts(line: str) -> tuple[str, str] | None:
    """(author, outlet) if the line is short, has one comma, no sentence end, and a name before it."""
    line = clean(line)
    if len(line) > 80 or line.count(",") != 1 or line[-1] in '.!?:;…"”»)' or ":" in line:
        return None
    author, outlet = (part.strip() for part in line.split(","))
    words = author.split()
    if not outlet or not 1 <= len(words) <= 4 or len(outlet.split()) > 6:
        return None
    if not all(_NAME_WORD.fullmatch(w) for w in words) or any(c.isdigit() for c in author):
        return None
    return author, outlet
