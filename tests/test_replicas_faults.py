"""Redis faults the issue does not spell out, on a real replica (the real Application, webhook mode, BOT_REDIS_URL)
against a real redis-server: a replica started while Redis is down, and Redis restarting with none of its data
(no AOF, a new server, a FLUSHALL). The replica answers throughout and uses Redis again once it is back:
updates go through the stream (consumer group recreated), re-deliveries are answered once, buttons work.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from pathlib import Path

import redis.asyncio as aioredis

from bot.settings import Settings
from bot.telegram.shared_redis import namespace_for
from tests.conftest import index_ahead, running_bot, wait_until
from tests.redisserver import RedisServer
from tests.test_telegram_webhook import as_json, post, update, webhook_bot

QUESTION = "who approved the road maps?"
OTHER = "what did Syamashka say about the tax maneuver?"
BROAD = "Belarus Russia"  # more than one page: a "More" button


@contextlib.asynccontextmanager
async def replica(api, corpus: Path, tmp: Path, redis_url: str):
    index = tmp / "index"
    index_ahead(corpus, index_dir=index)
    async with webhook_bot(api, (corpus, index), redis_url=redis_url, stop_drain_seconds=0.5) as bot:
        yield bot


def link_of(bot):
    return bot.application.bot_data["state"].backends.intake.link


async def in_redis(url: str, settings: Settings, update_id: int) -> bool:
    """Whether the update went through the Redis stream (its id is in the dedupe bitmap)."""
    r = aioredis.Redis.from_url(url)
    try:
        return bool(await r.getbit(f"{namespace_for(settings)}:seen:0", update_id))
    finally:
        await r.aclose()


async def answered(api, chat_id: int, text: str | None = None):
    call = await api.wait_for("sendMessage", lambda p: p.get("chat_id") == chat_id, ok=True)
    if text is not None:
        assert text in call.result["text"]
    return call


def more_button(message: dict) -> str:
    rows = message["reply_markup"]["inline_keyboard"]
    return next(b["callback_data"] for row in rows for b in row if b["text"].startswith("More"))


def assert_quiet(caplog) -> None:
    """Down and back logged once each, nothing at ERROR level."""
    messages = [r.getMessage() for r in caplog.records]
    assert sum("unreachable" in m for m in messages) == 1, messages
    assert sum("reachable again" in m for m in messages) == 1
    assert not [m for r, m in zip(caplog.records, messages, strict=True) if r.levelno >= logging.ERROR]


async def test_a_replica_started_while_redis_is_down_answers_and_joins_when_it_comes(
    fake_api, corpus_dir, clean_env, tmp_path, caplog
):
    api = fake_api
    caplog.set_level(logging.INFO)
    server = RedisServer(tmp_path / "redis")  # its port is free: nothing listens there yet
    settings = Settings(_env_file=None, token=api.token)
    async with replica(api, corpus_dir, tmp_path, server.url) as bot:
        link = link_of(bot)
        assert not link.up
        assert await post(bot.url, as_json(update(9001, QUESTION, user_id=3901))) == 200  # handled here
        await answered(api, 3901, "road maps")

        server.start()
        await wait_until(lambda: link.up)
        poison = update(9003, "Zanzibar secrets", user_id=3902)
        poison["message"]["date"] = "Zanzibar o'clock"  # python-telegram-bot cannot read it
        assert await post(bot.url, as_json(poison)) == 200  # into the stream, then skipped by the consumer
        assert await post(bot.url, as_json(update(9002, BROAD, user_id=3902))) == 200
        first = await answered(api, 3902)
        assert await in_redis(server.url, settings, 9002)  # through the stream, consumed by the group
        assert await in_redis(server.url, settings, 9003)
        assert await post(bot.url, as_json(update(9002, BROAD, user_id=3902))) == 200  # re-delivered
        api.push_callback_query(more_button(first.result), first.result, user_id=3902)
        edit = await api.wait_for("editMessageText", ok=True)
        for odd_id, user_id in ((2**60, 3903), (-5, 3904)):  # ids the stream cannot dedupe: handled here
            assert await post(bot.url, as_json(update(odd_id, QUESTION, user_id=user_id))) == 200
            await answered(api, user_id, "road maps")
        assert bot.application.bot_data["state"].metrics.errors == 0
    assert edit.result["text"].startswith("4. ")
    assert len(api.sent_messages(3902)) == 1 and len(api.sent_messages(3901)) == 1
    assert_quiet(caplog)
    skipped = [r.getMessage() for r in caplog.records if "skipped update" in r.getMessage()]
    assert len(skipped) == 1 and "9003" in skipped[0]
    assert not any("Zanzibar" in r.getMessage() for r in caplog.records)
    server.stop()


async def test_redis_restarting_without_its_data_loses_no_answer(fake_api, corpus_dir, clean_env, tmp_path, caplog):
    api = fake_api
    caplog.set_level(logging.INFO)
    server = RedisServer(tmp_path / "redis", appendonly=False).start()  # nothing survives a restart
    settings = Settings(_env_file=None, token=api.token)
    async with replica(api, corpus_dir, tmp_path, server.url) as bot:
        link = link_of(bot)
        assert await post(bot.url, as_json(update(9101, BROAD, user_id=4001))) == 200
        before = await answered(api, 4001)
        assert await in_redis(server.url, settings, 9101)

        server.kill()
        assert await post(bot.url, as_json(update(9102, QUESTION, user_id=4002))) == 200  # handled here
        await answered(api, 4002, "road maps")
        server.start()  # empty: no stream, no consumer group, no keys
        await wait_until(lambda: link.up)

        assert await post(bot.url, as_json(update(9103, OTHER, user_id=4003))) == 200
        await answered(api, 4003, "tax maneuver")
        assert await in_redis(server.url, settings, 9103)  # the group was recreated and consumed it
        assert await post(bot.url, as_json(update(9103, OTHER, user_id=4003))) == 200  # re-delivered
        api.push_callback_query(more_button(before.result), before.result, user_id=4001)  # key made before
        edit = await api.wait_for("editMessageText", ok=True)  # this replica still knows the question
        await asyncio.sleep(0.5)  # room for a wrong second answer to 9103
        assert bot.application.bot_data["state"].metrics.errors == 0
    assert edit.result["text"].startswith("4. ")
    assert [len(api.sent_messages(c)) for c in (4001, 4002, 4003)] == [1, 1, 1]
    assert_quiet(caplog)
    server.stop()


async def test_redis_refusing_writes_loses_no_answer(fake_api, corpus_dir, clean_env, tmp_path, caplog):
    """Memory full (maxmemory with noeviction; READONLY and MISCONF read alike): Redis still answers reads but
    refuses writes. The replica handles new updates itself meanwhile, keeps new keys and limits locally, and
    uses Redis again as soon as it takes writes."""
    api = fake_api
    caplog.set_level(logging.INFO)
    server = RedisServer(tmp_path / "redis").start()
    settings = Settings(_env_file=None, token=api.token)
    r = aioredis.Redis.from_url(server.url)
    async with replica(api, corpus_dir, tmp_path, server.url) as bot:
        assert await post(bot.url, as_json(update(9201, QUESTION, user_id=4101))) == 200
        await answered(api, 4101, "road maps")
        await r.config_set("maxmemory", 1)  # full: every write is refused from now on
        assert await post(bot.url, as_json(update(9202, BROAD, user_id=4102))) == 200
        first = await answered(api, 4102)
        assert not await in_redis(server.url, settings, 9202)  # handled here, as a single bot would
        api.push_callback_query(more_button(first.result), first.result, user_id=4102)
        assert (await api.wait_for("editMessageText", ok=True)).result["text"].startswith("4. ")

        await r.config_set("maxmemory", 0)
        await wait_until(lambda: link_of(bot).refusing is None)
        assert await post(bot.url, as_json(update(9203, OTHER, user_id=4103))) == 200
        await answered(api, 4103, "tax maneuver")
        assert await in_redis(server.url, settings, 9203)  # through the stream again
        assert bot.application.bot_data["state"].metrics.errors == 0
    await r.aclose()
    server.stop()
    messages = [rec.getMessage() for rec in caplog.records]
    assert sum("refuses writes" in m for m in messages) == 1, messages
    assert sum("accepts writes again" in m for m in messages) == 1
    assert not [rec for rec in caplog.records if rec.levelno >= logging.ERROR]
    assert [len(api.sent_messages(c)) for c in (4101, 4102, 4103)] == [1, 1, 1]


async def test_one_polling_replica_with_redis_works_and_says_how_to_run_several(
    fake_api, corpus_dir, clean_env, tmp_path, caplog
):
    api = fake_api
    caplog.set_level(logging.INFO)
    index = tmp_path / "index"
    index_ahead(corpus_dir, index_dir=index)
    settings = Settings(_env_file=None, token=api.token)
    server = RedisServer(tmp_path / "redis").start()  # its own: the bot's keys are those of every fake bot
    async with running_bot(api, corpus_dir, index_dir=index, redis_url=server.url) as bot:
        api.push_message(BROAD, user_id=4201)
        first = await answered(api, 4201)
        key = more_button(first.result).split(":")[1]
        r = aioredis.Redis.from_url(server.url)
        assert await r.get(f"{namespace_for(settings)}:q:{key}") == BROAD.encode()  # the "More" key is shared
        await r.aclose()
        assert bot.application.bot_data["state"].metrics.errors == 0
    server.stop()
    warned = [rec.getMessage() for rec in caplog.records if "without BOT_WEBHOOK_URL" in rec.getMessage()]
    assert len(warned) == 1 and "409 Conflict" in warned[0]
