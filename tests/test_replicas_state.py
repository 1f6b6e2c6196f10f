"""The Redis-backed shared state against a real redis-server: answer keys, limits, the update stream,
and falling back to local state while Redis is down (and back when it returns)."""

from __future__ import annotations

import asyncio
import json
import time

import pytest

from bot.replicas.keys import RedisAnswerKeys, answer_key
from bot.replicas.limits import RedisUserLimiter, SharedThrottle
from bot.replicas.link import RedisLink, Unavailable
from bot.replicas.stream import MAX_DELIVERIES, StreamConsumer, UpdateStream
from tests.redisserver import RedisServer


@pytest.fixture
async def link(redis_server, request):
    ns = f"t{abs(hash(request.node.nodeid)) % 10**8}"
    lk = RedisLink(redis_server.url, ns, timeout=0.5, probe_every=0.1)
    yield lk
    await lk.close()


class LocalLimiter:
    """The single-process limiter behind the async interface (the fallback while Redis is down)."""

    def __init__(self, per_minute: float, burst: int):
        from bot.telegram.guard import QuestionLimiter

        self.inner = QuestionLimiter(per_minute, burst)
        self.calls = 0

    async def check(self, user_id: int) -> tuple[bool, bool, float]:
        self.calls += 1
        return self.inner.check(user_id)


async def test_answer_keys_are_shared_between_replicas_and_outlive_them(redis_server):
    a = RedisLink(redis_server.url, "keys")
    keys_a = RedisAnswerKeys(a, ttl_seconds=3600)
    key = await keys_a.put("who approved the road maps?")
    assert key == answer_key("who approved the road maps?") and len(key) == 12
    await a.close()  # replica A is gone; B never saw the question
    b = RedisLink(redis_server.url, "keys")
    keys_b = RedisAnswerKeys(b, ttl_seconds=3600)
    assert await keys_b.get(key) == "who approved the road maps?"
    assert 3000 < await b.client.ttl(b.key("q", key)) <= 3600
    assert await keys_b.get("zzzzzzzzzzzz") is None and await keys_b.get("../" + key) is None
    await b.close()


async def test_user_limit_is_one_bucket_across_replicas(redis_server):
    links = [RedisLink(redis_server.url, "users") for _ in range(3)]
    limiters = [RedisUserLimiter(lk, per_minute=6, burst=3, fallback=LocalLimiter(6, 3)) for lk in links]
    results = [await limiters[i % 3].check(77) for i in range(5)]  # one user, spread over three replicas
    assert [r[0] for r in results] == [True, True, True, False, False]
    assert [r[1] for r in results] == [False, False, False, True, False]  # "slow down" said once
    assert 5 < results[3][2] <= 10  # one question per 10 s
    assert (await limiters[0].check(78))[0]  # another user is not affected
    assert all(lim.fallback.calls == 0 for lim in limiters)
    for lk in links:
        await lk.close()


async def test_throttle_spaces_requests_of_all_replicas(redis_server):
    links = [RedisLink(redis_server.url, "rate") for _ in range(3)]
    throttles = [SharedThrottle(lk, overall_rate=50, group_rate_per_minute=600, overall_burst=1) for lk in links]
    stamps: list[float] = []

    async def send(t: SharedThrottle) -> None:
        await t.acquire(123, group=False)
        stamps.append(time.monotonic())

    t0 = time.monotonic()
    await asyncio.gather(*(send(throttles[i % 3]) for i in range(30)))
    # 30 requests at 50/s through three replicas: together at least 29 intervals of 20 ms, not a third of it.
    # (Lower bounds only: a stall of the loaded machine can delay a request, never make one early.)
    assert max(stamps) - t0 >= 0.55

    t1 = time.monotonic()
    await throttles[0].pause(123, 2.0)  # Telegram's retry_after for a chat, seen by one replica, holds all of them
    paused = asyncio.create_task(throttles[2].acquire(123, group=False))
    await throttles[1].acquire(456, group=False)
    assert not paused.done()  # ...for that chat only: another chat went first
    await paused
    assert time.monotonic() - t1 >= 1.95
    t2 = time.monotonic()
    await throttles[1].pause(None, 0.3)  # the whole bot
    await throttles[0].acquire(None, group=False)
    assert time.monotonic() - t2 >= 0.25  # (Redis counts whole milliseconds)
    for lk in links:
        await lk.close()


