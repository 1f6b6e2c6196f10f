"""Answers per second and latency of 1 and of N replicas, end to end, against the fake Bot API.

    python -m tests.bench_replicas --passages 100000 --replicas 1,3 --questions 2000

From a checkout (it uses the test helpers). It generates `bench`'s synthetic corpus, builds its index
once (`python -m bot index`), then for each replica count starts that many `python -m bot run` processes
with a real redis-server, the round-robin forwarder and the fake Bot API (rate limits raised), posts the
questions like Telegram does (`--connections` at a time, each re-posted until a 2xx), one user per
question, and times each from the moment its update is posted to the moment sendMessage reaches the fake
API. Everything runs on this machine: the poster, forwarder and fake API share one Python process, and
the replicas share the CPU with them, so the figures are a floor, not the ceiling of a real deployment.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from bot.bench import SyntheticCorpus
from tests.fakebotapi import FakeBotAPI
from tests.redisserver import RedisServer, free_port
from tests.replica_cluster import ROOT, Forwarder, Replica, replica_env
from tests.test_replicas_process import post_like_telegram


def _percentile(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, max(0, int(round(p / 100 * len(xs) + 0.5)) - 1))]


def measure(root: Path, corpus: Path, index: Path, questions: list[str], replicas: int, connections: int) -> dict:
    work = root / f"run-{replicas}"
    work.mkdir()
    with RedisServer(work / "redis") as redis_server, FakeBotAPI.running_in_thread(webhook_retry_delay=0.2) as api:
        ports = [free_port() for _ in range(replicas)]
        forwarder = Forwarder(ports).start()
        procs = [
            Replica(
                replica_env(
                    api.url, api.token, corpus, index, redis_server.url, forwarder.url, ports[i],
                    BOT_OVERALL_MAX_RATE="100000",
                ),
                work, ports[i],
            ).start()
            for i in range(replicas)
        ]  # fmt: skip
        try:
            for p in procs:
                p.wait_serving(300)
            base = 10_000_000

            def run(batch: list[str], first_user: int) -> tuple[list[float], float]:
                updates = [api.push_message(q, user_id=first_user + i, enqueue=False) for i, q in enumerate(batch)]
                t0 = time.time()
                posted = {u["message"]["chat"]["id"]: t0 for u in updates}
                sender = threading.Thread(target=post_like_telegram, args=(forwarder.url, updates, connections))
                sender.start()
                deadline = time.monotonic() + 600
                while True:
                    answered = {
                        c.params.get("chat_id"): c.started for c in api.calls_of("sendMessage") if c.params.get("chat_id") in posted
                    }
                    if len(answered) == len(posted) or time.monotonic() > deadline:
                        break
                    time.sleep(0.05)
                sender.join()
                wall = max(answered.values()) - t0
                return [answered[c] - posted[c] for c in answered], wall

            run(questions[:50], base)  # warm-up: connections, caches
            latencies, wall = run(questions, base + 1000)
        finally:
            for p in procs:
                p.stop()
            forwarder.stop()
    ms = [x * 1000 for x in latencies]
    return {
        "replicas": replicas,
        "questions": len(questions),
        "answered": len(latencies),
        "answers_per_second": round(len(latencies) / wall, 1),
        "p50_ms": round(_percentile(ms, 50), 1),
        "p99_ms": round(_percentile(ms, 99), 1),
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--passages", type=int, default=100_000)
    p.add_argument("--replicas", default="1,3", help="replica counts to measure, e.g. 1,3")
    p.add_argument("--questions", type=int, default=2000)
    p.add_argument("--connections", type=int, default=40, help="updates in flight at once (Telegram's max_connections)")
    p.add_argument("--json", action="store_true")
    a = p.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-replicas-") as tmp:
        root = Path(tmp)
        corpus, index = root / "corpus", root / "index"
        synthetic = SyntheticCorpus(a.passages)
        synthetic.write_jsonl(corpus, questions=a.questions + 50)
        questions = synthetic.questions
        env = {k: v for k, v in os.environ.items() if not k.startswith("BOT_")}
        env.update(BOT_INDEX_DIR=str(index), XDG_CACHE_HOME=str(root / "cache"), PYTHONPATH=str(ROOT))
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-m", "bot", "index", "--corpus", str(corpus)], env=env, check=True,
                       stdout=subprocess.DEVNULL)  # fmt: skip
        print(f"corpus of {a.passages} passages indexed in {time.perf_counter() - t0:.0f} s", file=sys.stderr)
        os.environ["XDG_CACHE_HOME"] = str(root / "cache")
        results = [
            measure(root, corpus, index, questions[: a.questions], int(n), a.connections) for n in a.replicas.split(",")
        ]
    if a.json:
        print(json.dumps(results))
    else:
        print("| replicas | answers/s | p50 ms | p99 ms | answered |")
        print("|---|---|---|---|---|")
        for r in results:
            print(f"| {r['replicas']} | {r['answers_per_second']} | {r['p50_ms']} | {r['p99_ms']} | {r['answered']}/{r['questions']} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
