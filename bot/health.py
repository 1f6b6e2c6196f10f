"""Is the bot serving? A heartbeat file the running bot refreshes, and the check a container runs.

A long-polling bot listens on no port, so a health check cannot knock on one. Instead, while `run` serves,
`Heartbeat` (a service of the Telegram layer, started after the bot is up and stopped before it goes
down) rewrites BOT_HEARTBEAT_FILE every few seconds from the event loop, as long as the updater is running.
A stuck event loop, a dead updater or a stopped bot leave the file stale or remove it;
`python -m bot.health` (what the Dockerfile's HEALTHCHECK runs: standard library only, so it starts fast)
or `corpus-bot health` then exit 1 with one line saying why.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ENV = "BOT_HEARTBEAT_FILE"
INTERVAL = 15.0  # seconds between beats
MAX_AGE = 60.0  # a heartbeat older than this means "not serving" (four missed beats)


class Heartbeat:
    """Rewrites `path` every `interval` seconds while the application's updater runs."""

    def __init__(self, path: Path, interval: float = INTERVAL):
        self.path = Path(path)
        self.interval = interval
        self._task: asyncio.Task | None = None
        self._application: object = None

    async def start(self, application: object) -> None:
        self._application = application
        self.beat(force=True)  # services start just before the updater does
        self._task = asyncio.create_task(self._run(), name="heartbeat")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        with contextlib.suppress(OSError):
            self.path.unlink()  # a stopped bot is not healthy: say so at once

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            self.beat()

    def beat(self, force: bool = False) -> None:
        """Write the heartbeat (atomically), unless the updater has stopped."""
        updater = getattr(self._application, "updater", None)
        if not force and updater is not None and not getattr(updater, "running", True):
            return  # polling or the webhook server died: let the file go stale
        record = {"time": time.time(), "pid": os.getpid(), "interval": self.interval}
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".heartbeat-", dir=self.path.parent)
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(record, f)
            os.replace(tmp, self.path)
        except OSError as e:  # a health check will report the stale file; serving goes on
            print(f"heartbeat: cannot write {self.path}: {e.strerror or e}", file=sys.stderr)


def check(path: Path, max_age: float = MAX_AGE, now: float | None = None) -> tuple[bool, str]:
    """(healthy, one line saying why) from the heartbeat file at `path`."""
    now = time.time() if now is None else now
    try:
        record = json.loads(Path(path).read_text(encoding="utf-8"))
        beat = float(record["time"])
    except FileNotFoundError:
        return (
            False,
            f"no heartbeat at {path}: the bot is not serving (starting, stopped, or BOT_HEARTBEAT_FILE differs)",
        )
    except (OSError, ValueError, KeyError, TypeError) as e:
        return False, f"unreadable heartbeat at {path}: {e}"
    age = now - beat
    if age > max_age:
        return False, f"last heartbeat {age:.0f} s ago (more than {max_age:.0f} s): the bot has stopped serving"
    return True, f"serving: heartbeat {max(age, 0):.0f} s ago (pid {record.get('pid', '?')})"


def main(argv: list[str] | None = None) -> int:
    """`python -m bot.health [MAX_AGE_SECONDS]`: exit 0 when the heartbeat is fresh, else 1; 2 if unset."""
    args = sys.argv[1:] if argv is None else argv
    path = os.environ.get(ENV)
    if not path:
        print(f"health: {ENV} is not set; the running bot writes its heartbeat there", file=sys.stderr)
        return 2
    try:
        max_age = float(args[0]) if args else MAX_AGE
    except ValueError:
        print(f"health: expected the largest heartbeat age in seconds, got {args[0]!r}", file=sys.stderr)
        return 2
    ok, why = check(Path(path), max_age)
    print(why, file=sys.stdout if ok else sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
