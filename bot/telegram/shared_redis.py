"""Redis behind the handlers' shared-state interfaces (`BOT_REDIS_URL`): several replicas act as one bot.

`redis_backends(settings)` gives the `Backends` of one replica: "More" keys, user limits and the
outgoing budget in Redis (bot.replicas), and an intake that writes each webhook update to the Redis
stream (the webhook answers 2xx only then) and consumes the stream with the other replicas. While Redis is
down every piece works from this replica's memory (an update is then handled where it arrived).
`open_replicated_library(settings)` opens the corpus under the index folder's lock, so replicas starting
together build once; the `ReplicaService` keeps it on the replicas' one index generation while serving.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
from typing import TYPE_CHECKING

from bot.chats import is_group
from bot.replicas.generations import ReplicatedLibrary
from bot.replicas.keys import RedisAnswerKeys
from bot.replicas.limits import RedisUserLimiter, SharedThrottle
from bot.replicas.link import REDIS_DOWN, RedisLink, Unavailable, safe_url
from bot.replicas.presence import Presence, replica_name
from bot.replicas.stream import MAX_UPDATE_ID, StreamConsumer, UpdateStream
from bot.service import Library
from bot.settings import Settings
from bot.telegram.shared import Backends, MemoryUserLimiter
from bot.telegram.state import state_of_app
from bot.telegram.updates import QueueIntake, process_raw_update, update_id_of

if TYPE_CHECKING:
    from telegram.ext import Application

log = logging.getLogger(__name__)


def namespace_for(settings: Settings) -> str:
    """Keys of one bot (the numeric id in its token, not secret), so bots may share a Redis."""
    token = settings.token.get_secret_value() if settings.token else ""
    return f"corpus-bot:{token.split(':', 1)[0] or 'bot'}"


class RedisSendBudget:
    """`SendBudget` shared by all replicas: together they keep Telegram's per-bot limits."""

    def __init__(self, throttle: SharedThrottle):
        self.throttle = throttle

    async def acquire(self, chat_id: int | str | None) -> None:
        await self.throttle.acquire(chat_id, group=chat_id is not None and is_group(chat_id))

    async def pause(self, chat_id: int | str | None, seconds: float) -> None:
        await self.throttle.pause(chat_id, seconds)


class RedisIntake:
    """`UpdateIntake` over the Redis stream; the in-process queue while Redis is down.

    It owns the replica's Redis link: started first and stopped last by `serve()`.
    """

    def __init__(self, link: RedisLink, name: str, concurrent: int):
        self.link = link
        self.name = name
        self.stream = UpdateStream(link)
        self.local = QueueIntake()
        self.concurrent = concurrent
        self.consumer: StreamConsumer | None = None

    async def start(self, application: Application) -> None:
        await self.local.start(application)
        await self.link.check()

        async def handle(data: dict) -> None:
            await process_raw_update(application, data)

        self.consumer = StreamConsumer(self.stream, self.name, handle, max_inflight=self.concurrent)
        await self.consumer.start()
        log.info("replica %s consuming updates from Redis at %s", self.name, safe_url(self.link.url))

    async def accept(self, update: dict) -> None:
        update_id = update_id_of(update)
        if update_id is None:
            raise ValueError("an update needs an integer update_id")
        if not 0 <= update_id < MAX_UPDATE_ID:  # no place in the shared dedupe: handled here, as one bot would
            await self.local.accept(update)
            return
        try:
            if not await self.stream.add(update):
                log.info("dropped update %s: already received", update["update_id"])
        except Unavailable:
            await self.local.accept(update)  # handled here, as a single bot would

    async def stop(self, grace: float = 0.0) -> int:
        """Stop reading; updates not answered within `grace` go back to the stream, unacknowledged."""
        left = 0
        if self.consumer is not None:
            left = await self.consumer.stop(grace)
        await self.local.stop()
        await self.link.close()
        return left


class ReplicaService:
    """While serving: say this replica is alive, and keep its index on the replicas' generation."""

    def __init__(self, link: RedisLink, presence: Presence):
        self.link = link
        self.presence = presence
        self.library: ReplicatedLibrary | None = None

    async def start(self, application: Application) -> None:
        await self.presence.start()
        library = state_of_app(application).library
        if isinstance(library, ReplicatedLibrary):
            self.library = library
            await library.start(self.link)

    async def stop(self) -> None:
        if self.library is not None:
            await self.library.stop()
        await self.presence.stop()


def redis_backends(settings: Settings) -> Backends:
    """The backends of one replica sharing `settings.redis_url` with the others."""
    assert settings.redis_url is not None
    link = RedisLink(settings.redis_url, namespace_for(settings))
    name = replica_name()
    presence = Presence(link, name)
    return Backends(
        answer_keys=RedisAnswerKeys(link),
        user_limiter=RedisUserLimiter(
            link,
            settings.user_questions_per_minute,
            settings.user_burst,
            fallback=MemoryUserLimiter(settings.user_questions_per_minute, settings.user_burst),
        ),
        send_budget=RedisSendBudget(
            SharedThrottle(link, settings.overall_max_rate, settings.group_max_rate, replicas=presence)
        ),
        intake=RedisIntake(link, name, settings.concurrent_updates),
        services=[ReplicaService(link, presence)],
    )


def open_replicated_library(settings: Settings) -> ReplicatedLibrary:
    """The corpus for a replica: opened under the index folder's lock (one build for replicas starting
    together on one folder), announced to the others. Blocking; runs its own short event loop (in a thread when called
    from a running one)."""
    assert settings.redis_url is not None
    library = Library(settings.corpus_dir, settings.search_settings(), index_dir=settings.resolved_index_dir)
    replicated = ReplicatedLibrary(library, replica_name())

    async def opening() -> None:
        link = RedisLink(settings.redis_url or "", namespace_for(settings))
        try:
            try:  # a plain ping: the serving link says "unreachable" (once) if Redis stays away
                await asyncio.wait_for(link.client.ping(), link.timeout + 0.5)
            except REDIS_DOWN as e:
                log.warning(
                    "opening the corpus without Redis (%s): replicas starting now are not coordinated with",
                    type(e).__name__,
                )
                await replicated.open(None)
            else:
                await replicated.open(link)
        finally:
            with contextlib.suppress(Exception):
                await link.close()

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        asyncio.run(opening())
    else:  # called from async code (an embedding program, tests): the short loop runs in a thread
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            pool.submit(asyncio.run, opening()).result()
    return replicated
