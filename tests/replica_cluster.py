"""Several `python -m bot run` replicas behind a round-robin forwarder, a real Redis and the fake Bot API.

Used by the replica tests and by the replica benchmark (`python -m tests.bench_replicas`). Everything
listens on 127.0.0.1 only.

- `Forwarder`: the load balancer Telegram's single webhook URL points at. POST /hook goes to the next
  replica in turn (a replica that refuses the connection is skipped, as nginx's proxy_next_upstream
  does); POST /direct/<i>/hook goes to replica i (tests aim at one replica with it). It serves from a
  thread of the tests, or as a process of its own (`ForwarderProcess`, `python -m tests.replica_cluster
  PORT REPLICA_PORT...`) for the benchmark.
- `Replica`: one bot process; its stderr is collected (`log`), `kill()` is SIGKILL.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import aiohttp
from aiohttp import web

from tests.redisserver import free_port

ROOT = Path(__file__).resolve().parent.parent
SECRET = "replica-test-secret"
ADMIN_ID = 4242


class Forwarder:
    def __init__(self, ports: list[int]):
        self.ports = ports
        self.port = free_port()
        self.sent = [0] * len(ports)
        self._next = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def direct(self, i: int) -> str:
        return f"http://127.0.0.1:{self.port}/direct/{i}/hook"

    async def _handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        headers = {
            k: v for k, v in request.headers.items() if k.lower() in ("content-type", "x-telegram-bot-api-secret-token")
        }
        if request.match_info.get("i") is not None:
            order = [int(request.match_info["i"])]
        else:
            start = self._next
            self._next = (self._next + 1) % len(self.ports)
            order = [(start + k) % len(self.ports) for k in range(len(self.ports))]
        assert self._session is not None
        for i in order:
            try:
                async with self._session.post(
                    f"http://127.0.0.1:{self.ports[i]}/hook", data=body, headers=headers
                ) as r:
                    text = await r.read()
                    self.sent[i] += 1
                    return web.Response(status=r.status, body=text)
            except (TimeoutError, aiohttp.ClientConnectionError):
                continue  # that replica is down: the next one
        return web.Response(status=502, text="no replica answered")

    async def open(self) -> None:
        """Listen (on the running loop)."""
        app = web.Application()
        app.router.add_post("/hook", self._handle)
        app.router.add_post("/direct/{i}/hook", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30))

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
        if self._runner is not None:
            await self._runner.cleanup()

    def start(self) -> Forwarder:
        """Serve from a thread of this process (the tests)."""
        ready = threading.Event()

        def run() -> None:
            loop = self._loop = asyncio.new_event_loop()
            asyncio.set_event_loop(loop)
            loop.run_until_complete(self.open())
            ready.set()
            loop.run_forever()
            loop.run_until_complete(self.close())
            loop.close()

        self._thread = threading.Thread(target=run, name="forwarder", daemon=True)
        self._thread.start()
        ready.wait(10)
        return self

    def stop(self) -> None:
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread is not None:
            self._thread.join(10)


class ForwarderProcess:
    """The forwarder in a process of its own (the benchmark: its CPU is not the harness's or the bot's)."""

    def __init__(self, ports: list[int]):
        self.ports = ports
        self.port = free_port()
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def start(self, timeout: float = 10) -> ForwarderProcess:
        args = [sys.executable, "-m", "tests.replica_cluster", str(self.port), *map(str, self.ports)]
        self.proc = subprocess.Popen(args, cwd=ROOT, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout
        while not _listening(self.port):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the forwarder did not start")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)


def _listening(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def serve_forwarder(port: int, ports: list[int]) -> None:
    """`python -m tests.replica_cluster PORT REPLICA_PORT...`: forward until SIGTERM or SIGINT."""
    forwarder = Forwarder(ports)
    forwarder.port = port

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await forwarder.open()
        await stop.wait()
        await forwarder.close()

    asyncio.run(main())


class Replica:
    def __init__(self, env: dict[str, str], cwd: Path, port: int):
        self.env = env
        self.cwd = cwd
        self.port = port
        self.proc: subprocess.Popen | None = None
        self.lines: list[str] = []
        self._reader: threading.Thread | None = None

    def start(self) -> Replica:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bot", "run"], cwd=self.cwd, env=self.env, stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        proc = self.proc

        def read() -> None:
            assert proc.stderr is not None
            for line in proc.stderr:
                self.lines.append(line)

        self._reader = threading.Thread(target=read, daemon=True)
        self._reader.start()
        return self

    @property
    def log(self) -> str:
        return "".join(self.lines)

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def wait_serving(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while "serving by webhook" not in self.log:
            if not self.alive():
                raise RuntimeError(f"replica exited:\n{self.log[-3000:]}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"replica not serving:\n{self.log[-3000:]}")
            time.sleep(0.05)

    def kill(self) -> None:
        if self.alive():
            assert self.proc is not None
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        if self.alive():
            assert self.proc is not None
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)


def replica_env(api_url: str, token: str, corpus: Path, index_dir: Path, redis_url: str, forwarder_url: str,
                port: int, **extra: str) -> dict[str, str]:  # fmt: skip
    env = {k: v for k, v in os.environ.items() if not k.startswith("BOT_")}
    env.update(
        BOT_TOKEN=token, BOT_API_URL=api_url, BOT_CORPUS_DIR=str(corpus), BOT_INDEX_DIR=str(index_dir),
        BOT_REDIS_URL=redis_url, BOT_WEBHOOK_URL=forwarder_url, BOT_WEBHOOK_SECRET=SECRET,
        BOT_WEBHOOK_LISTEN="127.0.0.1", BOT_WEBHOOK_PORT=str(port), BOT_ADMIN_IDS=str(ADMIN_ID),
        BOT_LOG_LEVEL="INFO", PYTHONPATH=str(ROOT),
    )  # fmt: skip
    env.update(extra)
    return env


if __name__ == "__main__":
    serve_forwarder(int(sys.argv[1]), [int(p) for p in sys.argv[2:]])
