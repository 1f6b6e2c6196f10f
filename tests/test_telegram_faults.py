"""Faults, one process: the real Application over real HTTP against a fake Bot API that misbehaves.

Each test reproduces a case from issue 9 ("Why"): a slow or rate-limited chat, 5xx / resets /
timeouts / 429s, a reply that is slow, an answer that cannot be delivered at all. What is asserted
is what users see: every question answered exactly once, in order within a chat, nobody waiting
for someone else's trouble, and nothing the user wrote in the logs.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

import pytest

from tests.conftest import ADMIN_ID, index_ahead, running_bot, wait_until

QUESTION = "who approved the road maps?"
OTHER = "what did Syamashka say about the tax maneuver?"
SORRY = "something went wrong"


@contextlib.asynccontextmanager
async def quick_bot(api, prebuilt, **overrides):
    """A bot on the prebuilt sample corpus (its index already on disk: starts at once)."""
    corpus, index = prebuilt
    async with running_bot(api, corpus, index_dir=index, **overrides) as bot:
        yield bot


def to_chat(chat_id: int):
    return lambda params: params.get("chat_id") == chat_id


def answers(api, chat_id: int) -> list[str]:
    return api.sent_messages(chat_id)


def assert_no_user_text(caplog, *texts: str) -> None:
    """No log record (message, arguments or traceback) holds what users wrote."""
    for record in caplog.records:
        blob = record.getMessage() + (record.exc_text or "") + str(record.args or "")
        for text in texts:
            assert text not in blob, f"user text logged by {record.name}: {blob[:300]}"


# --- one slow chat delays nobody else ---------------------------------------------------------------


async def test_429_in_one_chat_does_not_delay_another(fake_api, prebuilt_corpus, clean_env, caplog):
    api = fake_api
    caplog.set_level(logging.INFO)
    async with quick_bot(api, prebuilt_corpus):
        api.fail_next("sendMessage", code=429, retry_after=1.5, chat_id=501)
        api.push_message(QUESTION, user_id=501)
        limited = await api.wait_for("sendMessage", to_chat(501), ok=False)
        api.push_message(OTHER, user_id=502)  # asked after the 429...
        other = await api.wait_for("sendMessage", to_chat(502), ok=True)
        first = await api.wait_for("sendMessage", to_chat(501), ok=True, timeout=15)
    assert other.time < first.started  # ...answered while the limited chat still waits
    assert first.started - limited.time >= 1.4  # and that chat waited what Telegram asked
    assert "road maps" in first.result["text"] and "tax maneuver" in other.result["text"]
    assert len(answers(api, 501)) == 1 and len(answers(api, 502)) == 1
    assert_no_user_text(caplog, QUESTION, OTHER)


async def test_slow_sends_to_different_users_overlap(fake_api, prebuilt_corpus, clean_env):
    api = fake_api
    users = [601, 602, 603, 604]
    async with quick_bot(api, prebuilt_corpus):
        api.delay_next("sendMessage", 1.0, times=len(users))
        for user in users:
            api.push_message(QUESTION, user_id=user)
        for user in users:
            await api.wait_for("sendMessage", to_chat(user), ok=True, timeout=15)
    assert api.max_in_flight["sendMessage"] == len(users)  # all four at the Bot API at once
    assert all(len(answers(api, u)) == 1 for u in users)


async def test_one_chat_is_answered_in_order(fake_api, prebuilt_corpus, clean_env):
    api = fake_api
    async with quick_bot(api, prebuilt_corpus):
        api.delay_next("sendMessage", 0.7, chat_id=701)  # the first reply is slow...
        for text in ("/start", "/help", QUESTION, "/sources"):
            if text.startswith("/"):
                api.push_command(text, user_id=701)
            else:
                api.push_message(text, user_id=701)
        api.push_message(OTHER, user_id=702)
        other = await api.wait_for("sendMessage", to_chat(702), ok=True)
        replies = [await api.wait_for("sendMessage", to_chat(701), ok=True) for _ in range(4)]
    texts = [r.result["text"] for r in replies]
    assert "Try asking" in texts[0] and "How to ask" in texts[1]  # ...yet the order holds
    assert texts[2].startswith("1. ") and "road maps" in texts[2] and "Articles" in texts[3]
    assert other.time < replies[0].time  # while another chat went ahead


# --- transient failures are retried ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "fault",
    [
        dict(code=500),
        dict(code=502, body="<html><body><h1>502 Bad Gateway</h1></body></html>"),
        dict(code=503, times=3),
        "reset",
        dict(code=429, retry_after=0.3, times=5),  # more 429s than PTB's 3 retries
    ],
    ids=["500", "502-html", "503x3", "reset", "429x5"],
)
async def test_transient_send_failures_still_deliver_once(fake_api, prebuilt_corpus, clean_env, fault):
    api = fake_api
    async with quick_bot(api, prebuilt_corpus) as bot:
        if fault == "reset":
            api.reset_next("sendMessage", times=2)
        else:
            api.fail_next("sendMessage", **fault)
        api.push_message(QUESTION, user_id=801)
        call = await api.wait_for("sendMessage", ok=True)
        await wait_until(lambda: bot.application.bot_data["state"].metrics.questions == 1)  # handled: no more sends
    assert "road maps" in call.result["text"]
    assert answers(api, 801) == [call.result["text"]]  # once, and no "Sorry"
    assert api.calls_of("sendMessage", ok=False)  # the fault did happen


async def test_slow_reply_is_waited_for_not_sent_twice(fake_api, prebuilt_corpus, clean_env):
    """A Bot API reply 6 s late (the message already sent): python-telegram-bot's 5 s default gave up."""
    api = fake_api
    async with quick_bot(api, prebuilt_corpus) as bot:
        metrics = bot.application.bot_data["state"].metrics
        api.delay_next("sendMessage", 6.0, chat_id=901, after=True)
        api.push_message(QUESTION, user_id=901)
        api.push_message(OTHER, user_id=902)
        other = await api.wait_for("sendMessage", to_chat(902), ok=True)
        await wait_until(lambda: metrics.questions == 2)  # the slow reply came back; nothing more to send
    slow = [c for c in api.calls_of("sendMessage") if c.params["chat_id"] == 901]
    assert len(slow) == 1 and slow[0].ok  # sent once, never re-sent
    assert other.time < slow[0].time + 6  # the other user did not wait for it


