"""The Telegram layer's view of the corpus: `bot.service.Library` plus how its reports read.

The Library (current engine, atomic swaps, coalesced reloads, old index kept on failure) is the
core's; this module says what the bot needs of it and renders its ReloadSummary for admins
(`bot.telegram.backends.open_library` opens it from Settings).
"""

from __future__ import annotations

from typing import Protocol

from bot.render import html_reload_summary
from bot.search import Engine
from bot.service import ReloadSummary


class CorpusLibrary(Protocol):
    """What the bot needs of a Library (tests may pass anything shaped like it)."""

    @property
    def engine(self) -> Engine: ...

    async def reload(self) -> ReloadSummary: ...


def html_reload_report(r: ReloadSummary) -> str:
    return html_reload_summary(
        r.ok,
        (r.before_articles, r.before_passages),
        (r.after_articles, r.after_passages) if r.ok else None,
        r.seconds,
        r.skipped,
        r.error,
        r.coalesced,
    )
