"""What one bot process runs on: the shared-state backends and the corpus library its settings ask for.

With BOT_REDIS_URL the process is one replica of several (Redis-backed state, a replicated library);
without it everything stays in this process (bot.telegram.shared's in-memory defaults, a plain Library).
This module sits above both choices, so neither `shared` nor `corpus` imports the Redis glue that
imports them. The Redis glue (and redis-py) is imported only when asked for.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.service import Library
from bot.settings import Settings
from bot.telegram.shared import Backends, local_backends

if TYPE_CHECKING:
    from bot.replicas.generations import ReplicatedLibrary


def choose_backends(settings: Settings) -> Backends:
    """The backends these settings ask for: Redis shared by replicas with BOT_REDIS_URL, else memory."""
    if settings.redis_url:
        from bot.telegram.shared_redis import redis_backends

        return redis_backends(settings)
    return local_backends(settings)


def open_library(settings: Settings) -> Library | ReplicatedLibrary:
    """The corpus as a Library, its first engine ready (a fresh persisted index, else a build).

    With BOT_REDIS_URL it is opened as one replica of several (one build per index folder).
    """
    if settings.redis_url:
        from bot.telegram.shared_redis import open_replicated_library

        return open_replicated_library(settings)
    library = Library(settings.corpus_dir, settings.search_settings(), index_dir=settings.resolved_index_dir)
    library.open()
    return library
