"""Article fields, cleaned and normalised the same way for every format."""

from __future__ import annotations

import datetime as dt
import email.utils
import re
from pathlib import PurePosixPath
from typing import Any

from bot.loaders import limits
from bot.loaders.model import Article, ArticleError

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


_DATE_FORMATS = (
    "%B %d, %Y",  # December 9, 2019
    "%B %d %Y",
    "%b %d, %Y",  # Dec 9, 2019
    "%b. %d, %Y",
    "%d %B %Y",  # 9 December 2019
    "%d %b %Y",
    "%d.%m.%Y",  # 09.12.2019 (day first, as in Europe)
    "%Y/%m/%d",
    "%Y.%m.%d",
)


def normalize_date(value: Any) -> str | None:
    """A date in any common form -> 'YYYY-MM-DD'; an unparseable one is kept as written."""
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    raw = clean(str(value))
    if not raw:
        return None
    try:
        return dt.datetime.fromisoformat(raw).date().isoformat()
    except ValueError:
        pass
    for fmt in _DATE_FORMATS:
        try:
            return dt.datetime.strptime(raw, fmt).date().isoformat()
        except ValueError:
            pass
    try:  # RFC 2822, as in RSS feeds: "Mon, 09 Dec 2019 08:30:00 +0300"
        return email.utils.parsedate_to_datetime(raw).date().isoformat()
    except (TypeError, ValueError):
        return raw


def normalize_lang(value: Any) -> str | None:
    """'en', 'en-US', 'en_GB' -> 'en'; anything that is not a 2-letter code (e.g. 'English') -> None."""
    if not isinstance(value, str):
        return None
    m = re.fullmatch(r"([A-Za-z]{2})(?:[-_][A-Za-z0-9]+)*", value.strip())
    return m.group(1).lower() if m else None


def meta_text(value: Any) -> str | None:
    """A metadata value as a cleaned string (lists, e.g. several authors, joined by commas)."""
    if value is None:
        return None
    if isinstance(value, (list, tuple)):
        value = ", ".join(str(v) for v in value if v is not None)
    return clean(str(value)) or None


def stem(name: str) -> str:
    """Derived id of a single-article file: its relative path without the extension."""
    return str(PurePosixPath(name).with_suffix(""))


def title_from_name(name: str) -> str:
    """Fallback title when a document has none: the file name, readable."""
    return clean(PurePosixPath(name).stem.replace("_", " ").replace("-", " ")) or name


def check_length(paragraphs: list[str]) -> None:
    """ArticleError when the text is longer than one article may be (MAX_ARTICLE_CHARS)."""
    n = sum(map(len, paragraphs)) + 2 * (len(paragraphs) - 1)
    if n > limits.MAX_ARTICLE_CHARS:
        raise ArticleError(f"article text too long ({n:,} characters; the limit is {limits.MAX_ARTICLE_CHARS:,})")


def build_article(meta: dict[str, Any], paragraphs: list[str], default_id: str, name: str) -> Article:
    """An Article from raw metadata values, each cleaned and normalised the same way for all formats."""
    check_length(paragraphs)
    return Article(
        id=meta_text(meta.get("id")) or default_id,
        title=meta_text(meta.get("title")) or title_from_name(name),
        paragraphs=paragraphs,
        author=meta_text(meta.get("author")),
        source=meta_text(meta.get("source")),
        url=meta_text(meta.get("url")),
        published=normalize_date(meta.get("published")),
        lang=normalize_lang(meta.get("lang")),
    )