async def test_group_budget_is_per_group(redis_server):
    lk = RedisLink(redis_server.url, "groups")
    throttle = SharedThrottle(lk, overall_rate=1000, group_rate_per_minute=240, group_burst=2)  # 1 per 0.25 s
    t0 = time.monotonic()
    for _ in range(4):
        await throttle.acquire(-100, group=True)
    assert time.monotonic() - t0 >= 0.45  # 2 at once, then spaced
    busy = asyncio.create_task(throttle.acquire(-100, group=True))
    await throttle.acquire(-200, group=True)
    assert not busy.done()  # another group is not held up by this one's budget
    await busy
    await lk.close()


def _message(update_id: int, chat: int, text: str) -> dict:
    chat_ = {"id": chat, "type": "private"}
    return {"update_id": update_id, "message": {"message_id": update_id, "date": 0, "chat": chat_, "text": text}}


async def test_stream_dedupes_by_update_id_and_every_update_is_handled_once(redis_server):
    lk = RedisLink(redis_server.url, "stream1")
    stream = UpdateStream(lk)
    handled: list[int] = []

    async def handle(update: dict) -> None:
        await asyncio.sleep(0.01)
        handled.append(update["update_id"])

    consumers = [StreamConsumer(UpdateStream(lk), f"r{i}", handle, block=0.2) for i in range(3)]
    for c in consumers:
        await c.start()
    added = [await stream.add(_message(i, 1000 + i % 7, "q")) for i in range(1, 61)]
    assert all(added)
    assert not await stream.add(_message(5, 1005, "q"))  # Telegram sent it again
    body = json.dumps(_message(10**9 + 3, 1, "q")).encode()
    assert await stream.add(json.loads(body), body)
    deadline = time.monotonic() + 10
    while len(handled) < 61 and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    for c in consumers:
        await c.stop()
    assert sorted(handled) == [*range(1, 61), 10**9 + 3]
    assert sum(c.handled for c in consumers) == 61 and sum(1 for c in consumers if c.handled) >= 2
    assert await lk.client.xlen(stream.key) == 0  # acknowledged entries are deleted
    await lk.close()


async def test_one_chat_keeps_its_order_across_replicas(redis_server):
    lk = RedisLink(redis_server.url, "order")
    stream = UpdateStream(lk)
    seen: list[int] = []

    async def handle(update: dict) -> None:
        n = update["update_id"]
        await asyncio.sleep(0.05 if n % 2 else 0.0)  # odd ones are slow: a free replica would overtake them
        seen.append(n)

    consumers = [StreamConsumer(UpdateStream(lk), f"o{i}", handle, block=0.2) for i in range(3)]
    for i in range(1, 13):
        await stream.add(_message(i, 42, f"q{i}"))
    for c in consumers:
        await c.start()
    deadline = time.monotonic() + 10
    while len(seen) < 12 and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    for c in consumers:
        await c.stop()
    assert seen == list(range(1, 13))
    await lk.close()


async def test_a_dead_consumers_entries_are_claimed_by_another(redis_server):
    lk = RedisLink(redis_server.url, "claim")
    stream = UpdateStream(lk)
    await stream.ensure_group()
    for i in range(1, 4):
        await stream.add(_message(i, 500 + i, "q"))
    # a replica reads the entries, then dies before acknowledging them
    await lk.client.xreadgroup(stream.GROUP, "dead", {stream.key: ">"}, count=10)
    handled: list[int] = []

    async def handle(update: dict) -> None:
        handled.append(update["update_id"])

    alive = StreamConsumer(UpdateStream(lk), "alive", handle, block=0.2, claim_idle=0.5)
    await alive.start()
    deadline = time.monotonic() + 5
    while len(handled) < 3 and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    await alive.stop()
    assert sorted(handled) == [1, 2, 3]
    assert (await lk.client.xpending(stream.key, stream.GROUP))["pending"] == 0
    await lk.close()