async def test_reply_slower_than_the_timeout_is_retried_once(fake_api, prebuilt_corpus, clean_env):
    """The request timed out before Telegram acted on it: sent again, delivered exactly once."""
    api = fake_api
    async with quick_bot(api, prebuilt_corpus, api_timeout=1):
        api.delay_next("sendMessage", 2.5, chat_id=1101)  # stuck before it is carried out
        api.push_message(QUESTION, user_id=1101)
        call = await api.wait_for("sendMessage", ok=True)
        await wait_until(lambda: api.in_flight("sendMessage") == 0)  # the stuck first request is over too
    assert answers(api, 1101) == [call.result["text"]]
    assert len(api.calls_of("sendMessage")) == 1  # given up by the bot, it was never carried out


async def test_inline_answers_and_uploads_survive_server_errors(fake_api, corpus_dir, clean_env):
    api = fake_api
    index_ahead(corpus_dir)
    async with running_bot(api, corpus_dir):
        api.fail_next("answerInlineQuery", code=500)
        api.push_inline_query("road maps")
        inline = await api.wait_for("answerInlineQuery", ok=True, timeout=15)
        assert inline.params["results"]

        api.fail_next("getFile", code=500)
        api.fail_next("file", code=502)  # the download itself
        api.push_document("harbour.txt", b"Title: Harbour\n\nThe harbour will get two new cranes.\n", user_id=ADMIN_ID)
        done = await api.wait_for("sendMessage", ok=True, timeout=20)
    assert "Saved as harbour.txt" in done.result["text"]
    assert [c.status for c in api.calls_of("answerInlineQuery")] == [500, 200]
    assert [c.status for c in api.calls_of("getFile")] == [500, 200]


