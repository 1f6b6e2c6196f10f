"""Index generations shared by replicas (three Libraries in one test process, real builds in child
processes, a real redis-server): one build per folder, reloads reaching every replica, a missed pub/sub
message, and both deployments (one shared index folder, or one per machine)."""

from __future__ import annotations

import asyncio
import shutil
import time
from pathlib import Path

import pytest

from bot.replicas.generations import ReplicatedLibrary, digest_of
from bot.replicas.link import RedisLink
from bot.search import SearchSettings
from bot.service import Library

ROOT = Path(__file__).resolve().parent.parent


def _replicas(corpus: Path, index_dirs: list[Path]) -> list[ReplicatedLibrary]:
    return [
        ReplicatedLibrary(Library(corpus, SearchSettings(), index_dir=d), f"r{i}", check_every=0.5)
        for i, d in enumerate(index_dirs)
    ]


async def _open_all(replicas: list[ReplicatedLibrary], url: str, ns: str) -> list[RedisLink]:
    links = [RedisLink(url, ns) for _ in replicas]
    await asyncio.gather(*(r.open(lk) for r, lk in zip(replicas, links)))
    for r, lk in zip(replicas, links):
        await r.start(lk)
    return links


async def _close(replicas: list[ReplicatedLibrary], links: list[RedisLink]) -> None:
    for r in replicas:
        await r.stop()
    for lk in links:
        await lk.close()


async def _until(predicate, timeout: float) -> float:
    t0 = time.monotonic()
    while not predicate():
        assert time.monotonic() - t0 < timeout, "timed out"
        await asyncio.sleep(0.05)
    return time.monotonic() - t0


def _answers(replica: ReplicatedLibrary, question: str) -> str:
    hits = replica.engine.ask(question, 1, 0).hits
    return hits[0].article.title if hits else ""


@pytest.fixture
def corpus(tmp_path) -> Path:
    target = tmp_path / "corpus"
    shutil.copytree(ROOT / "bot" / "sample", target)
    return target


async def test_shared_folder_builds_once_and_a_reload_reaches_all_without_pubsub(redis_server, corpus, tmp_path):
    shared = tmp_path / "index"
    replicas = _replicas(corpus, [shared] * 3)
    links = await _open_all(replicas, redis_server.url, "shared")
    admin = links[0].client
    try:
        assert sum(r.builds for r in replicas) == 1  # started together on an empty folder
        assert len({digest_of(r.engine) for r in replicas}) == 1

        # nobody may subscribe any more, and the current subscriptions are cut: every message is missed
        await admin.execute_command("ACL", "SETUSER", "default", "-subscribe", "-psubscribe")
        await admin.execute_command("CLIENT", "KILL", "TYPE", "pubsub")
        (corpus / "solar.txt").write_text("Title: Solar farms\n\nSolar panels cover the old airfield.\n")
        summary = await replicas[1].reload()
        assert summary.ok and summary.after_articles == summary.before_articles + 1
        question = "what covers the old airfield"
        waited = await _until(lambda: all(_answers(r, question) == "Solar farms" for r in replicas), 5)
        assert waited < 5
        assert sum(r.builds for r in replicas) == 2  # one more build for the reload, not three
        assert len({digest_of(r.engine) for r in replicas}) == 1
    finally:
        await admin.execute_command("ACL", "SETUSER", "default", "+@all")
        await _close(replicas, links)


async def test_folder_per_machine_each_builds_its_copy_of_the_one_generation(redis_server, corpus, tmp_path):
    replicas = _replicas(corpus, [tmp_path / f"machine{i}" for i in range(3)])
    links = await _open_all(replicas, redis_server.url, "permachine")
    try:
        assert [r.builds for r in replicas] == [1, 1, 1]
        (corpus / "tides.txt").write_text("Title: Tides\n\nThe harbour floods at the spring tide.\n")
        t0 = time.monotonic()
        assert (await replicas[0].reload()).ok
        await _until(lambda: all(_answers(r, "when does the harbour flood") == "Tides" for r in replicas), 5)
        assert time.monotonic() - t0 < 8
        assert [r.builds for r in replicas] == [2, 2, 2]
        assert len({digest_of(r.engine) for r in replicas}) == 1
    finally:
        await _close(replicas, links)


async def test_a_replica_restarting_on_a_changed_corpus_brings_the_others_along(redis_server, corpus, tmp_path):
    replicas = _replicas(corpus, [tmp_path / "a", tmp_path / "b"])
    links = await _open_all(replicas, redis_server.url, "restart")
    try:
        (corpus / "bees.txt").write_text("Title: Bees\n\nThe hives stand behind the school.\n")
        await replicas[1].stop()  # replica b restarts: it builds from the corpus as it is now
        fresh = ReplicatedLibrary(Library(corpus, SearchSettings(), index_dir=tmp_path / "b"), "b2", check_every=0.5)
        await fresh.open(links[1])
        await fresh.start(links[1])
        replicas[1] = fresh
        await _until(lambda: _answers(replicas[0], "where do the hives stand") == "Bees", 8)
        assert digest_of(replicas[0].engine) == digest_of(fresh.engine)
    finally:
        await _close(replicas, links)
