"""Article fields, cleaned and normalised the same way for every format."""

from __future__ import annotations

import datetime as dt
import email.utils
import re
from pathlib import PurePosixPath
from typing import Any

from bot.loaders.model import Article


def clean(text: str) -> str:
    """One paragraph: BOMs removed, every run of whitespace (newlines too) made a single space."""
    return " ".join(text.replace("\ufeff", "").split())


def split_paragraphs(text: str) -> list[str]:
    """Text with blank lines between paragraphs -> cleaned, non-empty paragraphs."""
    return [p for p in (clean(chunk) for chunk in re.split(r"\n\s*\n", text)) if p]


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


def build_article(meta: dict[str, Any], paragraphs: list[str], default_id: str, name: str) -> Article:
    """An Article from raw metadata values, each cleaned and normalised the same way for all formats."""
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
