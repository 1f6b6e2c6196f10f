"""Answers per second and latency of one and of N replicas, end to end, against the fake Bot API.

    python -m tests.bench_replicas --passages 100000 --replicas 1,3

From a checkout (it uses the test helpers). It generates `bench`'s synthetic corpus and builds its index
once (`python -m bot index`). Then, for each configuration (one process without Redis, then 1 and N
replicas of `python -m bot run` sharing a real redis-server), each part runs in a process of its own: the
fake Bot API (tests/fakeapi_process.py), the round-robin forwarder standing for the TLS proxy
(tests/replica_cluster.py), the replicas, Redis, and this harness, which posts updates like Telegram
(`--connections` at a time, each re-posted until a 2xx), one user per question. The bot's outgoing rate
limit is raised (Telegram's 30/s would be the ceiling otherwise). Two measurements per configuration:

- saturation: a backlog of `--burst` questions worked off, in answers per second from the moment the
  backlog is in place to the last answer. With Redis the backlog is stored straight into the update
  stream (what the webhooks do); a harness posting through the forwarder could not outrun the replicas
  on a shared 2-core machine. Without Redis it is posted to the webhook as fast as the process accepts.
- latency: questions posted at steady `--rates` per second (open loop) for `--seconds` each; p50 / p99
  from posting an update to its sendMessage reaching the fake.

For each window, the CPU each part used (from /proc), per answer, and how busy the whole machine was
meanwhile, other processes included, so a reader can tell where the time went.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

from bot.bench.synthetic import SyntheticCorpus
from bot.replicas.link import RedisLink
from bot.replicas.stream import UpdateStream
from bot.settings import Settings
from bot.telegram.shared_redis import namespace_for
from tests.fakeapi_process import FakeAPIProcess
from tests.redisserver import RedisServer, free_port
from tests.replica_cluster import ROOT, SECRET, ForwarderProcess, Replica, replica_env

TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (all its threads) so far."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def machine_jiffies() -> tuple[int, int]:
    """(busy, total) CPU time of the whole machine so far, in clock ticks."""
    with open("/proc/stat") as f:
        values = [int(x) for x in f.readline().split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    return sum(values) - idle, sum(values)


@dataclass
class CpuWindow:
    """CPU used by each named part between `start()` and `stop()`, and by the machine as a whole."""

    parts: dict[str, list[int]]
    used: dict[str, float] = field(default_factory=dict)
    wall: float = 0.0
    machine_busy: float = 0.0  # cores busy on average, all processes

    def start(self) -> None:
        self._t0 = time.monotonic()
        self._m0 = machine_jiffies()
        self._c0 = {name: [cpu_seconds(p) for p in pids] for name, pids in self.parts.items()}

    def stop(self) -> None:
        m1 = machine_jiffies()
        self.wall = time.monotonic() - self._t0
        for name, pids in self.parts.items():
            self.used[name] = sum(cpu_seconds(p) - c for p, c in zip(pids, self._c0[name]))
        busy, total = m1[0] - self._m0[0], m1[1] - self._m0[1]
        self.machine_busy = busy / total * os.cpu_count() if total else 0.0  # type: ignore[operator]

    def report(self, answers: int) -> dict:
        ours = sum(self.used.values())
        return {
            "wall_s": round(self.wall, 2),
            "cpu_s": {k: round(v, 2) for k, v in self.used.items()},
            "cpu_ms_per_answer": {k: round(v / max(1, answers) * 1000, 2) for k, v in self.used.items()},
            "cores_busy_machine": round(self.machine_busy, 2),
            "cores_busy_others": round(max(0.0, self.machine_busy - ours / max(self.wall, 1e-9)), 2),
        }


def percentile(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, max(0, round(p / 100 * len(xs) + 0.5) - 1))]


class Poster:
    """Posts updates to the webhook URL as Telegram does: `connections` at once, each until a 2xx."""

    def __init__(self, url: str, connections: int):
        self.url = url
        self.connections = connections
        self.posted: dict[int, float] = {}  # chat id -> when its update was first posted (wall clock)

    async def _post(self, session: aiohttp.ClientSession, update: dict) -> None:
        headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
        self.posted.setdefault(update["message"]["chat"]["id"], time.time())
        while True:
            try:
                async with session.post(self.url, json=update, headers=headers) as r:
                    await r.read()
                    if 200 <= r.status < 300:
                        return
            except (TimeoutError, aiohttp.ClientError):
                pass
            await asyncio.sleep(0.2)  # not accepted: Telegram delivers it again

    async def burst(self, updates: list[dict]) -> None:
        """All at once (as fast as `connections` allow)."""
        queue = list(reversed(updates))
        async with self._session() as session:

            async def worker() -> None:
                while queue:
                    await self._post(session, queue.pop())

            await asyncio.gather(*(worker() for _ in range(self.connections)))

    async def steady(self, updates: list[dict], rate: float) -> None:
        """One every 1/rate seconds, on schedule whatever the replies (an open loop, like users)."""
        slots = asyncio.Semaphore(self.connections)
        t0 = time.monotonic()
        async with self._session() as session:

            async def one(update: dict) -> None:
                async with slots:
                    await self._post(session, update)

            tasks = []
            for i, update in enumerate(updates):
                delay = t0 + i / rate - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
                tasks.append(asyncio.create_task(one(update)))
            await asyncio.gather(*tasks)

    def _session(self) -> aiohttp.ClientSession:
        connector = aiohttp.TCPConnector(limit=self.connections)
        return aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=10))


async def collect(api: FakeAPIProcess, answered: dict[int, float], want: set[int], timeout: float) -> None:
    """Poll the fake for sendMessage calls until every chat in `want` has its answer."""
    deadline = time.monotonic() + timeout
    while not want <= answered.keys():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{len(want - answered.keys())} of {len(want)} questions unanswered")
        for chat, t in await asyncio.to_thread(api.new_answers):
            answered.setdefault(chat, t)
        await asyncio.sleep(0.05)


class Cluster:
    """Redis (unless `redis` is False), the fake API, the forwarder and `replicas` bot processes."""

    def __init__(self, work: Path, corpus: Path, index: Path, replicas: int, redis: bool):
        self.work = work
        self.corpus, self.index = corpus, index
        self.n = replicas
        self.use_redis = redis

    def __enter__(self) -> Cluster:
        self.work.mkdir(parents=True, exist_ok=True)
        self.redis: RedisServer | None = None
        self.api = FakeAPIProcess()
        ports = [free_port() for _ in range(self.n)]
        self.forwarder = ForwarderProcess(ports)
        self.replicas: list[Replica] = []
        try:
            self._start(ports)
        except BaseException:
            self.__exit__()
            raise
        return self

    def _start(self, ports: list[int]) -> None:
        if self.use_redis:
            self.redis = RedisServer(self.work / "redis", appendonly=True).start()
        self.api.start()
        self.forwarder.start()
        for port in ports:
            env = replica_env(
                self.api.url, self.api.token, self.corpus, self.index, self.redis.url if self.redis else "",
                self.forwarder.url, port, BOT_OVERALL_MAX_RATE="100000",
            )  # fmt: skip
            if self.redis is None:
                env.pop("BOT_REDIS_URL")
            self.replicas.append(Replica(env, self.work, port).start())
        for r in self.replicas:
            r.wait_serving(600)

    def parts(self) -> dict[str, list[int]]:
        parts = {
            "replicas": [r.proc.pid for r in self.replicas if r.proc],
            "fake Bot API": [self.api.pid],
            "forwarder": [self.forwarder.pid],
            "harness (poster)": [os.getpid()],
        }
        if self.redis is not None and self.redis.proc is not None:
            parts["redis"] = [self.redis.proc.pid]
        return parts

    def __exit__(self, *exc: object) -> None:
        for r in self.replicas:
            r.stop()
        self.forwarder.stop()
        self.api.stop()
        if self.redis is not None:
            self.redis.stop()


class Questions:
    def __init__(self, texts: list[str]):
        self.texts = texts
        self.next = 0
        self.user = 10_000_000

    def take(self, n: int) -> tuple[list[str], int]:
        out = [self.texts[(self.next + i) % len(self.texts)] for i in range(n)]
        first = self.user
        self.next += n
        self.user += n
        return out, first


async def prefill(cluster: Cluster, updates: list[dict]) -> None:
    """Store updates in the Redis stream as the webhooks do (UpdateStream.add), from here, at once."""
    assert cluster.redis is not None
    link = RedisLink(cluster.redis.url, namespace_for(Settings(_env_file=None, token=cluster.api.token)))
    stream = UpdateStream(link)
    try:
        for i in range(0, len(updates), 32):  # within the client's connection pool
            await asyncio.gather(*(stream.add(u) for u in updates[i : i + 32]))
    finally:
        await link.close()


async def run_config(cluster: Cluster, questions: Questions, burst: int, rates: list[float], seconds: float,
                     connections: int) -> dict:  # fmt: skip
    api = cluster.api
    parts = cluster.parts()
    result: dict = {}

    async def ask(texts: list[str], first_user: int, how) -> tuple[Poster, dict[int, float], float]:
        updates = await asyncio.to_thread(api.make, texts, first_user)
        poster = Poster(cluster.forwarder.url, connections)
        answered: dict[int, float] = {}
        want = {u["message"]["chat"]["id"] for u in updates}
        collector = asyncio.create_task(collect(api, answered, want, 900))
        await how(poster, updates)
        posted_at = time.time()
        await collector
        return poster, answered, posted_at

    # warm-up: connections, caches, the first requests of every kind
    texts, user = questions.take(100)
    await ask(texts, user, lambda p, u: p.steady(u, 25))

    # saturation: a backlog, worked off. With Redis it is put straight into the stream (as the webhooks
    # would store it); without, it is posted to the webhook as fast as the process accepts it.
    texts, user = questions.take(burst)
    window = CpuWindow(parts)

    async def backlog(poster: Poster, updates: list[dict]) -> None:
        if cluster.redis is not None:
            await prefill(cluster, updates)
        else:
            await poster.burst(updates)
        window.start()

    poster, answered, posted_at = await ask(texts, user, backlog)
    window.stop()
    after = sorted(t for t in answered.values() if t >= posted_at)
    last = max(answered.values())
    rate_sat = len(after) / (last - posted_at) if last > posted_at else float("nan")
    result["saturation"] = {
        "questions": burst,
        "backlog": "stream" if cluster.redis is not None else "webhook",
        "answered_after_backlog": len(after),
        "answers_per_second": round(rate_sat, 1),
        **window.report(len(after)),
    }

    # latency at steady loads below saturation
    result["steady"] = []
    for rate in rates:
        texts, user = questions.take(max(1, int(rate * seconds)))
        window = CpuWindow(parts)
        window.start()
        poster, answered, _ = await ask(texts, user, lambda p, u, r=rate: p.steady(u, r))
        window.stop()
        ms = [(answered[c] - t) * 1000 for c, t in poster.posted.items()]
        result["steady"].append({
            "rate_per_second": rate,
            "questions": len(ms),
            "p50_ms": round(percentile(ms, 50), 1),
            "p90_ms": round(percentile(ms, 90), 1),
            "p99_ms": round(percentile(ms, 99), 1),
            "max_ms": round(max(ms), 1),
            **window.report(len(ms)),
        })  # fmt: skip
    return result


def prepare(root: Path, passages: int, questions: int) -> tuple[Path, Path, list[str]]:
    """The synthetic corpus and its index (reused from an earlier run in the same `root`)."""
    corpus, index, saved = root / "corpus", root / "index", root / "questions.json"
    if not saved.exists():
        synthetic = SyntheticCorpus(passages)
        synthetic.write_jsonl(corpus, questions=questions, per_file=2000)
        env = {k: v for k, v in os.environ.items() if not k.startswith("BOT_")}
        env.update(BOT_INDEX_DIR=str(index), PYTHONPATH=str(ROOT))
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-m", "bot", "index", "--corpus", str(corpus)], env=env, check=True,
                       stdout=subprocess.DEVNULL)  # fmt: skip
        print(f"corpus of {passages} passages indexed in {time.perf_counter() - t0:.0f} s", file=sys.stderr)
        saved.write_text(json.dumps(synthetic.questions))
    return corpus, index, json.loads(saved.read_text())


def load_average() -> str:
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    p.add_argument("--passages", type=int, default=100_000)
    p.add_argument("--replicas", default="1,3", help="replica counts to measure with Redis, e.g. 1,3")
    p.add_argument("--no-local", action="store_true", help="skip the one process without Redis")
    p.add_argument("--burst", type=int, default=4000, help="questions in the backlog for the saturation rate")
    p.add_argument("--rates", default="50,100", help="steady loads (questions per second) for latency")
    p.add_argument("--seconds", type=float, default=30, help="length of the steady load")
    p.add_argument("--connections", type=int, default=40, help="updates in flight at once (max_connections)")
    p.add_argument("--workdir", type=Path, help="keep the corpus and index here, reused by later runs")
    p.add_argument("--json", action="store_true")
    a = p.parse_args(argv)
    configs = ([] if a.no_local else [(1, False)]) + [(int(n), True) for n in a.replicas.split(",") if n]
    with tempfile.TemporaryDirectory(prefix="bench-replicas-") as tmp:
        root = a.workdir or Path(tmp)
        root.mkdir(parents=True, exist_ok=True)
        os.environ["XDG_CACHE_HOME"] = str(root / "cache")
        corpus, index, texts = prepare(root, a.passages, 20_000)
        questions = Questions(texts)
        results, rates = [], [float(x) for x in a.rates.split(",") if x]
        for n, redis in configs:
            load_before = load_average()
            with Cluster(Path(tmp) / f"run-{n}-{int(redis)}", corpus, index, n, redis) as cluster:
                r = asyncio.run(run_config(cluster, questions, a.burst, rates, a.seconds, a.connections))
            r.update(replicas=n, redis=redis, passages=a.passages, load_before=load_before, load_after=load_average())
            results.append(r)
            print(json.dumps(r), file=sys.stderr)
    if a.json:
        print(json.dumps(results, indent=1))
    else:
        print(table(results))
    return 0


def table(results: list[dict]) -> str:
    lines = [
        "| configuration | answers/s at saturation | steady load | p50 | p99 | CPU ms per answer at that load | "
        "other processes (cores) | load avg |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        name = f"{r['replicas']} replica{'s' if r['replicas'] > 1 else ''} + Redis" if r["redis"] else "1 process"
        for st in r["steady"]:
            cpu = ", ".join(f"{k} {v}" for k, v in st["cpu_ms_per_answer"].items())
            lines.append(
                f"| {name} | {r['saturation']['answers_per_second']} | {st['rate_per_second']:g}/s | "
                f"{st['p50_ms']:.0f} ms | {st['p99_ms']:.0f} ms | {cpu} | {st['cores_busy_others']} | "
                f"{r['load_before']} |"
            )
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
