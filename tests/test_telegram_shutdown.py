"""Stopping while an answer is still being retried: the drain is bounded by BOT_STOP_DRAIN_SECONDS (not by
the minute a send may be retried, past Docker's 10 s grace), and with Redis the unanswered update stays
in the stream, unacknowledged, and another replica answers it at once."""

from __future__ import annotations

import asyncio
import logging
import time

import redis.asyncio as aioredis

from bot.settings import Settings
from bot.telegram.shared_redis import namespace_for, redis_backends
from tests.conftest import running_bot
from tests.test_telegram_webhook import as_json, post, update, webhook_bot

QUESTION = "who approved the road maps?"


async def stopped_within(bot, seconds: float) -> float:
    t0 = time.monotonic()
    bot.stop.set()
    await asyncio.wait_for(asyncio.shield(bot.task), seconds)
    return time.monotonic() - t0


async def test_stopping_does_not_wait_for_a_long_retry(fake_api, prebuilt_corpus, clean_env, caplog):
    api = fake_api
    caplog.set_level(logging.WARNING)
    corpus, index = prebuilt_corpus
    async with running_bot(api, corpus, index_dir=index, stop_drain_seconds=0.5, send_retry_seconds=60) as bot:
        api.fail_next("sendMessage", code=500, times=10_000)  # the answer will be retried for a minute
        api.push_message(QUESTION, user_id=3301)
        await api.wait_for("sendMessage")
        assert await stopped_within(bot, 30) < 15  # the drain (0.5 s), not the minute of retries
    api.clear_failures()
    lost = [r.getMessage() for r in caplog.records if "not answered before stopping" in r.getMessage()]
    assert lost == ["1 updates were not answered before stopping (Telegram counts them delivered)"]


async def test_with_redis_an_unanswered_update_goes_back_to_another_replica(
    fake_api, prebuilt_corpus, clean_env, redis_server
):
    api = fake_api
    settings = Settings(_env_file=None, token=api.token, redis_url=redis_server.url)

    def replica(**overrides):
        return webhook_bot(api, prebuilt_corpus, redis_backends(settings), stop_drain_seconds=0.5, **overrides)

    async with replica() as first:
        api.fail_next("sendMessage", code=500, times=10_000, chat_id=3401)
        assert await post(first.url, as_json(update(7001, QUESTION, user_id=3401))) == 200  # in Redis now
        await api.wait_for("sendMessage", lambda p: p.get("chat_id") == 3401)
        assert await stopped_within(first, 30) < 15  # not the minute of retries

    r = aioredis.Redis.from_url(redis_server.url)
    stream = f"{namespace_for(settings)}:updates"
    pending = await r.xpending(stream, "replicas")
    assert pending["pending"] == 1  # unanswered, so not acknowledged: still there for another replica
    api.clear_failures()
    async with replica():  # e.g. the replica that took over, or this one restarted
        call = await api.wait_for("sendMessage", lambda p: p.get("chat_id") == 3401, ok=True, timeout=5)
        assert "road maps" in call.result["text"]
        await asyncio.sleep(0.3)
    assert len(api.sent_messages(3401)) == 1
    assert (await r.xpending(stream, "replicas"))["pending"] == 0
    await r.aclose()
