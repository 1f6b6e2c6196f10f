"""State the handlers share, behind small async interfaces, with in-process defaults.

One process keeps everything in memory (the defaults here). Several replicas need the same answers to
the same questions: "More" keys, per-user flood control, the outgoing rate limits and the intake of
webhook updates must then live in a shared store, so each piece is a Protocol that such a store can
implement. `bot.telegram.backends.choose_backends(settings)` is the one place that picks the implementations.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from bot.chats import is_group
from bot.settings import Settings
from bot.telegram.guard import QuestionLimiter
from bot.telegram.updates import QueueIntake

if TYPE_CHECKING:
    from telegram.ext import Application

ANSWER_KEYS = 4096  # questions remembered in memory for "More" buttons
_IDLE_ENTRIES = 10_000  # chats / groups tracked by the send budget before idle ones are forgotten


def answer_key(question: str) -> str:
    """The key of a question: 12 hex digits, the same in every process (callback data `m:<key>:<n>`)."""
    return hashlib.blake2s(question.encode("utf-8"), digest_size=6).hexdigest()


class AnswerKeys(Protocol):
    """Questions behind "More" buttons: the callback data carries a key, never the question."""

    async def put(self, question: str) -> str: ...

    async def get(self, key: str) -> str | None: ...


class UserLimiter(Protocol):
    """Per-user flood control: (allowed, warn the user now, seconds until the next question is allowed)."""

    async def check(self, user_id: int) -> tuple[bool, bool, float]: ...


class SendBudget(Protocol):
    """Outgoing request allowance shared by everything that sends.

    `acquire` returns when one more request to `chat_id` may go out (overall rate, the per-group rate,
    any pause of that chat); `pause` records Telegram's 429 `retry_after` for a chat (None: the whole bot).
    """

    async def acquire(self, chat_id: int | str | None) -> None: ...

    async def pause(self, chat_id: int | str | None, seconds: float) -> None: ...


class UpdateIntake(Protocol):
    """Where the webhook server hands updates; `accept` returns only once the update is safe.

    `start` begins feeding the application (an in-process queue needs nothing; a stream consumer
    starts reading); raising from `accept` makes the webhook answer 503, so Telegram sends it again.
    `stop(grace)` stops taking updates and gives those it is handling itself `grace` seconds; it returns
    how many it left unfinished for another replica (those in the application's queue are the
    application's to finish).
    """

    async def start(self, application: Application) -> None: ...

    async def accept(self, update: dict) -> None: ...

    async def stop(self, grace: float = 0.0) -> int: ...


# --- in-memory defaults ------------------------------------------------------------------------------


class MemoryAnswerKeys:
    """The last `capacity` questions, least recently used forgotten first."""

    def __init__(self, capacity: int = ANSWER_KEYS):
        self.capacity = capacity
        self._questions: OrderedDict[str, str] = OrderedDict()

    async def put(self, question: str) -> str:
        key = answer_key(question)
        self._questions[key] = question
        self._questions.move_to_end(key)
        while len(self._questions) > self.capacity:
            self._questions.popitem(last=False)
        return key

    async def get(self, key: str) -> str | None:
        question = self._questions.get(key)
        if question is not None:
            self._questions.move_to_end(key)
        return question


class MemoryUserLimiter:
    """A token bucket per user (guard.QuestionLimiter) behind the async interface."""

    def __init__(self, per_minute: float, burst: int, clock=time.monotonic):
        self.buckets = QuestionLimiter(per_minute, burst, clock=clock)

    async def check(self, user_id: int) -> tuple[bool, bool, float]:
        return self.buckets.check(user_id)


class _Gcra:
    """Generic cell rate algorithm: `rate` per `period` seconds with bursts of `burst`, as reservations.

    Each caller reserves the next free slot at once (so waiting callers are served in order) and
    sleeps until it; nothing is queued or polled.
    """

    def __init__(self, rate: float, period: float, burst: int):
        self.interval = period / rate
        self.tolerance = max(0, burst - 1) * self.interval
        self.tat = 0.0  # theoretical arrival time of the next request

    def reserve(self, now: float) -> float:
        """Seconds to wait before sending."""
        start = max(now, self.tat - self.tolerance)
        self.tat = max(self.tat, now) + self.interval
        return start - now

    def idle(self, now: float) -> bool:
        return self.tat <= now


class MemorySendBudget:
    """Telegram's limits for one process: `per_second` overall, `group_per_minute` into each group.

    As python-telegram-bot's AIORateLimiter, only requests to a chat count; unlike it, a 429 pauses
    only the chat it was about (others keep being answered), or everything when it named no chat.
    """

    def __init__(self, per_second: float, group_per_minute: float, clock=time.monotonic):
        self.clock = clock
        self.group_per_minute = group_per_minute
        self._overall = _Gcra(per_second, 1.0, max(1, int(per_second)))
        self._groups: dict[int | str, _Gcra] = {}
        self._paused: dict[int | str | None, float] = {}

    async def acquire(self, chat_id: int | str | None) -> None:
        while True:  # a pause may be extended while waiting
            now = self.clock()
            until = max(self._paused.get(chat_id, 0.0), self._paused.get(None, 0.0))
            if until <= now:
                break
            await asyncio.sleep(until - now)
        if chat_id is None:
            return
        now = self.clock()
        wait = self._overall.reserve(now)
        if is_group(chat_id):
            group = self._groups.get(chat_id)
            if group is None:
                self._forget_idle(now)
                group = self._groups[chat_id] = _Gcra(self.group_per_minute, 60.0, max(1, int(self.group_per_minute)))
            wait = max(wait, group.reserve(now))
        if wait > 0:
            await asyncio.sleep(wait)

    async def pause(self, chat_id: int | str | None, seconds: float) -> None:
        now = self.clock()
        if len(self._paused) >= _IDLE_ENTRIES:
            self._paused = {c: t for c, t in self._paused.items() if t > now}
        self._paused[chat_id] = max(self._paused.get(chat_id, 0.0), now + seconds)

    def _forget_idle(self, now: float) -> None:
        if len(self._groups) >= _IDLE_ENTRIES:
            self._groups = {c: g for c, g in self._groups.items() if not g.idle(now)}


class Service(Protocol):
    """A background job that lives as long as the bot serves (e.g. a stream consumer, a health probe)."""

    async def start(self, application: Application) -> None: ...

    async def stop(self) -> None: ...


@dataclass
class Backends:
    """The implementations one bot process uses for its shared state, and the services they need.

    `serve()` starts the intake and then each service after the application, and stops them in
    reverse order before it.
    """

    answer_keys: AnswerKeys
    user_limiter: UserLimiter
    send_budget: SendBudget
    intake: UpdateIntake
    services: list[Service] = field(default_factory=list)


def local_backends(settings: Settings) -> Backends:
    """Everything in this process's memory: what a single bot needs."""
    return Backends(
        answer_keys=MemoryAnswerKeys(),
        user_limiter=MemoryUserLimiter(settings.user_questions_per_minute, settings.user_burst),
        send_budget=MemorySendBudget(settings.overall_max_rate, settings.group_max_rate),
        intake=QueueIntake(),
    )
