"""How updates come in and get handled: readable or skipped, concurrently across chats, in order within one.

- `parse_update` never lets one update python-telegram-bot cannot read stop the others: it becomes a
  bare `Update(update_id)` that no handler matches, logged once without user data.
- `ResilientBot` applies that to each update of a getUpdates batch, so polling confirms a poison update
  and moves on instead of fetching the same batch forever.
- `ChatOrderedProcessor` handles updates of different chats at the same time (one slow or
  rate-limited chat delays nobody else) and those of one chat in the order they came.
- `QueueIntake` is the in-process intake the webhook server hands updates to.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import sys
import traceback
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor, ExtBot

from bot.chats import order_key

if TYPE_CHECKING:
    from telegram import Bot
    from telegram.ext import Application

log = logging.getLogger(__name__)

_REMEMBERED = 10_000  # update ids kept to drop a re-delivered one


class _Recent:
    """A bounded set of the most recent keys."""

    def __init__(self, size: int = _REMEMBERED):
        self.size = size
        self._keys: OrderedDict[Hashable, None] = OrderedDict()

    def add(self, key: Hashable) -> bool:
        """True if `key` is new."""
        if key in self._keys:
            return False
        self._keys[key] = None
        if len(self._keys) > self.size:
            self._keys.popitem(last=False)
        return True


def update_id_of(data: object) -> int | None:
    """The update_id of a raw update, or None when it has none Telegram could have sent."""
    if not isinstance(data, dict):
        return None
    uid = data.get("update_id")
    return uid if isinstance(uid, int) and not isinstance(uid, bool) else None


def parse_update(data: dict, bot: Bot | None) -> Update:
    """The Update in `data`; one python-telegram-bot cannot read becomes a bare Update(update_id).

    `data` must have an integer update_id (see `update_id_of`).
    """
    update = read_update(data, bot)
    if update is None:
        update = Update(update_id=data["update_id"])
        update.set_bot(bot)
    return update


def read_update(data: dict, bot: Bot | None) -> Update | None:
    """The Update in `data`, or None (logged) when python-telegram-bot cannot read it.

    The log line names the update, its kind and where parsing failed, never the exception's text:
    it may quote the user's message. (Each update comes once: polling confirms it, the intake drops
    re-deliveries, so it is logged once.)
    """
    try:
        update = Update.de_json(data, bot)
        if update is None:
            raise ValueError("empty update")
        return update
    except Exception as e:  # anything: the update is data from outside
        kinds = ",".join(str(k) for k in data if k != "update_id")[:80] or "nothing"
        log.warning(
            "skipped update %s (%s): python-telegram-bot cannot read it (%s at %s)",
            data.get("update_id"),
            kinds,
            type(e).__name__,
            _where(e),
        )
        return None


def _where(e: BaseException) -> str:
    frames = traceback.extract_tb(e.__traceback__)
    if not frames:
        return "?"
    last = frames[-1]
    parts = last.filename.replace("\\", "/").split("/")
    return f"{'/'.join(parts[-2:])}:{last.lineno}"


class ResilientBot(ExtBot):
    """An ExtBot whose getUpdates skips the updates python-telegram-bot cannot read, one by one.

    python-telegram-bot parses a whole batch at once: one bad update fails it, polling retries at
    once, fetches the same batch again, and logs the raw data each time. Here each update is checked
    on its own; an unreadable one is replaced by its bare update_id, so it is confirmed like the rest.
    """

    async def _do_post(self, endpoint: str, data: Any, **kwargs: Any) -> Any:
        result = await super()._do_post(endpoint, data, **kwargs)
        if endpoint == "getUpdates" and isinstance(result, list):
            readable = []
            for raw in result:
                if update_id_of(raw) is None:
                    log.warning("skipped an update without an update_id")
                    continue
                readable.append(raw if read_update(raw, self) is not None else {"update_id": raw["update_id"]})
            return readable
        return result


def ordering_key(update: object) -> str:
    """What must be handled in order (bot.chats.order_key): one chat's updates, or one user's; "" for none."""
    if not isinstance(update, Update):
        return ""
    try:
        kind = "inline_query" if update.inline_query else "chosen_inline_result" if update.chosen_inline_result else ""
        chat, user = update.effective_chat, update.effective_user
        return order_key(kind, chat.id if chat else None, user.id if user else None)
    except Exception:  # an odd update: no ordering rather than no answer
        return ""


@dataclass
class _Lane:
    lock: asyncio.Lock
    users: int = 0


DoneCallback = Callable[[object], Awaitable[None]]


class ChatOrderedProcessor(BaseUpdateProcessor):
    """Up to `limit` updates at once, but those of one chat strictly one after another, in order.

    python-telegram-bot's semaphore is taken before `do_process_update`, so the limit is kept here,
    after the chat's turn has come: a flood in one chat cannot take every slot while it waits.
    `drain(seconds)` (when the bot stops) lets the updates being handled finish, for a bounded time.
    """

    def __init__(self, limit: int):
        super().__init__(max_concurrent_updates=sys.maxsize)
        self.limit = limit
        self._slots = asyncio.Semaphore(limit)
        self._lanes: dict[str, _Lane] = {}
        self._done: list[DoneCallback] = []
        self._running: set[asyncio.Task] = set()

    def add_done_callback(self, callback: DoneCallback) -> None:
        """Call `callback(update)` once each update's handlers (and error handler) are done."""
        self._done.append(callback)

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass

    @property
    def busy_chats(self) -> int:
        return len(self._lanes)

    @property
    def in_flight(self) -> int:
        """Updates being handled or waiting for their chat's turn."""
        return len(self._running)

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        key = ordering_key(update)
        task = asyncio.current_task()
        if task is not None:
            self._running.add(task)
        try:
            if not key:
                async with self._slots:
                    await coroutine
                return
            lane = self._lanes.get(key)
            if lane is None:
                lane = self._lanes[key] = _Lane(asyncio.Lock())
            lane.users += 1
            try:
                async with lane.lock, self._slots:
                    await coroutine
            finally:
                lane.users -= 1
                if lane.users == 0:
                    del self._lanes[key]
        finally:
            self._running.discard(task)
            if inspect.iscoroutine(coroutine) and inspect.getcoroutinestate(coroutine) == inspect.CORO_CREATED:
                coroutine.close()  # cancelled before its turn: no "never awaited" warning
            for callback in self._done:
                try:
                    await callback(update)
                except Exception:
                    log.exception("an update-done callback failed")

    async def drain(self, seconds: float, queue: asyncio.Queue | None = None) -> int:
        """Give the updates in flight (and those still in `queue`) `seconds` to finish; cancel the rest.

        Returns how many were cancelled: with long polling or the in-process intake they are lost
        (Telegram was told they arrived), so the caller logs it.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + max(0.0, seconds)
        while self._running or (queue is not None and not queue.empty()):
            left = deadline - loop.time()
            if left <= 0:
                break
            if self._running:
                await asyncio.wait(set(self._running), timeout=left)
            else:
                await asyncio.sleep(min(left, 0.01))  # the queued ones become tasks
        dropped = 0
        while queue is not None and not queue.empty():
            queue.get_nowait()
            queue.task_done()
            dropped += 1
        pending = set(self._running)
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.wait(pending, timeout=5)
        return dropped + len(pending)


async def process_raw_update(application: Application, data: dict) -> None:
    """Handle one raw update now: in its chat's turn, through the handlers; return when it is done.

    For intakes that feed updates themselves (e.g. a stream consumer that acknowledges each entry
    once handled) rather than through the application's update queue.
    """
    if update_id_of(data) is None:
        log.warning("skipped an update without an update_id")
        return
    update = parse_update(data, application.bot)
    await application.update_processor.process_update(update, application.process_update(update))


class QueueIntake:
    """The in-process intake: each update goes straight into the application's update queue.

    A re-delivered update (Telegram sends again when our 200 got lost) is dropped by its update_id.
    """

    def __init__(self) -> None:
        self._application: Application | None = None
        self._seen = _Recent()

    async def start(self, application: Application) -> None:
        self._application = application

    async def accept(self, update: dict) -> None:
        application = self._application
        if application is None:
            raise RuntimeError("the bot is not running")
        uid = update_id_of(update)
        if uid is None:
            raise ValueError("an update needs an integer update_id")
        if not self._seen.add(uid):
            log.info("dropped update %s: already received", uid)
            return
        await application.update_queue.put(parse_update(update, application.bot))

    async def stop(self, grace: float = 0.0) -> int:
        self._application = None
        return 0  # everything accepted is in the application's queue