async def test_redis_down_falls_back_to_local_state_and_recovers(tmp_path, caplog):
    server = RedisServer(tmp_path / "r").start()
    lk = RedisLink(server.url, "down", timeout=0.3, probe_every=0.1)
    keys = RedisAnswerKeys(lk)
    local = LocalLimiter(60, 2)
    limiter = RedisUserLimiter(lk, 60, 2, fallback=local)
    throttle = SharedThrottle(lk, overall_rate=100, group_rate_per_minute=60)
    key_before = await keys.put("asked before the crash")
    server.kill()
    with caplog.at_level("WARNING", logger="bot.replicas.link"):
        key_during = await keys.put("asked while Redis is down")
        assert await keys.get(key_during) == "asked while Redis is down"  # from this replica's memory
        assert await keys.get(key_before) == "asked before the crash"
        t0 = time.monotonic()
        for _ in range(20):
            assert (await limiter.check(1))[0] in (True, False)
            await throttle.acquire(5, group=True)
        assert time.monotonic() - t0 < 5  # no timeouts per call: the link knows Redis is down
        assert local.calls == 20
        with pytest.raises(Unavailable):
            await UpdateStream(lk).add(_message(1, 1, "q"))
        server.start()
        deadline = time.monotonic() + 5
        while not lk.up and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        assert lk.up
        assert (await limiter.check(2))[0] and local.calls == 20  # shared again
    downs = [r for r in caplog.records if "unreachable" in r.getMessage()]
    ups = [r for r in caplog.records if "reachable again" in r.getMessage()]
    assert len(downs) == 1 and len(ups) == 1  # logged once each way
    assert await keys.get(key_before) == "asked before the crash"  # the AOF kept it
    other = RedisLink(server.url, "down")  # another replica: the key made during the outage was shared on recovery
    deadline = time.monotonic() + 5
    while await RedisAnswerKeys(other).get(key_during) is None and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    assert await RedisAnswerKeys(other).get(key_during) == "asked while Redis is down"
    await other.close()
    await lk.close()
    server.stop()


async def wait_until(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.01)


async def test_a_busy_chat_does_not_take_every_slot(redis_server):
    """A chat whose first update is stuck keeps its later ones waiting, not the other chats' updates."""
    lk = RedisLink(redis_server.url, "busy")
    stream = UpdateStream(lk)
    release = asyncio.Event()
    handled: list[int] = []

    async def handle(update: dict) -> None:
        if update["update_id"] == 1:
            await release.wait()  # e.g. a send retrying for a minute
        handled.append(update["update_id"])

    consumer = StreamConsumer(UpdateStream(lk), "busy", handle, max_inflight=2, block=0.1)
    for i in range(1, 7):
        await stream.add(_message(i, 42, "q"))  # six updates of one chat...
    for i in range(7, 10):
        await stream.add(_message(i, 1000 + i, "q"))  # ...then three other chats
    await consumer.start()
    await wait_until(lambda: sorted(handled) == [7, 8, 9], 5, "the other chats' answers")
    release.set()
    await wait_until(lambda: len(handled) == 9, 5, "the busy chat's answers")
    assert [u for u in handled if u <= 6] == [1, 2, 3, 4, 5, 6]
    await consumer.stop()
    await lk.close()


async def test_an_update_waits_for_its_predecessor_taken_over_from_a_dead_replica(redis_server):
    lk = RedisLink(redis_server.url, "takeover")
    stream = UpdateStream(lk)
    await stream.ensure_group()
    await stream.add(_message(1, 42, "first"))
    await lk.client.xreadgroup(stream.GROUP, "dead", {stream.key: ">"}, count=1)  # read, then the replica died
    await stream.add(_message(2, 42, "second"))
    handled: list[int] = []

    async def handle(update: dict) -> None:
        handled.append(update["update_id"])

    alive = StreamConsumer(UpdateStream(lk), "alive", handle, block=0.1, claim_idle=0.6)
    await alive.start()
    await wait_until(lambda: len(handled) == 2, 5, "both answers")
    assert handled == [1, 2]  # the second waited for the first's takeover, however long that took
    await alive.stop()
    await lk.close()


