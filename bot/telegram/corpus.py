"""The Telegram layer's view of the corpus: `bot.service.Library` plus how its reports read.

The Library (current engine, atomic swaps, coalesced reloads, old index kept on failure) is the
core's; this module only opens it from Settings and renders its ReloadSummary for admins.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from bot.render import html_reload_summary
from bot.search import Engine
from bot.service import Library, ReloadSummary
from bot.settings import Settings

if TYPE_CHECKING:
    from bot.replicas.generations import ReplicatedLibrary


class CorpusLibrary(Protocol):
    """What the bot needs of a Library (tests may pass anything shaped like it)."""

    @property
    def engine(self) -> Engine: ...

    async def reload(self) -> ReloadSummary: ...


def open_library(settings: Settings) -> Library | ReplicatedLibrary:
    """The corpus as a Library, its first engine ready (a fresh persisted index, else a build).

    With BOT_REDIS_URL it is opened as one replica of several (one build per index folder).
    """
    if settings.redis_url:
        from bot.telegram.shared_redis import open_replicated_library

        return open_replicated_library(settings)
    library = Library(
        settings.corpus_dir,
        settings.search_settings(),
        index_dir=settings.resolved_index_dir,
    )
    library.open()
    return library


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
