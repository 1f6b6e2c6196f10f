"""The update stream: webhooks write each update to it, the replicas consume it as one group.

Intake (`UpdateStream.add`, one Lua script, atomic): an update whose `update_id` was seen before is
dropped (a bitmap per million ids, kept two days: Telegram re-sends an update it got no 2xx for); else it
gets the next sequence number of its chat and is appended to the stream. Only then does the webhook answer
2xx, so an update is either in Redis (AOF-persisted) or re-sent by Telegram.

Consumption (`StreamConsumer`): each replica reads new entries as a consumer of the group, handles them
concurrently, and acknowledges (and deletes) each entry once handled. Entries it holds are touched every
second, so only a dead replica's entries go idle; those are claimed by the others after `claim_idle`
seconds (XAUTOCLAIM) and handled again: an update in flight on a replica killed after answering but before
acknowledging is answered twice, never lost. An entry claimed `MAX_DELIVERIES` times is dropped (logged).
Each chat's updates are handled in order across replicas: an entry waits until its chat's previous
sequence number is done (at most `order_wait` seconds, so a lost entry cannot stall a chat).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from redis.exceptions import ResponseError

from bot.replicas.link import REDIS_DOWN, RedisLink, Unavailable, make_client

log = logging.getLogger(__name__)

SEEN_TTL = 2 * 24 * 3600
SEEN_BLOCK = 1 << 20  # update ids per dedupe bitmap (128 KB)
MAX_DELIVERIES = 3

_ADD_SCRIPT = """
if redis.call('SETBIT', KEYS[1], ARGV[1], 1) == 1 then return false end
redis.call('EXPIRE', KEYS[1], ARGV[2])
local seq = 0
if ARGV[4] ~= '' then
  seq = redis.call('INCR', KEYS[3])
  redis.call('EXPIRE', KEYS[3], ARGV[2])
end
return redis.call('XADD', KEYS[2], '*', 'u', ARGV[3], 'k', ARGV[4], 's', seq)
"""

_DONE_SCRIPT = """
redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])
redis.call('XDEL', KEYS[1], ARGV[2])
local seq = tonumber(ARGV[3])
if seq > 0 and seq > (tonumber(redis.call('GET', KEYS[2]) or '0') or 0) then
  redis.call('SET', KEYS[2], ARGV[3], 'EX', ARGV[4])