async def test_answer_finally_lost_is_logged_once_without_text(fake_api, prebuilt_corpus, clean_env, caplog):
    api = fake_api
    caplog.set_level(logging.INFO)
    async with quick_bot(api, prebuilt_corpus, send_retry_seconds=1.5) as bot:
        api.fail_next("sendMessage", code=500, times=1000, chat_id=1201)
        api.push_message(QUESTION, user_id=1201)
        await wait_until(lambda: bot.application.bot_data["state"].metrics.lost == 1)  # lost, and reported
        attempts = api.calls_of("sendMessage")
        api.clear_failures()
        api.push_message(OTHER, user_id=1201)  # the chat is served again afterwards
        later = await api.wait_for("sendMessage", ok=True)
        assert bot.application.bot_data["state"].metrics.lost == 1
    lost = [r.getMessage() for r in caplog.records if "lost" in r.getMessage()]
    assert len(lost) == 1 and "1201" in lost[0] and "sendMessage" in lost[0]
    assert len(attempts) >= 3 and all("road maps" in c.params["text"] for c in attempts)  # no "Sorry" tried
    assert "tax maneuver" in later.result["text"]
    assert_no_user_text(caplog, QUESTION, OTHER, "road maps")


# --- an update python-telegram-bot cannot read ------------------------------------------------------------


def raw_message(user_id: int, **content) -> dict:
    user = {"id": user_id, "is_bot": False, "first_name": "Poll", "username": "poller"}
    chat = {"id": user_id, "type": "private", "first_name": "Poll", "username": "poller"}
    return {"message": {"message_id": 77, "date": 1700000000, "chat": chat, "from": user, **content}}


SECRET = "Sekrit poll about Zanzibar"
POISON = {
    # a poll as older self-hosted Bot API servers send it: options without persistent_id
    "poll-without-persistent-id": dict(
        poll={
            "id": "5001",
            "question": SECRET,
            "options": [{"text": f"{SECRET} yes", "voter_count": 0}],
            "total_voter_count": 0,
            "is_closed": False,
            "is_anonymous": True,
            "type": "regular",
            "allows_multiple_answers": False,
        }
    ),
    "date-not-a-number": dict(date=f"{SECRET} o'clock", text=SECRET),
    "chat-is-a-string": dict(chat=SECRET, text=SECRET),
}


@pytest.mark.parametrize("last", [True, False], ids=["poison-last-in-batch", "poison-first"])
async def test_unreadable_updates_are_skipped_and_the_next_answered(fake_api, prebuilt_corpus, clean_env, caplog, last):
    api = fake_api
    caplog.set_level(logging.INFO)
    async with quick_bot(api, prebuilt_corpus) as bot:
        poisoned = [api.push_update(raw_message(1301, **content)) for content in POISON.values()]
        if last:  # alone in its batch: polling must still move past it
            await wait_until(lambda: not api.pending_updates())
        api.push_message(QUESTION, user_id=1302)
        call = await api.wait_for("sendMessage", ok=True)
        polls = len(api.calls_of("getUpdates"))
        await asyncio.sleep(0.6)  # a window to count polls in (spinning would make hundreds)
        polls = len(api.calls_of("getUpdates")) - polls
        state = bot.application.bot_data["state"]
    assert "road maps" in call.result["text"]
    assert polls <= 3  # long polls (1 s) as usual, no spinning on the same batch
    assert state.metrics.errors == 0
    skipped = [r.getMessage() for r in caplog.records if "skipped update" in r.getMessage()]
    assert sorted(skipped) == sorted(set(skipped)) and len(skipped) == len(POISON)  # each logged once
    assert all(str(u["update_id"]) in " ".join(skipped) for u in poisoned)
    assert not any(r.exc_info or "Traceback" in r.getMessage() for r in caplog.records)
    assert_no_user_text(caplog, SECRET, "Zanzibar")


async def test_user_who_blocked_the_bot_is_not_an_error(fake_api, prebuilt_corpus, clean_env, caplog):
    api = fake_api
    caplog.set_level(logging.INFO)
    api.block_user(1701)
    async with quick_bot(api, prebuilt_corpus) as bot:
        api.push_message(QUESTION, user_id=1701)
        refused = await api.wait_for("sendMessage", ok=False)
        api.push_message(OTHER, user_id=1702)
        await api.wait_for("sendMessage", ok=True)
        state = bot.application.bot_data["state"]
    assert refused.status == 403 and len(api.calls_of("sendMessage", ok=False)) == 1  # no retry, no "Sorry"
    assert state.metrics.errors == 0 and not [r for r in caplog.records if r.levelno >= logging.ERROR]
