"""The update stream: webhooks write each update to it, the replicas consume it as one group.

Intake (`UpdateStream.add`, one Lua script, atomic): an update whose `update_id` was seen before is
dropped (a bitmap per million ids, kept two days: Telegram re-sends an update it got no 2xx for); else it
is appended to the stream with the id of the previous entry of its chat (bot.chats.raw_order_key). Only
then does the webhook answer 2xx, so an update is either in Redis (AOF-persisted) or re-sent by Telegram.

Consumption (`StreamConsumer`): each replica reads new entries as a consumer of the group, handles them
concurrently, and acknowledges and deletes each entry once handled. Entries it holds are touched every
second, so only a dead replica's entries go idle; those are claimed by the others after `claim_idle`
seconds (XAUTOCLAIM) and handled again: an update in flight on a replica killed after answering but before
acknowledging is answered twice, never lost. An entry claimed `MAX_DELIVERIES` times is dropped (logged).

Order: an entry is handled only once the previous entry of its chat has left the stream (handled, or
dropped), whichever replica holds it and however long it takes (retries, a takeover after a crash); only a
predecessor stuck longer than `order_wait` (a safety net, minutes) is overtaken, with a warning. Entries
waiting for their turn do not take handling slots, so one busy chat does not hold up the others.

Stopping (`stop(grace)`): reading stops at once; entries being handled get `grace` seconds, and those
still unfinished are cancelled, left unacknowledged and handed back (their idle time set past
`claim_idle`), so another replica takes them over within a second or so.
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

from bot.chats import raw_order_key
from bot.replicas.link import REDIS_DOWN, RedisLink, Unavailable, make_client

log = logging.getLogger(__name__)

SEEN_TTL = 2 * 24 * 3600
SEEN_BLOCK = 1 << 20  # update ids per dedupe bitmap (128 KB)
MAX_DELIVERIES = 3
MAX_UPDATE_ID = 2**53  # update ids the dedupe bitmaps take (Telegram's are far below)

# KEYS: seen bitmap, stream, the chat's last entry; ARGV: bit, ttl, payload, order key. The entry records its
# chat's previous entry only while that one is still in the stream (otherwise there is nothing to wait for).
_ADD_SCRIPT = """
if redis.call('SETBIT', KEYS[1], ARGV[1], 1) == 1 then return false end
redis.call('EXPIRE', KEYS[1], ARGV[2])
local prev = ''
if ARGV[4] ~= '' then prev = redis.call('GET', KEYS[3]) or '' end
if prev ~= '' and #redis.call('XRANGE', KEYS[2], prev, prev, 'COUNT', 1) == 0 then prev = '' end  -- already done
local id = redis.call('XADD', KEYS[2], '*', 'u', ARGV[3], 'k', ARGV[4], 'p', prev)
if ARGV[4] ~= '' then redis.call('SET', KEYS[3], id, 'EX', ARGV[2]) end
return id
"""

_DONE_SCRIPT = """
redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])
return redis.call('XDEL', KEYS[1], ARGV[2])
"""


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
        if not isinstance(update_id, int) or isinstance(update_id, bool) or not 0 <= update_id < MAX_UPDATE_ID:
            raise ValueError("update_id must be a non-negative integer")
        payload = body if body is not None else json.dumps(update, separators=(",", ":")).encode()
        okey = raw_order_key(update)
        keys = [self.link.key("seen", update_id // SEEN_BLOCK), self.key, self.link.key("chatlast", okey or "-")]
        args: list[int | bytes | str] = [update_id % SEEN_BLOCK, SEEN_TTL, payload, okey]
        return await self.link.run(lambda r: self._add(keys=keys, args=args)) is not None

    async def ensure_group(self) -> None:
        try:
            await self.link.run(lambda r: r.xgroup_create(self.key, self.GROUP, id="0", mkstream=True))
        except ResponseError as e:
            if "BUSYGROUP" not in str(e):
                raise

    async def done(self, entry_id: bytes) -> None:
        """Acknowledge and delete a handled entry (its chat's next entry may go)."""
        await self.link.run(lambda r: self._done(keys=[self.key], args=[self.GROUP, entry_id]))

    async def exists(self, entry_id: bytes) -> bool:
        """Whether the entry is still in the stream (not yet handled)."""
        return bool(await self.link.run(lambda r: r.xrange(self.key, entry_id, entry_id, count=1)))

    async def pending_of(self, consumer: str, limit: int = 10_000) -> list[bytes]:
        """Entries delivered to `consumer` and not yet acknowledged."""
        rows = await self.link.run(
            lambda r: r.xpending_range(self.key, self.GROUP, "-", "+", limit, consumername=consumer)
        )
        return [row["message_id"] for row in rows if isinstance(row["message_id"], bytes)]

    async def hand_back(self, consumer: str, entry_ids: list[bytes], idle_ms: int) -> None:
        """Make entries this consumer holds claimable by the others at once."""
        ids: list[Any] = list(entry_ids)
        await self.link.run(lambda r: r.xclaim(self.key, self.GROUP, consumer, 0, ids, idle=idle_ms, justid=True))


Handler = Callable[[dict[str, Any]], Awaitable[None]]


class StreamConsumer:
    """Reads the group as consumer `name` and runs `handle(update)` for each entry; see the module doc.

    `max_inflight` entries are handled at once; up to `max_waiting` more may wait for their chat's turn.
    """

    def __init__(
        self,
        stream: UpdateStream,
        name: str,
        handle: Handler,
        *,
        max_inflight: int = 64,
        max_waiting: int | None = None,
        claim_idle: float = 5.0,
        order_wait: float = 300.0,
        block: float = 1.0,
    ):
        self.stream = stream
        self.link = stream.link
        self.name = name
        self.handle = handle
        self.max_inflight = max_inflight
        self.max_waiting = max_waiting if max_waiting is not None else 16 * max_inflight
        self.claim_idle = claim_idle
        self.order_wait = order_wait
        self.block = block
        self._reader = make_client(stream.link.url, block + stream.link.timeout + 1)
        self._inflight: dict[bytes, asyncio.Task] = {}  # every entry held here, waiting or handled
        self._waiting: set[bytes] = set()  # ...of which waiting for their chat's turn
        self._room = asyncio.Event()  # set when an entry stops taking a slot
        self._unacked: list[bytes] = []
        self._read_task: asyncio.Task | None = None
        self._keep_task: asyncio.Task | None = None
        self._stopping = False
        self._group_ready = False
        self.handled = 0

    @property
    def _free(self) -> int:
        """How many more entries may be taken on now."""
        handling = len(self._inflight) - len(self._waiting)
        return max(0, min(self.max_inflight - handling, self.max_inflight + self.max_waiting - len(self._inflight)))

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._read_task = loop.create_task(self._read_loop())
        self._keep_task = loop.create_task(self._keep_loop())

    async def stop(self, grace: float = 5.0) -> int:
        """Stop reading; give the entries held here `grace` seconds, then hand the rest back.

        Returns how many were handed back (unanswered here, for another replica to answer).
        """
        self._stopping = True
        await _cancel(self._read_task)
        if self._inflight:
            await asyncio.wait(list(self._inflight.values()), timeout=max(0.0, grace))
        left = list(self._inflight)
        tasks = list(self._inflight.values())
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=5)
        await _cancel(self._keep_task)  # kept touching our entries until now
        with contextlib.suppress(Unavailable, ResponseError):
            await self._flush_unacked()
            held = await self.stream.pending_of(self.name)  # also any read as the reading was cancelled
            if held:
                await self.stream.hand_back(self.name, held, int(self.claim_idle * 1000) + 1)
                left = held
        with contextlib.suppress(Exception):
            await self._reader.aclose()
        return len(left)

    # -- reading -----------------------------------------------------------------------------------

    async def _read_loop(self) -> None:
        while not self._stopping:
            if not self.link.up:
                await asyncio.sleep(0.2)
                continue
            free = self._free
            if free <= 0:
                self._room.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._room.wait(), 1.0)
                continue
            try:
                if not self._group_ready:
                    await self.stream.ensure_group()
                    self._group_ready = True
                await self._flush_unacked()
                reply: Any = await self._reader.xreadgroup(
                    self.stream.GROUP, self.name, {self.stream.key: ">"}, count=free, block=int(self.block * 1000)
                )
            except Unavailable:  # down (the loop waits above) or refusing writes (creating the group)
                await asyncio.sleep(0.2)
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
                    self._spawn(entry_id, fields)

    async def _keep_loop(self) -> None:
        """Every second: touch the entries held here; claim entries idle on dead replicas (unless stopping)."""
        while True:
            await asyncio.sleep(min(1.0, self.claim_idle / 3))
            if not self.link.up or not self._group_ready:
                continue
            try:
                await self._touch(list(self._inflight))
                if not self._stopping:
                    await self._claim()
            except Unavailable:
                continue
            except ResponseError as e:
                log.debug("claiming: %s", e)

    async def _touch(self, ids: list[bytes]) -> None:
        """Reset the idle time of entries still held here, so nobody claims them."""
        if ids:
            entries: list[Any] = list(ids)
            await self.link.run(
                lambda r: r.xclaim(self.stream.key, self.stream.GROUP, self.name, 0, entries, justid=True)
            )

    async def _claim(self) -> None:
        free = self._free
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
                await self.stream.done(entry_id)
                continue
            log.info("claimed update entry %s left by a replica that stopped", entry_id.decode())
            self._spawn(entry_id, fields)

    async def _count_delivery(self, entry_id: bytes) -> int:
        key = self.link.key("claims", entry_id.decode())

        async def op(r) -> int:
            async with r.pipeline(transaction=True) as p:
                p.incr(key)
                p.expire(key, SEEN_TTL)
                return (await p.execute())[0]

        return await self.link.run(op)

    # -- handling ----------------------------------------------------------------------------------

    def _spawn(self, entry_id: bytes, fields: dict[bytes, bytes]) -> None:
        if entry_id in self._inflight:
            return
        task = asyncio.get_running_loop().create_task(self._run(entry_id, fields))
        self._inflight[entry_id] = task

        def forget(_t: asyncio.Task) -> None:
            self._inflight.pop(entry_id, None)
            self._waiting.discard(entry_id)
            self._room.set()

        task.add_done_callback(forget)

    async def _run(self, entry_id: bytes, fields: dict[bytes, bytes]) -> None:
        try:
            update = json.loads(fields[b"u"])
            if not isinstance(update, dict):
                raise TypeError("not an object")
        except (KeyError, ValueError, TypeError) as e:
            log.error("update entry %s is unreadable (%s); dropped", entry_id.decode(), type(e).__name__)
            update = None
        if update is not None:
            previous = fields.get(b"p") or b""
            if previous and previous != entry_id:
                self._waiting.add(entry_id)
                self._room.set()
                try:
                    await self._wait_turn((fields.get(b"k") or b"").decode(), previous)
                finally:
                    self._waiting.discard(entry_id)
            try:
                await self.handle(update)
            except Exception as e:
                log.error("update %s failed in the handler: %s", update.get("update_id"), type(e).__name__)
        self.handled += 1
        try:
            await self.stream.done(entry_id)
        except Unavailable:
            self._unacked.append(entry_id)

    async def _wait_turn(self, okey: str, previous: bytes) -> None:
        """Until the chat's previous entry has left the stream (or `order_wait` passed, or Redis is down)."""
        deadline = time.monotonic() + self.order_wait
        delay = 0.005
        while True:
            left = deadline - time.monotonic()
            mine = self._inflight.get(previous)
            if mine is not None:  # held here: its end is its turn's end (acknowledged, or queued to be)
                await asyncio.wait([mine], timeout=max(0.0, left))
                if mine.done():
                    return
            else:
                try:
                    if not await self.stream.exists(previous):
                        return
                except Unavailable:
                    return
            if time.monotonic() >= deadline:
                log.warning(
                    "handling an update of %s out of order: its predecessor is still unhandled after %.0f s",
                    okey, self.order_wait,
                )  # fmt: skip
                return
            await asyncio.sleep(delay)
            delay = min(0.05, delay * 2)

    async def _flush_unacked(self) -> None:
        while self._unacked:
            await self.stream.done(self._unacked[0])
            self._unacked.pop(0)


async def _cancel(task: asyncio.Task | None) -> None:
    if task is not None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
