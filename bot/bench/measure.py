"""Measuring: percentiles, and wall time and peak memory of a command with all its child processes."""

from __future__ import annotations

import os
import resource
import subprocess
import threading
import time
from dataclasses import dataclass

import numpy as np

MB = 1e6  # memory and sizes are reported in MB (10^6 bytes)


def percentiles(ms: list[float]) -> dict:
    if not ms:
        return {"p50_ms": None, "p95_ms": None, "p99_ms": None, "max_ms": None}
    a = np.asarray(ms)
    p50, p95, p99 = np.percentile(a, [50, 95, 99])
    return {
        "p50_ms": round(float(p50), 4),
        "p95_ms": round(float(p95), 4),
        "p99_ms": round(float(p99), 4),
        "max_ms": round(float(a.max()), 4),
    }


def status_mb(field: str, pid: int | str = "self") -> float | None:
    """A memory figure of /proc/<pid>/status (VmRSS, VmHWM, ...) in MB; None where there is none."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) * 1024 / MB
    except OSError:
        pass
    return None


def _descendants(pid: int) -> list[int]:
    out = [pid]
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{tid}/children") as f:
                for child in f.read().split():
                    out += _descendants(int(child))
    except OSError:
        pass
    return out


@dataclass
class Run:
    """A finished command: its wall time, output, and the peak resident memory of its processes."""

    seconds: float
    returncode: int
    stdout: str
    stderr: str
    peak_mb: float  # the largest sum, at one moment, over the command and all its child processes
    peak_one_mb: float  # the largest single process
    cpu_seconds: float  # user + system time of the command and its children (on a busy machine: its real cost)

    def check(self, what: str) -> Run:
        if self.returncode != 0:
            raise RuntimeError(f"{what} failed (exit code {self.returncode}): {self.stderr.strip()[-2000:]}")
        return self


def run_measured(cmd: list[str], env: dict | None = None, interval: float = 0.05) -> Run:
    """Run `cmd`, sampling the resident memory of its process tree every `interval` seconds."""
    peak = [0.0, 0.0]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            rss = [status_mb("VmRSS", p) or 0.0 for p in _descendants(proc.pid)]
            peak[0] = max(peak[0], sum(rss))
            peak[1] = max(peak[1], max(rss, default=0.0))
            done.wait(interval)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        out, err = proc.communicate()
    finally:
        done.set()
        sampler.join()
    seconds = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return Run(seconds, proc.returncode, out, err, round(peak[0], 1), round(peak[1], 1), round(cpu, 2))
