"""Retries of Bot API requests are bounded: backoff doubles, a request is never started past the retry time,
and what cannot succeed by retrying (a bad request, a 429 longer than the time left) is not retried."""

from __future__ import annotations

import itertools
import logging

import pytest
from telegram.error import BadRequest, NetworkError, RetryAfter, TimedOut

from bot.telegram.sending import FIRST_BACKOFF, SendAbandoned, with_retries

# RetryAfter's own __init__ reads its deprecated int retry_after
pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")


class Failing:
    """A request failing with the given errors in turn (the last one for ever), recording when it was tried."""

    def __init__(self, clock, *errors: Exception):
        self.clock = clock
        self.errors = list(errors)
        self.started: list[float] = []

    async def __call__(self) -> str:
        self.started.append(self.clock())
        raise self.errors.pop(0) if len(self.errors) > 1 else self.errors[0]


class Clock:
    """The retry loop's clock: it moves only by what the loop sleeps (see `fast_sleep`)."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def fast_sleep(monkeypatch):
    """asyncio.sleep in sending.py advances the test's clock instead of waiting."""
    import bot.telegram.sending as sending

    clock = Clock()

    async def sleep(seconds: float) -> None:
        clock.now += seconds

    monkeypatch.setattr(sending.asyncio, "sleep", sleep)
    return clock


async def test_retries_back_off_and_stop_within_the_retry_time(fast_sleep, caplog):
    clock = fast_sleep
    caplog.set_level(logging.INFO)
    call = Failing(clock, NetworkError("Bad Gateway"), TimedOut(), NetworkError("reset"))
    with pytest.raises(SendAbandoned):
        await with_retries(call, what="sendMessage", chat_id=42, retry_seconds=20.0, clock=clock)
    gaps = [b - a for a, b in itertools.pairwise(call.started)]
    assert len(call.started) >= 5 and all(t <= 20.0 for t in call.started)  # never started past the bound
    assert gaps[0] == pytest.approx(FIRST_BACKOFF, rel=0.21)
    assert all(b > a for a, b in itertools.pairwise(gaps[:5]))  # backing off
    lost = [r.getMessage() for r in caplog.records if r.getMessage().startswith("lost:")]
    assert len(lost) == 1 and "chat 42" in lost[0] and f"failed {len(call.started)} times" in lost[0]


async def test_a_429_is_waited_for_but_not_beyond_the_retry_time(fast_sleep):
    clock = fast_sleep
    call = Failing(clock, RetryAfter(3), RetryAfter(3), RetryAfter(100))
    with pytest.raises(SendAbandoned):
        await with_retries(call, what="sendMessage", chat_id=7, retry_seconds=60.0, clock=clock)
    assert call.started == [0.0, 3.0, 6.0]  # Telegram's retry_after honoured; 100 s would pass the bound


async def test_a_bad_request_is_not_retried(fast_sleep):
    call = Failing(fast_sleep, BadRequest("Message is too long"))
    with pytest.raises(BadRequest):
        await with_retries(call, what="sendMessage", chat_id=7, retry_seconds=60.0, clock=fast_sleep)
    assert len(call.started) == 1
