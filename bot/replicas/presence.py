"""Which replicas are alive: each one stamps a sorted set every few seconds.

The count sizes each replica's share of the outgoing budget while Redis is down (it is the last count
seen), and /stats can show it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import uuid

from bot.replicas.link import RedisLink, Unavailable

log = logging.getLogger(__name__)


def replica_name() -> str:
    """Unique per process: host, pid and a random tail (a restarted replica is a new consumer)."""
    return f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"


class Presence:
    def __init__(self, link: RedisLink, name: str, every: float = 2.0, alive_for: float = 10.0):
        self.link = link
        self.name = name
        self.every = every
        self.alive_for = alive_for
        self.last_seen = 1
        self._task: asyncio.Task | None = None

    async def beat(self) -> int:
        key = self.link.key("replicas")

        async def op(r):
            now = (await r.time())[0]
            async with r.pipeline(transaction=True) as p:
                p.zadd(key, {self.name: now})
                p.zremrangebyscore(key, "-inf", now - 3600)
                p.zcount(key, now - self.alive_for, "+inf")
                p.expire(key, 3600)
                return (await p.execute())[2]

        self.last_seen = max(1, int(await self.link.run(op)))
        return self.last_seen

    async def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._loop())

    async def _loop(self) -> None:
        while True:
            with contextlib.suppress(Unavailable):
                await self.beat()
            await asyncio.sleep(self.every)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        with contextlib.suppress(Unavailable):
            await self.link.run(lambda r: r.zrem(self.link.key("replicas"), self.name))
