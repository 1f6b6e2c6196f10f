"""Protection around the bot: the token kept out of logs, per-user question limits, usage figures.

None of this needs Telegram; it is separate so it can be tested on its own.
"""

from __future__ import annotations

import logging
import math
import time
from collections import deque
from dataclasses import dataclass

REDACTED = "<redacted>"
# Loggers that may see request URLs (Bot API URLs hold the token; httpx, if anything uses it, logs each one).
_LOUD_LOGGERS = (
    "",
    "httpx",
    "httpcore",
    "telegram",
    "telegram.ext",
    "bot",
    "asyncio",
    "aiohttp.access",
    "aiohttp.server",
    "aiohttp.client",
)


class RedactingFilter(logging.Filter):
    """Replaces secrets in a record's message, arguments and traceback text.

    It formats the message once (msg % args) so a secret split across the two is caught too.
    """

    def __init__(self, secrets: list[str]):
        super().__init__()
        self.secrets = sorted({s for s in secrets if s and len(s) >= 4}, key=len, reverse=True)

    def redact(self, text: str) -> str:
        for s in self.secrets:
            if s in text:
                text = text.replace(s, REDACTED)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        if not self.secrets or getattr(record, "_redacted", False):
            return True
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: leave it to the handler to report
            message = str(record.msg)
        clean = self.redact(message)
        if clean != message or record.args:
            record.msg, record.args = clean, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        record._redacted = True
        return True


_installed: RedactingFilter | None = None


def install_redaction(*secrets: str) -> RedactingFilter:
    """Keep `secrets` (the bot token) out of every log record, whichever logger or handler.

    Logger filters only see records logged on that very logger, not those propagated from
    children (telegram.ext.Updater, ...), so the filter is attached to the loud loggers and to
    the record factory, which every record passes through. Calling it again adds secrets.
    """
    global _installed
    if _installed is not None:
        more = {s for s in secrets if s and len(s) >= 4}
        _installed.secrets = sorted(set(_installed.secrets) | more, key=len, reverse=True)
        return _installed
    flt = RedactingFilter(list(secrets))
    for name in _LOUD_LOGGERS:
        logging.getLogger(name).addFilter(flt)
    previous = logging.getLogRecordFactory()

    def factory(*args, **kwargs) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        flt.filter(record)
        return record

    logging.setLogRecordFactory(factory)
    _installed = flt
    return flt


def redact(text: str) -> str:
    """`text` without any installed secret, for error messages shown outside logging."""
    return _installed.redact(text) if _installed is not None else text


@dataclass
class _Bucket:
    tokens: float
    stamp: float
    warned: bool = False


class QuestionLimiter:
    """A token bucket per user: `burst` questions at once, refilled at `per_minute`.

    `check` says whether to answer, and whether to say "slow down" (only once per limited spell,
    so a flooding user does not make the bot flood the chat in turn).
    """

    def __init__(self, per_minute: float, burst: int, clock=time.monotonic, max_users: int = 10_000):
        self.rate = per_minute / 60.0
        self.burst = burst
        self.clock = clock
        self.max_users = max_users
        self._buckets: dict[int, _Bucket] = {}

    def check(self, user_id: int) -> tuple[bool, bool, float]:
        """(allowed, warn, seconds until the next question is allowed)."""
        now = self.clock()
        b = self._buckets.get(user_id)
        if b is None:
            if len(self._buckets) >= self.max_users:
                self._forget_idle(now)
            b = self._buckets[user_id] = _Bucket(self.burst, now)
        b.tokens = min(self.burst, b.tokens + (now - b.stamp) * self.rate)
        b.stamp = now
        if b.tokens >= 1:
            b.tokens -= 1
            b.warned = False
            return True, False, 0.0
        wait = (1 - b.tokens) / self.rate
        warn = not b.warned
        b.warned = True
        return False, warn, wait

    def _forget_idle(self, now: float) -> None:
        full = [u for u, b in self._buckets.items() if b.tokens + (now - b.stamp) * self.rate >= self.burst]
        for u in full:
            del self._buckets[u]
        if len(self._buckets) >= self.max_users:  # everyone is busy: drop the oldest half
            for u in sorted(self._buckets, key=lambda u: self._buckets[u].stamp)[: self.max_users // 2]:
                del self._buckets[u]


class Metrics:
    """Questions answered and their latency (last 1000), failures, and uptime, for /stats."""

    def __init__(self, clock=time.monotonic):
        self.clock = clock
        self.started = clock()
        self.questions = 0
        self.errors = 0  # handler failures reported to the user
        self.lost = 0  # answers given up after retrying (Telegram or the network kept failing)
        self.latencies: deque[float] = deque(maxlen=1000)

    def record(self, seconds: float) -> None:
        self.questions += 1
        self.latencies.append(seconds)

    def percentile(self, p: float) -> float | None:
        if not self.latencies:
            return None
        xs = sorted(self.latencies)
        return xs[min(len(xs) - 1, max(0, math.ceil(p / 100 * len(xs)) - 1))]  # nearest rank

    @property
    def uptime(self) -> float:
        return self.clock() - self.started
