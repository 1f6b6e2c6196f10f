"""The fake Bot API in a process of its own, driven over its stdin/stdout (for the replica benchmark).

A benchmark that runs the fake API in its own process measures the bot, not a harness sharing the bot's
interpreter. The parent sends one JSON command per line and reads one JSON reply per line:

- `{"op": "url"}` -> `{"url": ..., "token": ..., "pid": ...}`
- `{"op": "make", "questions": [...], "first_user": n}` -> the updates (private messages, user and chat
  `first_user + i`) that Telegram would post for those questions; the fake knows their messages, so the
  bot's replies to them are accepted.
- `{"op": "answers", "since": i}` -> `{"next": j, "answers": [[chat_id, started], ...]}`: successful
  sendMessage calls from the i-th call on, with the wall-clock time each request reached the fake.

    proc = FakeAPIProcess().start(); updates = proc.make(questions, 1000); ...; proc.stop()
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from typing import Any

from tests.fakebotapi import FakeBotAPI


def serve() -> None:
    """The child: serve the fake API from a thread, answer commands on stdin until it closes."""
    with FakeBotAPI.running_in_thread() as api:
        seen = 0  # calls already scanned for answers
        for line in sys.stdin:
            command = json.loads(line)
            op = command.get("op")
            reply: Any
            if op == "url":
                import os

                reply = {"url": api.url, "token": api.token, "pid": os.getpid()}
            elif op == "make":
                first = int(command["first_user"])
                reply = [
                    api.push_message(q, user_id=first + i, enqueue=False) for i, q in enumerate(command["questions"])
                ]
            elif op == "answers":
                seen = int(command.get("since", seen))
                with api._lock:
                    calls = api.calls[seen:]
                reply = {
                    "next": seen + len(calls),
                    "answers": [
                        [c.params.get("chat_id"), c.started] for c in calls if c.method == "sendMessage" and c.ok
                    ],
                }
            else:
                reply = {"error": f"unknown op {op!r}"}
            sys.stdout.write(json.dumps(reply) + "\n")
            sys.stdout.flush()


class FakeAPIProcess:
    """The parent's handle on the fake API process."""

    def __init__(self) -> None:
        self.proc: subprocess.Popen[str] | None = None
        self.url = ""
        self.token = ""
        self.pid = 0
        self._next = 0
        self._lock = threading.Lock()

    def start(self) -> FakeAPIProcess:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.fakeapi_process"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        info = self._ask({"op": "url"})
        self.url, self.token, self.pid = info["url"], info["token"], info["pid"]
        return self

    def _ask(self, command: dict) -> Any:
        assert self.proc is not None and self.proc.stdin is not None and self.proc.stdout is not None
        with self._lock:
            self.proc.stdin.write(json.dumps(command) + "\n")
            self.proc.stdin.flush()
            line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError("the fake Bot API process exited")
        return json.loads(line)

    def make(self, questions: list[str], first_user: int) -> list[dict]:
        return self._ask({"op": "make", "questions": questions, "first_user": first_user})

    def new_answers(self) -> list[tuple[int, float]]:
        """(chat id, time it reached the fake) of each sendMessage that succeeded since the last call."""
        reply = self._ask({"op": "answers", "since": self._next})
        self._next = reply["next"]
        return [(int(chat), float(t)) for chat, t in reply["answers"]]

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            assert self.proc.stdin is not None
            self.proc.stdin.close()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


if __name__ == "__main__":
    serve()
