"""Getting each request to Telegram through: retries with backoff, 429s honoured per chat, a time bound.

Every Bot API call except getUpdates passes through `RetryingRateLimiter.process_request` (it is the
Application's rate limiter). It waits for the `SendBudget` (outgoing limits, a chat's 429 pause), sends,
and on a transient failure (5xx, connection reset, timeout, 429) tries again until it succeeds or
`retry_seconds` have passed. A request finally lost is logged once, with the method and chat id only,
and raised as `SendAbandoned`, which the error handler does not report a second time.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
import warnings
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar

from telegram.error import BadRequest, ChatMigrated, NetworkError, RetryAfter, TelegramError, TimedOut
from telegram.ext import BaseRateLimiter
from telegram.warnings import PTBDeprecationWarning

from bot.telegram.shared import SendBudget

log = logging.getLogger(__name__)

T = TypeVar("T")
FIRST_BACKOFF = 0.25  # seconds before the first retry of a 5xx / reset / timeout; doubles each time
MAX_BACKOFF = 8.0


class SendAbandoned(TelegramError):
    """A request still failing after the retry time: already logged (without any message text)."""

    def __init__(self, endpoint: str, chat_id: object, attempts: int, seconds: float, reason: str):
        super().__init__(f"{endpoint} to chat {chat_id} lost after {attempts} attempts in {seconds:.1f} s: {reason}")
        self.endpoint = endpoint
        self.chat_id = chat_id


def transient_wait(error: Exception, backoff: float) -> float | None:
    """Seconds to wait before trying again after `error`, or None when retrying cannot help."""
    if isinstance(error, RetryAfter):
        return retry_after_seconds(error)
    if isinstance(error, BadRequest):  # a NetworkError subclass, but the request itself is wrong
        return None
    if isinstance(error, NetworkError):  # 5xx, connection reset, timeouts (TimedOut)
        return backoff * random.uniform(0.8, 1.2)
    return None


def retry_after_seconds(error: RetryAfter) -> float:
    """Telegram's retry_after in seconds (an int or a timedelta, depending on PTB's settings)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value: Any = error.retry_after
    return value.total_seconds() if hasattr(value, "total_seconds") else float(value)


def _reason(error: Exception) -> str:
    """A short cause for the log: the error type and Telegram's description (never request data)."""
    if isinstance(error, RetryAfter):
        return f"429 retry after {retry_after_seconds(error):g} s"
    if isinstance(error, TimedOut):
        cause = type(error.__cause__).__name__ if error.__cause__ else "timeout"
        return f"timed out ({cause})"
    return f"{type(error).__name__}: {str(error)[:200]}"


async def with_retries(
    call: Callable[[], Awaitable[T]],
    *,
    what: str,
    chat_id: object = None,
    retry_seconds: float,
    budget: SendBudget | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> T:
    """`await call()` until it succeeds, retrying transient failures for at most `retry_seconds`.

    With a budget, each attempt first waits for it, and a 429 about a chat pauses that chat there (so
    every sender to that chat waits, and only them); otherwise a 429 just waits here.
    """
    start = clock()
    backoff = FIRST_BACKOFF
    attempts = 0
    while True:
        if budget is not None:
            await budget.acquire(chat_id)  # type: ignore[arg-type]
        attempts += 1
        try:
            return await call()
        except TelegramError as e:
            wait = transient_wait(e, backoff)
            if wait is None:
                raise
            elapsed = clock() - start
            if elapsed + wait > retry_seconds:
                reason = _reason(e)
                log.error(
                    "lost: %s to chat %s failed %d times in %.1f s (%s); giving up",
                    what,
                    chat_id if chat_id is not None else "-",
                    attempts,
                    elapsed,
                    reason,
                )
                raise SendAbandoned(what, chat_id, attempts, elapsed, reason) from e
            log.info(
                "%s to chat %s failed (%s); retrying in %.1f s",
                what,
                chat_id if chat_id is not None else "-",
                _reason(e),
                wait,
            )
            if isinstance(e, RetryAfter) and budget is not None and chat_id is not None:
                await budget.pause(chat_id, wait)  # type: ignore[arg-type]
            else:
                await asyncio.sleep(wait)
                backoff = min(MAX_BACKOFF, backoff * 2)


class RetryingRateLimiter(BaseRateLimiter[None]):
    """The Application's rate limiter: budgeted, retried, bounded in time (see the module docstring)."""

    def __init__(self, budget: SendBudget, retry_seconds: float):
        self.budget = budget
        self.retry_seconds = retry_seconds

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | dict[str, Any] | list[dict[str, Any]]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: None,
    ) -> bool | dict[str, Any] | list[dict[str, Any]]:
        chat_id = data.get("chat_id")
        if isinstance(chat_id, str) and chat_id.lstrip("-").isascii() and chat_id.lstrip("-").isdigit():
            chat_id = int(chat_id)
        try:
            return await with_retries(
                lambda: callback(*args, **kwargs),
                what=endpoint,
                chat_id=chat_id,
                retry_seconds=self.retry_seconds,
                budget=self.budget,
            )
        except ChatMigrated as e:
            if chat_id is None or "message_id" in data:  # a message of the old group cannot be edited there
                raise
            # The group became a supergroup (a new chat id) while the answer was on its way: send it there,
            # not quoting the question (its message is in the old chat). `data` is what the callback sends.
            log.info("chat %s is now supergroup %s; sending there", chat_id, e.new_chat_id)
            data["chat_id"] = e.new_chat_id
            data.pop("reply_parameters", None)
            data.pop("reply_to_message_id", None)
            return await with_retries(
                lambda: callback(*args, **kwargs),
                what=endpoint,
                chat_id=e.new_chat_id,
                retry_seconds=self.retry_seconds,
                budget=self.budget,
            )


_EXPIRED_QUERY = ("query is too old", "query id is invalid")


async def answer_query(query: Any, *args: Any, **kwargs: Any) -> bool:
    """`query.answer(...)` for a button press or an inline query; False when Telegram no longer takes it.

    A query must be answered within seconds; one handled later (a slow moment, a chat's 429 pause, an
    update taken over from a dead replica) is refused with "query is too old". That answer is only the
    button's spinner or a toast: it is logged and skipped, and what the button does (edit the message, send
    the article) still happens.
    """
    try:
        await query.answer(*args, **kwargs)
        return True
    except BadRequest as e:
        if not any(part in str(e).lower() for part in _EXPIRED_QUERY):
            raise
        log.info("%s %s expired before it was answered", type(query).__name__, getattr(query, "id", "?"))
        return False
