"""Limits shared by all replicas: per-user flood control and the outgoing request rate.

Both run as one Lua script per check, atomic in Redis and timed by Redis' own clock (replicas' clocks
may disagree). While Redis is down each replica limits on its own: users through the local limiter it was
given, outgoing requests at its share of the budget (the rate divided by the replicas last seen alive).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Protocol

from bot.replicas.link import RedisLink, Unavailable

# A token bucket per user, the same arithmetic as the single-process limiter.
# KEYS[1] bucket; ARGV rate (tokens per second), burst. Returns {allowed, warn, wait seconds as text}.
_USER_SCRIPT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local rate, burst = tonumber(ARGV[1]), tonumber(ARGV[2])
local b = redis.call('HMGET', KEYS[1], 'tokens', 'stamp', 'warned')
local tokens = tonumber(b[1]) or burst
local stamp = tonumber(b[2]) or now
local warned = b[3] == '1'
tokens = math.min(burst, tokens + math.max(0, now - stamp) * rate)
local allowed, warn, wait = 0, 0, 0
if tokens >= 1 then
  tokens = tokens - 1; allowed = 1; warned = false
else
  wait = (1 - tokens) / rate
  if not warned then warn = 1 end
  warned = true
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'stamp', tostring(now), 'warned', warned and '1' or '0')
redis.call('PEXPIRE', KEYS[1], math.ceil(burst / rate * 1000) + 60000)
return {allowed, warn, tostring(wait)}
"""

# GCRA with reservations: every caller gets the next free slot and is told how long to wait for it.
# KEYS[1] the bucket's theoretical arrival time (ms), KEYS[2] and KEYS[3] "paused until" (ms): the whole
# bot's and the chat's (Telegram's retry_after); ARGV interval (ms per request), burst. Returns the wait in
# ms, as text. An interval of 0 only waits for the pauses.
_THROTTLE_SCRIPT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local interval, burst = tonumber(ARGV[1]), tonumber(ARGV[2])
local tau = interval * (burst - 1)
local paused_all = tonumber(redis.call('GET', KEYS[2]) or '0') or 0
local paused_chat = tonumber(redis.call('GET', KEYS[3]) or '0') or 0
local start = math.max(now, paused_all, paused_chat)
local tat = math.max(tonumber(redis.call('GET', KEYS[1]) or '0') or 0, start)
local wait = math.max(0, tat - tau - now, start - now)
if interval > 0 then
  local new = tat + interval
  redis.call('SET', KEYS[1], tostring(new), 'PX', math.ceil(new - now + tau) + 1000)
end
return tostring(wait)
"""

_PAUSE_SCRIPT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local until_ = now + tonumber(ARGV[1])
if until_ > (tonumber(redis.call('GET', KEYS[1]) or '0') or 0) then
  redis.call('SET', KEYS[1], tostring(until_), 'PX', math.ceil(tonumber(ARGV[1])) + 1000)
end
return 1
"""


class UserLimiter(Protocol):
    async def check(self, user_id: int) -> tuple[bool, bool, float]: ...


class RedisUserLimiter:
    """`UserLimiter` whose buckets live in Redis: a user flooding several replicas is limited once."""

    def __init__(self, link: RedisLink, per_minute: float, burst: int, fallback: UserLimiter):
        self.link = link
        self.rate = per_minute / 60.0
        self.burst = burst
        self.fallback = fallback
        self._script = link.client.register_script(_USER_SCRIPT)

    async def check(self, user_id: int) -> tuple[bool, bool, float]:
        """(allowed, warn, seconds until the next question is allowed)."""
        try:
            allowed, warn, wait = await self.link.run(
                lambda r: self._script(keys=[self.link.key("user", int(user_id))], args=[repr(self.rate), self.burst])
            )
        except Unavailable:
            return await self.fallback.check(user_id)
        return bool(allowed), bool(warn), float(wait)


class LocalGCRA:
    """The same reservations in this process only (used while Redis is down)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic):
        self.clock = clock
        self._tat: dict[str, float] = {}
        self._paused: dict[str, float] = {}

    def reserve(self, key: str, interval: float, burst: int, pauses: tuple[str, ...] = ()) -> float:
        now = self.clock()
        start = max([now, *(self._paused.get(p, 0.0) for p in pauses)])
        tat = max(self._tat.get(key, 0.0), start)
        wait = max(0.0, tat - interval * (burst - 1) - now, start - now)
        if interval > 0:
            self._tat[key] = tat + interval
        if len(self._tat) > 10_000 or len(self._paused) > 10_000:  # forget what is long idle
            self._tat = {k: v for k, v in self._tat.items() if v > now}
            self._paused = {k: v for k, v in self._paused.items() if v > now}
        return wait

    def pause(self, key: str, seconds: float) -> None:
        self._paused[key] = max(self._paused.get(key, 0.0), self.clock() + seconds)


class SharedThrottle:
    """The outgoing budget of the whole bot: `overall_rate` requests/s, `group_rate` messages/min per group.

    `await acquire(chat_id, group)` returns when this request may go (requests without a chat only wait
    for a pause of the whole bot); `await pause(chat_id, seconds)` holds every replica off that chat
    (None: the whole bot), as Telegram's retry_after asks. Bursts are kept small (a tenth of a second's
    worth overall) so that the replicas together stay near the rate in any one-second window.
    """

    def __init__(
        self,
        link: RedisLink,
        overall_rate: float,
        group_rate_per_minute: float,
        *,
        overall_burst: int | None = None,
        group_burst: int | None = None,
        replicas: ReplicaCount | None = None,
    ):
        self.link = link
        self.overall_interval = 1000.0 / overall_rate
        self.group_interval = 60_000.0 / group_rate_per_minute
        self.overall_burst = overall_burst or max(1, int(overall_rate // 10))
        self.group_burst = group_burst or max(1, int(group_rate_per_minute // 2))
        self.replicas = replicas
        self.local = LocalGCRA()
        self._script = link.client.register_script(_THROTTLE_SCRIPT)
        self._pause = link.client.register_script(_PAUSE_SCRIPT)

    async def acquire(self, chat_id: int | str | None, group: bool) -> None:
        chat = "-" if chat_id is None else str(chat_id)
        if chat_id is None:
            await asyncio.sleep(await self._reserve("none", 0.0, 1, chat))
            return
        if group:
            await asyncio.sleep(await self._reserve(f"group:{chat}", self.group_interval, self.group_burst, chat))
        await asyncio.sleep(await self._reserve("all", self.overall_interval, self.overall_burst, chat))

    async def pause(self, chat_id: int | str | None, seconds: float) -> None:
        key = "all" if chat_id is None else f"chat:{chat_id}"
        self.local.pause(key, seconds)
        try:
            await self.link.run(lambda r: self._pause(keys=[self.link.key("paused", key)], args=[int(seconds * 1000)]))
        except Unavailable:
            pass

    async def _reserve(self, bucket: str, interval_ms: float, burst: int, chat: str) -> float:
        pauses = ("all", f"chat:{chat}")
        try:
            wait_ms = await self.link.run(
                lambda r: self._script(
                    keys=[self.link.key("rate", bucket), *(self.link.key("paused", p) for p in pauses)],
                    args=[repr(interval_ms), burst],
                )
            )
            return float(wait_ms) / 1000.0
        except Unavailable:
            share = self.replicas.last_seen if self.replicas is not None else 1
            return self.local.reserve(bucket, interval_ms / 1000.0 * max(1, share), burst, pauses)


class ReplicaCount(Protocol):
    @property
    def last_seen(self) -> int: ...