async def test_a_dropped_predecessor_does_not_hold_up_its_chat(redis_server):
    lk = RedisLink(redis_server.url, "dropped")
    stream = UpdateStream(lk)
    await stream.ensure_group()
    await stream.add(_message(1, 42, "crashes every replica"))
    entries = await lk.client.xreadgroup(stream.GROUP, "dead", {stream.key: ">"}, count=1)
    poison = entries[0][1][0][0]
    await lk.client.set(lk.key("claims", poison.decode()), MAX_DELIVERIES)  # claimed (and crashed) enough
    await stream.add(_message(2, 42, "next"))
    handled: list[int] = []

    async def handle(update: dict) -> None:
        handled.append(update["update_id"])

    alive = StreamConsumer(UpdateStream(lk), "alive", handle, block=0.1, claim_idle=0.3)
    t0 = time.monotonic()
    await alive.start()
    await wait_until(lambda: handled == [2], 10, "the next update")
    assert time.monotonic() - t0 < 10  # not held for order_wait (minutes)
    await alive.stop()
    assert await lk.client.xlen(stream.key) == 0
    await lk.close()


async def test_stopping_hands_unfinished_updates_back_unacknowledged(redis_server):
    lk = RedisLink(redis_server.url, "handback")
    stream = UpdateStream(lk)
    handled: list[str] = []

    async def stuck(update: dict) -> None:
        if update["update_id"] == 1:
            await asyncio.sleep(3600)  # a send retrying past the drain
        await asyncio.sleep(0.1)
        handled.append(f"a{update['update_id']}")

    a = StreamConsumer(UpdateStream(lk), "a", stuck, block=0.1, claim_idle=30)
    await a.start()
    await stream.add(_message(1, 41, "stuck"))
    await stream.add(_message(2, 42, "quick"))
    await wait_until(lambda: len(a._inflight) == 2, 5, "both read")
    t0 = time.monotonic()
    assert await a.stop(grace=0.5) == 1
    assert time.monotonic() - t0 < 10  # bounded by the grace, not by the stuck send (an hour)
    assert handled == ["a2"]  # the one that finished within the grace was answered and acknowledged
    pending = await lk.client.xpending_range(stream.key, stream.GROUP, "-", "+", 10)
    assert len(pending) == 1 and pending[0]["consumer"] == b"a"  # the other is still there, unacknowledged

    async def answer(update: dict) -> None:
        handled.append(f"b{update['update_id']}")

    b = StreamConsumer(UpdateStream(lk), "b", answer, block=0.1, claim_idle=30)  # idle long before claiming...
    await b.start()
    await wait_until(lambda: "b1" in handled, 3, "the takeover")  # ...yet the handed-back one comes at once
    await b.stop()
    assert await lk.client.xlen(stream.key) == 0
    await lk.close()


async def test_an_update_names_its_predecessor_only_while_that_one_is_unanswered(redis_server):
    lk = RedisLink(redis_server.url, "predecessor")
    stream = UpdateStream(lk)
    await stream.ensure_group()

    async def add_and_read(update_id: int) -> tuple[bytes, bytes]:
        await stream.add(_message(update_id, 42, "q"))
        reply = await lk.client.xreadgroup(stream.GROUP, "r", {stream.key: ">"}, count=1)
        entry_id, fields = reply[0][1][0]
        return entry_id, fields[b"p"]

    first, before = await add_and_read(1)
    second, previous = await add_and_read(2)
    assert before == b"" and previous == first  # the first is still being handled: wait for it
    await stream.done(first)
    await stream.done(second)
    _, previous = await add_and_read(3)
    assert previous == b""  # the chat's earlier updates are answered: nothing to wait for, no look-up
    await lk.close()
