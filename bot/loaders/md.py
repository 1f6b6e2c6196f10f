""".md / .markdown: optional YAML front matter, then the body; a leading `# Title` heading is the title."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any, BinaryIO

import yaml

from bot.loaders import safeyaml
from bot.loaders.decoding import decode
from bot.loaders.fields import build_article, clean
from bot.loaders.model import Article, ArticleError, Problem
from bot.loaders.streams import read_document
from bot.loaders.txt import HEADER_KEYS

_FRONT_MATTER = re.compile(r"---[ \t]*\n(.*?)\n(?:---|\.\.\.)[ \t]*(?:\n|$)", re.DOTALL)
_KEYS = {
    **HEADER_KEYS,
    "authors": "author",
    "outlet": "source",
    "site": "source",
}


def read(name: str, stream: BinaryIO) -> Iterator[Article | Problem]:
    """Markdown with optional YAML front matter; a leading `# Title` heading becomes the title."""
    text = decode(read_document(stream))
    meta: dict[str, Any] = {}
    m = _FRONT_MATTER.match(text)
    if m:
        try:
            front = safeyaml.load(m.group(1))
        except yaml.YAMLError as e:
            raise ArticleError(f"invalid YAML front matter: {_first_line(e)}") from None
        if front is not None and not isinstance(front, dict):
            raise ArticleError("YAML front matter is not a mapping of fields")
        for key, value in (front or {}).items():
            field_name = _KEYS.get(str(key).lower())
            if field_name and field_name not in meta:
                meta[field_name] = value
        text = text[m.end() :]
    body = text.lstrip("\n")
    heading = re.match(r"#[ \t]+([^\n]*)\n?", body)
    if heading and heading.group(1).rstrip(" \t#"):
        meta.setdefault("title", heading.group(1).rstrip(" \t#"))
        body = body[heading.end() :]
    paragraphs = [p for p in (_strip_markdown(chunk) for chunk in re.split(r"\n\s*\n", body)) if p]
    if not paragraphs:
        raise ArticleError("no body text")
    yield build_article(meta, paragraphs, name)


# Each pattern stops at the next opening marker, so stripping stays linear in the text's length
# (`.+?` up to a closing marker that never comes would rescan the line from every opening one).
_INLINE = [
    (re.compile(r"<!--(?:(?!<!--|-->).)*-->", re.DOTALL), ""),  # comments
    (re.compile(r"!\[[^\[\]]*\]\([^()]{0,2000}\)"), ""),  # images
    (re.compile(r"\[([^\[\]]+)\]\([^()]{0,2000}\)"), r"\1"),  # links -> their text
    (re.compile(r"\*\*([^*\n]+)\*\*"), r"\1"),  # bold
    (re.compile(r"__([^_\n]+)__"), r"\1"),
    (re.compile(r"(?<![\w*])\*(?!\s)([^*\n]+?)(?<!\s)\*(?![\w*])"), r"\1"),  # *italic*
    (re.compile(r"(?<!\w)_(?!\s)([^_\n]+?)(?<!\s)_(?!\w)"), r"\1"),  # _italic_
    (re.compile(r"`+([^`]*)`+"), r"\1"),  # code
]
_LINE_PREFIX = re.compile(r"^[ \t]*(?:#{1,6}[ \t]+|>[ \t]?|[-*+][ \t]+|\d+[.)][ \t]+)")
_RULE_OR_FENCE = re.compile(r"[ \t]*(?:(?:[-*_][ \t]*){3,}|```.*|~~~.*)")


def _strip_markdown(chunk: str) -> str:
    """Light cleanup so the text reads as prose: no heading/list/quote markers, links, emphasis."""
    lines = chunk.split("\n")
    text = "\n".join(_LINE_PREFIX.sub("", line) for line in lines if not _RULE_OR_FENCE.fullmatch(line))
    for pattern, replacement in _INLINE:
        text = pattern.sub(replacement, text)
    return clean(text)


def _first_line(error: Exception) -> str:
    return str(error).strip().split("\n")[0]