end
return 1
"""


def order_key(update: dict[str, Any]) -> str:
    """The chat (or, for inline queries, the user) whose updates must keep their order; '' if none."""
    for kind in ("message", "edited_message", "channel_post", "edited_channel_post", "business_message"):
        chat = (update.get(kind) or {}).get("chat") if isinstance(update.get(kind), dict) else None
        if isinstance(chat, dict) and isinstance(chat.get("id"), int):
            return f"c{chat['id']}"
    for kind in ("callback_query", "inline_query", "chosen_inline_result", "my_chat_member", "poll_answer"):
        body = update.get(kind)
        if isinstance(body, dict):
            message = body.get("message")
            chat = message.get("chat") if isinstance(message, dict) else None
            if isinstance(chat, dict) and isinstance(chat.get("id"), int):
                return f"c{chat['id']}"
            user = body.get("from") or body.get("user")
            if isinstance(user, dict) and isinstance(user.get("id"), int):
                return f"u{user['id']}"
    return ""


class UpdateStream:
    """The stream's keys and the intake; shared by the webhook side and the consumer."""

    GROUP = "replicas"

    def __init__(self, link: RedisLink):
        self.link = link
        self.key = link.key("updates")
        self._add = link.client.register_script(_ADD_SCRIPT)
        self._done = link.client.register_script(_DONE_SCRIPT)

    async def add(self, update: dict[str, Any], body: bytes | None = None) -> bool:
        """Store one update; False when its update_id was stored before. Raises Unavailable."""
        update_id = update["update_id"]
        if not isinstance(update_id, int) or isinstance(update_id, bool) or not 0 <= update_id < 2**53:
            raise ValueError("update_id must be a non-negative integer")
        payload = body if body is not None else json.dumps(update, separators=(",", ":")).encode()
        okey = order_key(update)
        keys = [self.link.key("seen", update_id // SEEN_BLOCK), self.key, self.link.key("chatseq", okey or "-")]
        args: list[int | bytes | str] = [update_id % SEEN_BLOCK, SEEN_TTL, payload, okey]
        return await self.link.run(lambda r: self._add(keys=keys, args=args)) is not None

    async def ensure_group(self) -> None:
        try:
            await self.link.run(lambda r: r.xgroup_create(self.key, self.GROUP, id="0", mkstream=True))
        except ResponseError as e:
            if "BUSYGROUP" not in str(e):
                raise

    async def done(self, entry_id: bytes, okey: str, seq: int) -> None:
        keys = [self.key, self.link.key("chatdone", okey or "-")]
        await self.link.run(lambda r: self._done(keys=keys, args=[self.GROUP, entry_id, seq, SEEN_TTL]))

    async def chat_done(self, okey: str) -> int:
        raw = await self.link.run(lambda r: r.get(self.link.key("chatdone", okey)))
        return int(raw) if raw else 0


Handler = Callable[[dict[str, Any]], Awaitable[None]]


class StreamConsumer:
    """Reads the group as consumer `name` and runs `handle(update)` for each entry; see the module doc."""

    def __init__(
        self,
        stream: UpdateStream,
        name: str,
        handle: Handler,
        *,
        max_inflight: int = 64,
        claim_idle: float = 5.0,
        order_wait: float = 15.0,
        block: float = 1.0,
    ):
        self.stream = stream
        self.link = stream.link
        self.name = name
        self.handle = handle
        self.max_inflight = max_inflight
        self.claim_idle = claim_idle
        self.order_wait = order_wait
        self.block = block
        self._reader = make_client(stream.link.url, block + stream.link.timeout + 1)
        self._inflight: dict[bytes, asyncio.Task] = {}
        self._unacked: list[tuple[bytes, str, int]] = []
        self._tasks: list[asyncio.Task] = []
        self._stopping = False
        self._group_ready = False
        self.handled = 0

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._tasks = [loop.create_task(self._read_loop()), loop.create_task(self._keep_loop())]

    async def stop(self, grace: float = 10.0) -> None:
        """Stop reading; give what is in flight `grace` seconds (the rest is claimed by others)."""
        self._stopping = True
        for t in self._tasks:
            t.cancel()
        for t in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await t
        if self._inflight:
            await asyncio.wait(list(self._inflight.values()), timeout=grace)
        for t in list(self._inflight.values()):
            t.cancel()
        with contextlib.suppress(Exception):
            await self._reader.aclose()

    # -- reading -----------------------------------------------------------------------------------

    async def _read_loop(self) -> None:
        while not self._stopping:
            if not self.link.up:
                await asyncio.sleep(0.2)
                continue
            free = self.max_inflight - len(self._inflight)
            if free <= 0:
                await asyncio.wait(list(self._inflight.values()), timeout=1.0, return_when=asyncio.FIRST_COMPLETED)
                continue
            try:
                if not self._group_ready:
                    await self.stream.ensure_group()
                    self._group_ready = True
                await self._flush_unacked()
                reply: Any = await self._reader.xreadgroup(
                    self.stream.GROUP, self.name, {self.stream.key: ">"}, count=free, block=int(self.block * 1000)
                )
            except Unavailable:
                continue
            except REDIS_DOWN as e:
                self.link.mark_down(e)
                continue
            except ResponseError as e:  # NOGROUP: the stream was deleted (e.g. Redis lost its data)
                log.warning("update stream: %s; recreating the group", e)
                self._group_ready = False
                await asyncio.sleep(0.2)
                continue
            for _stream, entries in reply or []:
                for entry_id, fields in entries:
                    self._spawn(entry_id, fields, claimed=False)

    async def _keep_loop(self) -> None:
        """Every second: touch the entries in flight here; claim entries idle on dead replicas."""
        while not self._stopping:
            await asyncio.sleep(min(1.0, self.claim_idle / 3))
            if not self.link.up or not self._group_ready:
                continue
            try:
                await self._touch(list(self._inflight))
                await self._claim()
            except Unavailable:
                continue
            except ResponseError as e:
                log.debug("claiming: %s", e)

    async def _touch(self, ids: list[bytes]) -> None:
        """Reset the idle time of entries still being handled here, so nobody claims them."""
        if ids:
            entries: list[Any] = list(ids)
            await self.link.run(
                lambda r: r.xclaim(self.stream.key, self.stream.GROUP, self.name, 0, entries, justid=True)
            )

    async def _claim(self) -> None:
        free = self.max_inflight - len(self._inflight)
        if free <= 0:
            return
        reply = await self.link.run(
            lambda r: r.xautoclaim(
                self.stream.key, self.stream.GROUP, self.name, int(self.claim_idle * 1000), "0-0", count=free
            )
        )
        for item in reply[1] if reply else []:
            if not item or item[1] is None:  # deleted meanwhile
                continue
            entry_id, fields = item
            if entry_id in self._inflight:
                continue
            deliveries = await self._count_delivery(entry_id)
            if deliveries > MAX_DELIVERIES:
                log.error("update entry %s dropped: claimed %d times (it may crash replicas)", entry_id, deliveries - 1)
                await self.stream.done(entry_id, "", 0)
                continue
            log.info("claimed update entry %s left by a replica that stopped", entry_id.decode())
            self._spawn(entry_id, fields, claimed=True)

    async def _count_delivery(self, entry_id: bytes) -> int:
        key = self.link.key("claims", entry_id.decode())

        async def op(r) -> int:
            async with r.pipeline(transaction=True) as p:
                p.incr(key)
                p.expire(key, SEEN_TTL)
                return (await p.execute())[0]

        return await self.link.run(op)

    # -- handling ----------------------------------------------------------------------------------

    def _spawn(self, entry_id: bytes, fields: dict[bytes, bytes], claimed: bool) -> None:
        if entry_id in self._inflight:
            return
        task = asyncio.get_running_loop().create_task(self._run(entry_id, fields))
        self._inflight[entry_id] = task
        task.add_done_callback(lambda _t: self._inflight.pop(entry_id, None))

    async def _run(self, entry_id: bytes, fields: dict[bytes, bytes]) -> None:
        okey = (fields.get(b"k") or b"").decode()
        try:
            seq = int(fields.get(b"s") or 0)
        except ValueError:
            seq = 0
        try:
            update = json.loads(fields[b"u"])
            if not isinstance(update, dict):
                raise TypeError("not an object")
        except (KeyError, ValueError, TypeError) as e:
            log.error("update entry %s is unreadable (%s); dropped", entry_id.decode(), type(e).__name__)
            update = None
        if update is not None:
            if okey and seq > 1:
                await self._wait_turn(okey, seq)
            try:
                await self.handle(update)
            except Exception as e:
                log.error("update %s failed in the handler: %s", update.get("update_id"), type(e).__name__)
        self.handled += 1
        try:
            await self.stream.done(entry_id, okey, seq)
        except Unavailable:
            self._unacked.append((entry_id, okey, seq))

    async def _wait_turn(self, okey: str, seq: int) -> None:
        """Until this chat's previous update is done (or `order_wait` passed, or Redis is down)."""
        deadline = time.monotonic() + self.order_wait
        delay = 0.01
        while time.monotonic() < deadline:
            try:
                if await self.stream.chat_done(okey) >= seq - 1:
                    return
            except Unavailable:
                return
            await asyncio.sleep(delay)
            delay = min(0.1, delay * 2)
        log.warning(
            "handling an update of %s out of order: its predecessor is not done after %.0f s", okey, self.order_wait
        )

    async def _flush_unacked(self) -> None:
        while self._unacked:
            entry_id, okey, seq = self._unacked[0]
            await self.stream.done(entry_id, okey, seq)
            self._unacked.pop(0)
