"""One index build at a time per index folder, and every replica on the same generation.

A *generation* is what an index was built from: the corpus snapshot (its fingerprint digest: every
file's path, size and modification time). The corpus folder is shared by all replicas, so two indexes
with the same digest answer alike, wherever they were built. Redis holds the published generation (the
digest last built) and a counter of reload requests; index folders are told apart by a UUID written into
each (`.folder-id`), so replicas sharing one folder (one volume) know it, whatever path they mount it at.

- Start-up: under the folder's lock (Redis, plus flock on `<index_dir>/.build.lock`), the Library opens:
  it maps in a fresh index, or builds one. Replicas starting together on an empty folder build once.
- `/reload` (or an upload, or SIGHUP) on any replica bumps the request counter and says so on a pub/sub
  channel. Each folder builds once for it: the first replica to take the folder's lock builds, the others
  sharing the folder find the request covered and map the new index in. With one folder per machine every
  machine builds its own copy, all at once.
- Every second (and at once on a pub/sub message, so a missed message costs a second at most) a replica
  compares the counter and the published digest with its own; a replica whose index is stale follows
  (maps in its folder's index, or builds it), one whose index matches the corpus as it is now publishes it.
  The corpus on disk is the truth, so replicas converge on its latest state.
- Redis down: the folder lock is flock alone, reloads are local, and replicas catch up when it returns.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
import os
import time
import uuid
from pathlib import Path
from typing import Self

from redis.exceptions import ResponseError

from bot.replicas.link import REDIS_DOWN, RedisLink, Unavailable, make_client
from bot.search import Engine
from bot.service import Library, ReloadSummary

log = logging.getLogger(__name__)

FOLDER_ID = ".folder-id"
BUILD_LOCK = ".build.lock"

_RELEASE = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0"
_RENEW = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end return 0"


def folder_id(index_dir: Path) -> str:
    """The UUID of an index folder (created once, atomically: concurrent replicas agree on it)."""
    index_dir.mkdir(parents=True, exist_ok=True)
    path = index_dir / FOLDER_ID
    for _ in range(3):
        try:
            text = path.read_text(encoding="ascii").strip()
            if text:
                return text
        except FileNotFoundError:
            pass
        tmp = index_dir / f".folder-id.{os.getpid()}.{uuid.uuid4().hex[:8]}"
        tmp.write_text(uuid.uuid4().hex + "\n", encoding="ascii")
        try:
            os.link(tmp, path)  # fails if another replica was first: then read theirs
        except FileExistsError:
            pass
        finally:
            tmp.unlink(missing_ok=True)
    return path.read_text(encoding="ascii").strip()


def digest_of(engine: Engine | None) -> str | None:
    manifest = getattr(engine, "manifest", None) or {}
    return (manifest.get("corpus") or {}).get("digest")


class FolderLock:
    """Exclusive right to build into one index folder: a Redis lock (renewed while held) and flock."""

    def __init__(self, link: RedisLink | None, index_dir: Path, fid: str, owner: str, ttl: float = 10.0):
        self.link = link
        self.path = index_dir / BUILD_LOCK
        self.key = link.key("build", fid) if link is not None else ""
        self.owner = owner.encode()
        self.ttl_ms = int(ttl * 1000)
        self._fd: int | None = None
        self._renew: asyncio.Task | None = None
        self._redis_held = False

    async def __aenter__(self) -> Self:
        waited = False
        while self.link is not None:
            try:
                got = await self.link.run(lambda r: r.set(self.key, self.owner, nx=True, px=self.ttl_ms))
            except Unavailable:
                break  # flock alone while Redis is down
            if got:
                self._redis_held = True
                self._renew = asyncio.get_running_loop().create_task(self._renew_loop())
                break
            if not waited:
                log.info("another replica is building this index folder; waiting for it")
                waited = True
            await asyncio.sleep(0.1)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    await asyncio.sleep(0.1)
        except BaseException:
            os.close(fd)
            await self._release_redis()
            raise
        self._fd = fd
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None
        await self._release_redis()

    async def _renew_loop(self) -> None:
        assert self.link is not None
        while True:
            await asyncio.sleep(self.ttl_ms / 3000)
            with contextlib.suppress(Unavailable):
                kept = await self.link.run(lambda r: r.eval(_RENEW, 1, self.key, self.owner, self.ttl_ms))
                if not kept:
                    log.warning("lost the build lock of this index folder (Redis restarted?); flock still holds")

    async def _release_redis(self) -> None:
        if self._renew is not None:
            self._renew.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._renew
            self._renew = None
        if self._redis_held and self.link is not None:
            with contextlib.suppress(Unavailable):
                await self.link.run(lambda r: r.eval(_RELEASE, 1, self.key, self.owner))
        self._redis_held = False


class ReplicatedLibrary:
    """A `Library` kept on the replicas' one generation; the Telegram layer uses it as its library."""

    def __init__(self, library: Library, name: str, *, check_every: float = 1.0):
        if library.index_dir is None:
            raise ValueError("replicas need an index folder (BOT_INDEX_DIR)")
        self.library = library
        self.index_dir = library.index_dir
        self.fid = folder_id(self.index_dir)
        self.name = name
        self.check_every = check_every
        self.link: RedisLink | None = None
        self.builds = 0  # builds this replica ran (start-up included)
        self._serial: asyncio.Lock | None = None  # made on the serving loop (start-up runs on another)
        self._wake: asyncio.Event | None = None
        self._tasks: list[asyncio.Task] = []
        self._stopped = False
        self._failed_follow_at = 0.0

    @property
    def engine(self) -> Engine:
        return self.library.engine

    def _key(self, *parts: object) -> str:
        assert self.link is not None
        return self.link.key(*parts)

    def _serialized(self) -> asyncio.Lock:
        """One build, adoption or reconciliation at a time in this replica."""
        if self._serial is None:
            self._serial = asyncio.Lock()
        return self._serial

    def _lock(self) -> FolderLock:
        return FolderLock(self.link, self.index_dir, self.fid, self.name)

    # -- start-up ----------------------------------------------------------------------------------

    async def open(self, link: RedisLink | None) -> Engine:
        """The first engine, under the folder lock: a fresh persisted index, else one build."""
        self.link = link
        requested = await self._get_int("reload", "requested")
        async with self._lock():
            t0 = time.perf_counter()
            had = self._generation()
            engine = await asyncio.to_thread(self.library.open)
            if self._generation() != had:
                self.builds += 1
                log.info("built the index in %s in %.1f s", self.index_dir, time.perf_counter() - t0)
        if requested is not None:
            await self._cover(requested)
        await self._publish_if_differs()
        return engine

    # -- reloads -----------------------------------------------------------------------------------

    async def reload(self) -> ReloadSummary:
        """Rebuild for all replicas: this folder builds once (or maps in a peer's build); others follow."""
        async with self._serialized():  # first: our own watcher must not take this request for a peer's
            request: int | None = None
            if self.link is not None:
                with contextlib.suppress(Unavailable):
                    request = int(await self.link.run(lambda r: r.incr(self._key("reload", "requested"))))
                    await self._announce("reload")
            return await self._build_or_adopt(request)

    async def _build_or_adopt(self, request: int | None) -> ReloadSummary:
        old = self.library.engine
        before = (len(old.articles), len(old.passages))
        t0 = time.perf_counter()
        async with self._lock():
            covered = await self._get_int("folder", self.fid)
            if request is not None and covered is not None and covered >= request:
                await self._adopt()  # a peer on this folder built it after we asked
                new = self.library.engine
                await self._publish_if_differs()
                return ReloadSummary(
                    True, *before, len(new.articles), len(new.passages), time.perf_counter() - t0,
                    [(s.path, s.reason) for s in new.skipped], coalesced=True,
                )  # fmt: skip
            snapshot = await self._get_int("reload", "requested")
            log.info("building the index in %s (replica %s)", self.index_dir, self.name)
            summary = await self.library.reload()
            self.builds += 1
            if snapshot is not None:
                await self._cover(snapshot)  # a failed build counts too: no retry loop on a broken corpus
        if summary.ok:
            await self._publish_if_differs()
        return summary

    async def _adopt(self, force: bool = False) -> None:
        """Map in this folder's index when it differs from ours, or with `force` whenever ours is stale
        (`Library.open` maps in the folder's index if it matches the corpus, else builds)."""
        if not force and self._folder_digest() == digest_of(self.library.engine):
            return
        had = self._generation()
        engine = await asyncio.to_thread(self.library.open)
        if self._generation() != had:
            self.builds += 1
        log.info("now serving the index generation %s", (digest_of(engine) or "?")[:12])

    def _generation(self) -> str | None:
        """The name of the generation CURRENT names in this folder (a new one means somebody built)."""
        from bot import generations as folder

        try:
            return folder.current_generation(self.index_dir).name
        except folder.StoreError:
            return None

    def _folder_digest(self) -> str | None:
        from bot import generations as folder

        try:
            return (folder.read_manifest(self.index_dir).get("corpus") or {}).get("digest")
        except folder.StoreError:
            return None

    # -- following the others ---------------------------------------------------------------------------

    async def start(self, link: RedisLink | None) -> None:
        self.link = link
        self._serial, self._wake = asyncio.Lock(), asyncio.Event()
        if link is None:
            return
        link.on_up.append(self._wake.set)
        loop = asyncio.get_running_loop()
        self._tasks = [loop.create_task(self._watch()), loop.create_task(self._listen())]

    async def stop(self) -> None:
        self._stopped = True  # redis-py's pub/sub read may swallow a cancellation
        for t in self._tasks:
            t.cancel()
        if self._tasks:
            await asyncio.wait(self._tasks, timeout=5)
        self._tasks = []

    async def _watch(self) -> None:
        assert self._wake is not None
        while True:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.check_every)
            self._wake.clear()
            try:
                await self.reconcile()
            except Unavailable:
                continue
            except Exception:  # never let the watcher die; the next check tries again
                log.exception("keeping up with the other replicas failed")
                await asyncio.sleep(5)

    async def _listen(self) -> None:
        """Pub/sub: wake the watcher at once. Losing messages is harmless (the watcher polls too)."""
        assert self.link is not None and self._wake is not None
        while not self._stopped:
            client = make_client(self.link.url, self.link.timeout)
            pubsub = client.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(self._key("events"))
                while not self._stopped:
                    message = await pubsub.get_message(timeout=1.0)
                    if message is not None:
                        self._wake.set()
            except (*REDIS_DOWN, ResponseError) as e:
                log.debug("pub/sub: %s", e)
                await asyncio.sleep(1.0)
            finally:  # bounded: a half-open connection must not hold up a stop
                with contextlib.suppress(Exception, asyncio.TimeoutError):
                    await asyncio.wait_for(pubsub.aclose(), 1.0)
                with contextlib.suppress(Exception, asyncio.TimeoutError):
                    await asyncio.wait_for(client.aclose(), 1.0)

    async def reconcile(self) -> None:
        """One look at Redis: build for a pending reload request, follow a newer generation, or publish ours."""
        serial = self._serialized()
        if self.link is None or not self.link.up or serial.locked():
            return
        async with serial:
            requested, covered, published = await self.link.run(self._read_state)
            if requested is not None and (covered is None or covered < requested):
                await self._build_or_adopt(requested)
                return
            mine = digest_of(self.library.engine)
            if published is None or published == mine:
                if published is None and mine is not None:
                    await self._publish_if_differs()
                return
            stale = await asyncio.to_thread(self.library.changed)
            if stale is None:  # ours is the corpus as it is now: the others follow us
                await self._publish_if_differs()
                return
            if time.monotonic() - self._failed_follow_at < 30:
                return
            async with self._lock():
                try:
                    await self._adopt(force=True)
                except Exception as e:
                    self._failed_follow_at = time.monotonic()
                    log.warning("could not take up the new index generation (%s); serving the old one", e)
                    return
            await self._publish_if_differs()

    async def _read_state(self, r) -> tuple[int | None, int | None, str | None]:
        requested, covered, published = await r.mget(
            self._key("reload", "requested"), self._key("folder", self.fid), self._key("gen", "digest")
        )
        return (
            int(requested) if requested else None,
            int(covered) if covered else None,
            published.decode() if published else None,
        )

    # -- Redis bookkeeping ---------------------------------------------------------------------------

    async def _get_int(self, *parts: object) -> int | None:
        if self.link is None:
            return None
        try:
            raw = await self.link.run(lambda r: r.get(self._key(*parts)))
        except Unavailable:
            return None
        return int(raw) if raw else 0

    async def _cover(self, request: int) -> None:
        """Record that this folder's index covers reload requests up to `request`."""
        assert self.link is not None
        script = "if tonumber(redis.call('GET', KEYS[1]) or '0') < tonumber(ARGV[1]) then " + (
            "redis.call('SET', KEYS[1], ARGV[1]) end"
        )
        with contextlib.suppress(Unavailable):
            await self.link.run(lambda r: r.eval(script, 1, self._key("folder", self.fid), request))

    async def _publish_if_differs(self) -> None:
        mine = digest_of(self.library.engine)
        if self.link is None or mine is None:
            return
        with contextlib.suppress(Unavailable):
            old: bytes | str | None = await self.link.run(lambda r: r.getset(self._key("gen", "digest"), mine))
            if old != mine.encode():
                log.info("published index generation %s", mine[:12])
                await self._announce("gen")

    async def _announce(self, what: str) -> None:
        assert self.link is not None
        await self.link.run(lambda r: r.publish(self._key("events"), what))
