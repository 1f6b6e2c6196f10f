"""Callback data and inline offsets: what the bot puts in buttons, and the strict reading of what comes back.

Formats (kept stable: buttons on old messages must keep working after an upgrade):
``m:<key>:<offset>`` more (or earlier) passages for a remembered question, ``a:<article no>:<tag>`` a full
article, ``s:<page>`` a page of /sources. Clients echo these back, but anything may arrive, so reading is
strict: ASCII digits only (``"²".isdigit()`` is True and ``int("²")`` fails), bounded lengths and values,
and anything else reads as None -- never an exception.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.articles import Article
from bot.search import Answer, Engine

MAX_OFFSET = 1000  # deepest passage offset served (buttons and inline pages)
MAX_PAGE = 100_000  # /sources pages
MAX_ARTICLE_NO = 10**9
_HEX = re.compile(r"[0-9a-f]{1,16}")


@dataclass(frozen=True)
class More:
    key: str
    offset: int


@dataclass(frozen=True)
class FullArticle:
    no: int
    tag: str


@dataclass(frozen=True)
class SourcesPage:
    page: int


Button = More | FullArticle | SourcesPage


def ascii_number(text: str, maximum: int) -> int | None:
    """`text` as a number if it is 1+ ASCII digits worth at most `maximum`, else None."""
    if not text or len(text) > len(str(maximum)) or not text.isascii() or not text.isdigit():
        return None
    value = int(text)
    return value if value <= maximum else None


def read_button(data: str | None) -> Button | None:
    """The button a callback's data describes, or None for anything the bot did not make."""
    if not data or len(data) > 64:
        return None
    kind, _, rest = data.partition(":")
    if kind == "m":
        key, _, offset = rest.partition(":")
        n = ascii_number(offset, MAX_OFFSET)
        return More(key, n) if n is not None and _HEX.fullmatch(key) else None
    if kind == "a":
        no, _, tag = rest.partition(":")
        n = ascii_number(no, MAX_ARTICLE_NO)
        return FullArticle(n, tag) if n is not None and _HEX.fullmatch(tag) else None
    if kind == "s":
        page = ascii_number(rest, MAX_PAGE)
        return SourcesPage(page) if page is not None else None
    return None


def read_inline_offset(offset: str) -> int | None:
    """An inline query's offset: "" is the first page; anything but our own page numbers is None."""
    return 0 if offset == "" else ascii_number(offset, MAX_OFFSET)


def more_data(key: str, offset: int) -> str:
    return f"m:{key}:{offset}"


def article_data(no: int, a: Article) -> str:
    return f"a:{no}:{article_tag(a)}"


def sources_data(page: int) -> str:
    return f"s:{page}"


def article_tag(a: Article) -> str:
    """A short fingerprint of an article's id: finds it again if a reload renumbered the corpus."""
    return hashlib.blake2s(a.id.encode("utf-8"), digest_size=3).hexdigest()


def find_article(engine: Engine, no: int, tag: str) -> tuple[int, Article] | None:
    """The article a button meant, even if a reload renumbered the corpus since."""
    if 0 <= no < len(engine.articles) and article_tag(engine.articles[no]) == tag:
        return no, engine.articles[no]
    for i, a in enumerate(engine.articles):
        if article_tag(a) == tag:
            return i, a
    return None


def answer_keyboard(answer: Answer, key: str, k: int) -> InlineKeyboardMarkup | None:
    """‹ Back / More › for the question's other passages, and a Full article button per article shown."""
    rows: list[list[InlineKeyboardButton]] = []
    nav = []
    if answer.offset > 0:
        nav.append(InlineKeyboardButton("‹ Back", callback_data=more_data(key, max(0, answer.offset - k))))
    if answer.more and answer.offset + k <= MAX_OFFSET:
        nav.append(InlineKeyboardButton("More ›", callback_data=more_data(key, answer.offset + k)))
    if nav:
        rows.append(nav)
    seen: dict[int, Article] = {}
    for h in answer.hits:
        seen.setdefault(h.passage.article, h.article)
    for no, a in seen.items():
        label = "📄 Full article" if len(seen) == 1 else "📄 " + short(a.title or "Full article", 40)
        rows.append([InlineKeyboardButton(label, callback_data=article_data(no, a))])
    return InlineKeyboardMarkup(rows) if rows else None


def short(text: str, n: int) -> str:
    """`text` on one line, cut to `n` characters with an ellipsis."""
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - 1].rstrip() + "…"
