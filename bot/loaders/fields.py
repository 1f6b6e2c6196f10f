"""Article fields, cleaned and normalised the same way for every format."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import re
from contextvars import ContextVar
from functools import lru_cache
from pathlib import PurePosixPath
from typing import Any

from bot.loaders import limits
from bot.loaders.dates import DateError, parse_date
from bot.loaders.model import Article, ArticleError

log = logging.getLogger("bot.articles")

# The file being read (as reports show it), set by bot.loaders.corpus while a reader runs, so that a
# warning about one field names the file the way the skip report does.
reading: ContextVar[str | None] = ContextVar("reading", default=None)

_UNWANTED = re.compile("[\x00-\x08\x7f\ufeff\ud800-\udfff]")


def clean(text: str) -> str:
    """One paragraph: every run of whitespace (newlines too) made a single space; BOMs and control
    characters removed, and lone surrogates (a JSON "\\ud800" escape) replaced, so that every text
    encodes as UTF-8 (the index store, Telegram and the terminal all need that)."""
    if text.isprintable() and "  " not in text and text[:1] != " " and text[-1:] != " ":
        return text  # the common case, checked at C speed: nothing to change
    text = " ".join(text.split())
    if _UNWANTED.search(text):
        text = " ".join(_UNWANTED.sub(_replacement, text).split())
    return text


def _replacement(m: re.Match[str]) -> str:
    return "\ufffd" if "\ud800" <= m.group() <= "\udfff" else ""


def split_paragraphs(text: str) -> list[str]:
    """Text with blank lines between paragraphs -> cleaned, non-empty paragraphs."""
    if "\n" not in text:  # one paragraph (most short articles): no regex needed
        return [p] if (p := clean(text)) else []
    return [p for p in (clean(chunk) for chunk in _BLANK_LINES.split(text)) if p]


_BLANK_LINES = re.compile(r"\n\s*\n")


def normalize_date(value: Any) -> str | None:
    """A date in any common form -> ISO 8601 ('2019-12-09'; '2019-12' or '2019' when that is all it
    says); None when there is none or it is not a possible date (see bot.loaders.dates)."""
    try:
        return parse_date(value)
    except DateError:
        return None


def normalize_lang(value: Any) -> str | None:
    """'en', 'en-US', 'en_GB' -> 'en'; anything that is not a 2-letter code (e.g. 'English') -> None."""
    return _lang(value.strip()) if isinstance(value, str) and len(value) < 40 else None


@lru_cache(maxsize=1024)
def _lang(value: str) -> str | None:
    m = re.fullmatch(r"([A-Za-z]{2})(?:[-_][A-Za-z0-9]+)*", value)
    return m.group(1).lower() if m else None


def meta_text(value: Any) -> str | None:
    """A metadata value as a cleaned string (lists, e.g. several authors, joined by commas). Only text,
    numbers and lists of them count: a mapping or a 5,000-digit number is no author or title."""
    if value is None:
        return None
    if type(value) is str:  # the common case first
        return clean(value) or None
    text = ", ".join(t for t in map(_scalar, value[:100]) if t) if isinstance(value, (list, tuple)) else _scalar(value)
    return (clean(text) or None) if text else None


def _scalar(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, bool) or value is None:
        return None
    if (isinstance(value, int) and abs(value) < 10**30) or isinstance(value, float):
        return str(value)
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return None


@lru_cache(maxsize=256)
def stem(name: str) -> str:
    """Derived id of a single-article file: its relative path without the extension."""
    return str(PurePosixPath(name).with_suffix(""))


def part_id(name: str, paragraphs: list[str], url: str | None) -> str:
    """Derived id of one article of a multi-article file: `feed/9f86d081884c` for `feed.jsonl`, from its URL
    (else its text), so that it stays the same when other lines are added, removed or reordered."""
    key = f"url:{url.strip().rstrip('/')}" if url else "text:" + " ".join(paragraphs)
    return f"{stem(name)}/{hashlib.blake2b(key.encode('utf-8'), digest_size=6).hexdigest()}"


def title_from_name(name: str) -> str:
    """Fallback title of a single-document file: the file name, readable."""
    return clean(PurePosixPath(name).stem.replace("_", " ").replace("-", " ")) or name


_SENTENCE_END = re.compile(r"[.!?…。！？](?=\s|$)")


def title_from_text(paragraphs: list[str], short: int = 100, cut: int = 80) -> str:
    """Fallback title of an article without one: its first sentence when that is short, else its first
    words (up to `cut` characters) and an ellipsis."""
    first = paragraphs[0]
    end = _SENTENCE_END.search(first, 20)  # not before 20 characters: "Dr. Ann Smith said ..."
    if end and end.end() <= short:
        title = first[: end.end()]
    elif len(first) <= short:
        title = first
    else:
        space = first.rfind(" ", 0, cut)
        return first[: space if space > cut // 2 else cut].rstrip(",;:-–— ") + "…"
    return title[:-1] if title.endswith(".") and not title.endswith("..") else title


def check_length(paragraphs: list[str]) -> None:
    """ArticleError when the text is longer than one article may be (MAX_ARTICLE_CHARS)."""
    n = sum(map(len, paragraphs)) + 2 * (len(paragraphs) - 1)
    if n > limits.MAX_ARTICLE_CHARS:
        raise ArticleError(f"article text too long ({n:,} characters; the limit is {limits.MAX_ARTICLE_CHARS:,})")


def build_article(
    meta: dict[str, Any], paragraphs: list[str], name: str, *, part: str | None = None, title_from: str = "name"
) -> Article:
    """An Article from raw metadata values, each cleaned and normalised the same way for all formats.

    `name` is the document's name, `part` where in it the article is (":LINE", "#INDEX") for a multi-
    article file. Without an id of its own, an article is named after its file (`sub/story` for
    `sub/story.txt`), or its file and its URL or text (see part_id). Without a title, it gets its file's
    name, or (`title_from="text"`) its first sentence. A date that is not a possible date is dropped with
    a warning naming the file.
    """
    check_length(paragraphs)
    url = meta_text(meta.get("url"))
    title = meta_text(meta.get("title"))
    if not title:
        title = title_from_text(paragraphs) if title_from == "text" else title_from_name(name)
    return Article(
        id=meta_text(meta.get("id")) or (part_id(name, paragraphs, url) if part else stem(name)),
        title=title,
        paragraphs=paragraphs,
        author=meta_text(meta.get("author")),
        source=meta_text(meta.get("source")),
        url=url,
        published=_date(meta.get("published"), name, part),
        lang=normalize_lang(meta.get("lang")),
    )


def _date(value: Any, name: str, part: str | None) -> str | None:
    try:
        return parse_date(value)
    except DateError as e:
        log.warning("%s%s: dropping the date %r (%s)", reading.get() or name, part or "", _short(value), e)
        return None


def _short(value: Any) -> str:
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
