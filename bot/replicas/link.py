"""One replica's link to Redis, and whether Redis is reachable right now.

Everything shared goes through `RedisLink.run`: while Redis answers it is a plain call; when a call fails
to connect or times out, the link goes *down* (logged once), later calls fail at once with `Unavailable`
(so a dead Redis costs no timeouts per update), and a probe pings every second until Redis answers again
(logged once), then the link is *up* and `on_up` callbacks run. Callers catch `Unavailable` and use their
local state meanwhile. A Redis that answers but refuses writes (memory full, read-only, failed disk save)
raises `Unavailable` for the refused calls only (reads go on), logged once, until a write goes through.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar
from urllib.parse import urlsplit, urlunsplit

import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

log = logging.getLogger(__name__)

T = TypeVar("T")
# What "Redis is not there" looks like (BusyLoadingError, a Redis still loading its AOF, is a ConnectionError).
REDIS_DOWN = (RedisConnectionError, RedisTimeoutError, OSError, asyncio.TimeoutError)
# What "Redis answers but refuses writes" looks like: memory full (maxmemory with noeviction), a read-only
# replica after a failover, a failed disk save (MISCONF). Also inside Lua scripts ("-OOM ..." in the text).
_REFUSALS = ("command not allowed when used memory", "READONLY", "read only replica", "MISCONF", "NOREPLICAS")


def is_refusal(error: ResponseError) -> bool:
    """Whether Redis refused a command because it takes no writes now (rather than because it was wrong)."""
    text = str(error)
    return any(part in text for part in _REFUSALS)


class Unavailable(Exception):
    """Redis cannot be reached right now: use local state."""


def safe_url(url: str) -> str:
    """The Redis URL without its password, for logs."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{parts.username or ''}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def make_client(url: str, timeout: float) -> aioredis.Redis:
    """An asyncio client that fails fast: one immediate retry (a pooled connection gone stale when
    Redis restarted reconnects), then the link decides what the failure means."""
    return aioredis.Redis.from_url(
        url, socket_timeout=timeout, socket_connect_timeout=timeout, retry=Retry(NoBackoff(), 1), decode_responses=False
    )


class RedisLink:
    """A connection pool, the key namespace, and the up/down state of Redis for one replica."""

    def __init__(self, url: str, namespace: str, *, timeout: float = 1.0, probe_every: float = 1.0):
        self.url = url
        self.namespace = namespace
        self.timeout = timeout
        self.probe_every = probe_every
        self.client = make_client(url, timeout)
        self.up = True  # optimistic: the first failure says otherwise
        self.on_up: list[Callable[[], object]] = []
        self.refusing: str | None = None  # why Redis refuses writes, while it does
        self._probe: asyncio.Task | None = None
        self._write_probe: asyncio.Task | None = None
        self._closed = False

    def key(self, *parts: object) -> str:
        return ":".join([self.namespace, *(str(p) for p in parts)])

    async def run(self, op: Callable[[aioredis.Redis], Awaitable[T]]) -> T:
        """`op(client)`, or `Unavailable` when Redis is down (now or already) or refuses the write."""
        if not self.up:
            raise Unavailable(f"Redis at {safe_url(self.url)} is down")
        try:
            return await op(self.client)
        except REDIS_DOWN as e:
            self.mark_down(e)
            raise Unavailable(str(e)) from e
        except ResponseError as e:
            if not is_refusal(e):
                raise
            self._refused(e)
            raise Unavailable(str(e)) from e

    def _refused(self, error: ResponseError) -> None:
        """Redis is up (reads, e.g. the stream, still work) but takes no writes: callers use local state for
        what they would have stored; a probe writes every second and says when Redis takes writes again."""
        if self._closed:
            return
        if self.refusing is None:
            self.refusing = str(error)[:200]
            log.warning(
                "Redis at %s refuses writes (%s); this replica keeps new state locally until it accepts them again",
                safe_url(self.url), self.refusing,
            )  # fmt: skip
        if self._write_probe is None or self._write_probe.done():
            with contextlib.suppress(RuntimeError):
                self._write_probe = asyncio.get_running_loop().create_task(self._probe_writes())

    async def _probe_writes(self) -> None:
        while self.refusing is not None and not self._closed:
            await asyncio.sleep(self.probe_every)
            try:
                await asyncio.wait_for(self.client.set(self.key("write-probe"), b"1", ex=60), self.timeout + 0.5)
            except asyncio.CancelledError:
                raise
            except Exception:  # still refused, or down (the other probe deals with that)
                continue
            self.refusing = None
            log.warning("Redis at %s accepts writes again; shared state resumes", safe_url(self.url))
            self._recovered()

    async def check(self) -> bool:
        """Ping now (also while down); True when Redis answered."""
        try:
            await asyncio.wait_for(self.client.ping(), self.timeout + 0.5)
        except REDIS_DOWN as e:
            self.mark_down(e)
            return False
        self._mark_up()
        return True

    def mark_down(self, error: BaseException | str) -> None:
        if self._closed:
            return
        if self.up:
            self.up = False
            log.warning(
                "Redis at %s is unreachable (%s); this replica answers with its local state until it is back",
                safe_url(self.url), error or type(error).__name__,
            )  # fmt: skip
        if self._probe is None or self._probe.done():
            with contextlib.suppress(RuntimeError):  # no running loop: the next call will try again
                self._probe = asyncio.get_running_loop().create_task(self._probe_until_up())

    def _mark_up(self) -> None:
        if self.up:
            return
        self.up = True
        log.warning("Redis at %s is reachable again; shared state resumes", safe_url(self.url))
        self._recovered()

    def _recovered(self) -> None:
        for callback in list(self.on_up):
            try:
                result = callback()
                if asyncio.iscoroutine(result):
                    asyncio.get_running_loop().create_task(result)
            except Exception:
                log.exception("a Redis recovery callback failed")

    async def _probe_until_up(self) -> None:
        while not self.up and not self._closed:
            await asyncio.sleep(self.probe_every)
            try:
                await asyncio.wait_for(self.client.ping(), self.timeout + 0.5)
            except REDIS_DOWN:
                continue
            except asyncio.CancelledError:
                raise
            except Exception as e:
                log.debug("Redis probe: %s", e)
                continue
            self._mark_up()

    async def close(self) -> None:
        self._closed = True
        for probe in (self._probe, self._write_probe):
            if probe is not None:
                probe.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await probe
        with contextlib.suppress(Exception):
            await self.client.aclose()
