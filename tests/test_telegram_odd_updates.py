"""Updates of every shape Telegram can send (and a few it should not), through the real Application.

Besides the ones the bot asks for (messages, button presses, inline queries), Telegram may deliver edits,
channel posts, messages without a sender user (anonymous group admins, posts forwarded from a linked
channel), forum topics, chat-member changes, buttons on messages too old to edit, games, reactions, and
kinds newer than the library. None of them may reach the error handler, and the questions among them (and
after them) are answered. The webhook also refuses bodies that are JSON but not an update (a list, a
string, a document nested too deep to parse) with a 400, without a traceback.
"""

from __future__ import annotations

import json
import logging
import time

from tests.conftest import running_bot, wait_until
from tests.test_telegram_webhook import post, webhook_bot

QUESTION = "who approved the road maps?"
BOT = "@corpus_test_bot"
ANONYMOUS_ADMIN = 1087968824  # Telegram's GroupAnonymousBot: the `from` of anonymous group admins


def chat(chat_id: int, kind: str, **extra: object) -> dict:
    return {"id": chat_id, "type": kind, **({"title": "Test chat"} if kind != "private" else {}), **extra}


def user(user_id: int, **extra: object) -> dict:
    return {"id": user_id, "is_bot": False, "first_name": "Odd", **extra}


def mention_of(text: str) -> list[dict]:
    return [{"type": "mention", "offset": text.index(BOT), "length": len(BOT)}]


def odd_updates(api, first_answer: dict) -> tuple[list[dict], dict[str, int]]:
    """(raw updates, {what: chat id that must get an answer})."""
    now = int(time.time())
    mention = f"{BOT} {QUESTION}"
    group, supergroup, channel = (
        chat(-4001, "group"),
        chat(-1004002, "supergroup", is_forum=True),
        chat(-1004003, "channel"),
    )
    expect = {"anonymous admin": group["id"], "forum topic": supergroup["id"], "edited /ask": 3601}
    asked = api.push_message("/start", user_id=3601, enqueue=False)["message"]
    raw: list[dict] = [
        {"message": asked},
        api.push_edited_message(3601, asked["message_id"], f"/ask {QUESTION}", enqueue=False),
        api.push_message(f"/ask {QUESTION}", chat_type="channel", chat_id=channel["id"], enqueue=False),
        {"edited_channel_post": {"message_id": 9, "date": now, "edit_date": now, "chat": channel, "text": "/help"}},
        # (raw messages are unknown to the fake API, as if deleted before the answer: it goes out unquoted)
        # an anonymous admin asks in a group: the sender is the group itself
        {
            "message": {
                "message_id": 10,
                "date": now,
                "chat": group,
                "sender_chat": group,
                "text": mention,
                "from": user(ANONYMOUS_ADMIN, username="GroupAnonymousBot", is_bot=True),
                "entities": mention_of(mention),
            }
        },
        # a channel post forwarded into its discussion group: no `from` user at all
        {
            "message": {
                "message_id": 11,
                "date": now,
                "chat": group,
                "sender_chat": channel,
                "text": mention,
                "is_automatic_forward": True,
                "entities": mention_of(mention),
            }
        },
        {
            "message": {
                "message_id": 12,
                "date": now,
                "chat": supergroup,
                "from": user(3602),
                "text": f"/ask {QUESTION}",
                "message_thread_id": 77,
                "is_topic_message": True,
                "entities": [{"type": "bot_command", "offset": 0, "length": 4}],
            }
        },
        {
            "my_chat_member": {
                "chat": group,
                "from": user(3603),
                "date": now,
                "old_chat_member": {"status": "left", "user": api.bot_user},
                "new_chat_member": {"status": "member", "user": api.bot_user},
            }
        },
        {"chat_join_request": {"chat": supergroup, "from": user(3604), "user_chat_id": 3604, "date": now}},
        {
            "message_reaction": {
                "chat": group,
                "message_id": 10,
                "date": now,
                "user": user(3605),
                "old_reaction": [],
                "new_reaction": [{"type": "emoji", "emoji": "👍"}],
            }
        },
        {"poll_answer": {"poll_id": "1", "user": user(3606), "option_ids": [0]}},
        {"some_future_update_kind": {"id": 1, "whatever": [1, 2, {"x": None}]}},
        api.push_callback_query(None, user_id=3607, game_short_name="snake", enqueue=False),
        api.push_callback_query("m:" + "f" * 5000 + ":1", user_id=3607, enqueue=False),
        api.push_callback_query("s:0\u0000" + "x" * 300, user_id=3607, enqueue=False),
        api.push_inline_query("road maps " * 2000, user_id=3608, enqueue=False),
        api.push_inline_query("", offset="1" * 300, user_id=3608, enqueue=False),
    ]
    # buttons pressed on a message too old for the bot to see (InaccessibleMessage: date 0)
    old = {"message_id": 1, "date": 0, "chat": chat(3609, "private", first_name="Old")}
    for data in (first_answer_button(first_answer, "More"), "s:0"):
        cq = {"id": f"old{data}", "from": user(3609), "chat_instance": "1", "data": data, "message": old}
        raw.append({"callback_query": cq})
    expect["button on an old message"] = 3609
    return raw, expect


def first_answer_button(message: dict, label: str) -> str:
    rows = message["reply_markup"]["inline_keyboard"]
    return next(b["callback_data"] for row in rows for b in row if b["text"].startswith(label))


async def test_every_kind_of_update_is_handled_and_the_questions_answered(fake_api, prebuilt_corpus, clean_env, caplog):
    """Posted straight to the webhook, as Telegram would whatever allowed_updates said (the fake's own
    delivery, like getUpdates, leaves out the kinds the bot did not ask for)."""
    api = fake_api
    caplog.set_level(logging.INFO)
    async with webhook_bot(api, prebuilt_corpus) as bot:
        url = bot.url
        state = bot.application.bot_data["state"]
        api.push_message("Belarus Russia", user_id=3600)
        first = (await api.wait_for("sendMessage", ok=True)).result
        raw, expect = odd_updates(api, first)
        for n, update in enumerate(raw):
            update.setdefault("update_id", 900_000 + n)
            assert await post(url, json.dumps(update).encode()) == 200, update
        await wait_until(lambda: all(api.sent_messages(chat_id) for chat_id in expect.values()))
        presses = sum("callback_query" in u for u in raw)
        queries = sum("inline_query" in u for u in raw)
        await wait_until(  # every press and query got its answer
            lambda: (
                (len(api.calls_of("answerCallbackQuery")), len(api.calls_of("answerInlineQuery"))) == (presses, queries)
            )
        )
        api.push_message(QUESTION, user_id=3610)  # and the bot still answers the next one
        last = await api.wait_for("sendMessage", lambda p: p["chat_id"] == 3610, ok=True)
        assert state.metrics.errors == 0
    assert "road maps" in last.result["text"]
    for what in ("anonymous admin", "forum topic", "edited /ask"):
        assert any(text.startswith("1. ") for text in api.sent_messages(expect[what])), what
    assert len(api.sent_messages(3609)) == 2  # the old message's buttons answered with new messages
    topic = next(c for c in api.calls_of("sendMessage", ok=True) if c.params["chat_id"] == -1004002)
    assert topic.params.get("message_thread_id") == 77  # answered in its topic
    assert not api.sent_messages(-1004003)  # nothing posted into the channel
    assert not [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]


async def test_webhook_refuses_json_that_is_not_an_update_without_a_traceback(
    fake_api, prebuilt_corpus, clean_env, caplog
):
    api = fake_api
    caplog.set_level(logging.DEBUG)
    async with webhook_bot(api, prebuilt_corpus) as bot:
        url = bot.url
        deep = b'{"update_id": 5, "message": ' + b"[" * 200_000 + b"]" * 200_000 + b"}"
        for body in (
            b"null",
            b"7",
            b'"text"',
            b"[]",
            b"[" * 100_000 + b"]" * 100_000,
            deep,
            b'{"update_id": 1' + b"0" * 5000 + b"}",
            b'{"update_id": true}',
            b"\xff\xfe{}",
            b'{"update_id": 9, "update_id": "x"}',
        ):
            assert await post(url, body) == 400, body[:40]
        api.push_message(QUESTION, user_id=3701)
        call = await api.wait_for("sendMessage", ok=True)
        assert bot.application.bot_data["state"].metrics.errors == 0
    assert "road maps" in call.result["text"]
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]


async def test_a_button_pressed_too_long_ago_still_does_its_work(fake_api, prebuilt_corpus, clean_env, caplog):
    """Telegram refuses answerCallbackQuery after ~15 s (a slow moment, an update taken over from a dead
    replica): the spinner cannot be stopped any more, but the page still changes."""
    api = fake_api
    caplog.set_level(logging.INFO)
    corpus, index = prebuilt_corpus
    async with running_bot(api, corpus, index_dir=index) as bot:
        api.push_message("Belarus Russia", user_id=3801)
        first = (await api.wait_for("sendMessage", ok=True)).result
        late = api.push_callback_query(first_answer_button(first, "More"), first, user_id=3801, enqueue=False)
        late["callback_query"]["id"] = "expired-query"  # Telegram has forgotten it
        api.push_update(late)
        edit = await api.wait_for("editMessageText", ok=True)
        assert bot.application.bot_data["state"].metrics.errors == 0
    assert edit.result["text"].startswith("4. ")
    assert [c.ok for c in api.calls_of("answerCallbackQuery")] == [False]
    assert any("expired before it was answered" in r.getMessage() for r in caplog.records)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_an_answer_to_a_group_that_became_a_supergroup_goes_to_the_supergroup(
    fake_api, prebuilt_corpus, clean_env, caplog
):
    api = fake_api
    caplog.set_level(logging.INFO)
    corpus, index = prebuilt_corpus
    async with running_bot(api, corpus, index_dir=index) as bot:
        api.fail_next(
            "sendMessage",
            code=400,
            description="Bad Request: group chat was upgraded to a supergroup chat",
            parameters={"migrate_to_chat_id": -1004999},
            chat_id=-4999,
        )
        api.push_command(f"/ask {QUESTION}", chat_id=-4999, user_id=3901, chat_type="group")
        call = await api.wait_for("sendMessage", ok=True)
        assert bot.application.bot_data["state"].metrics.errors == 0
    assert call.params["chat_id"] == -1004999 and "road maps" in call.result["text"]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_a_command_menu_telegram_refuses_does_not_stop_the_bot(fake_api, prebuilt_corpus, clean_env):
    api = fake_api
    api.fail_next("setMyCommands", code=400, description="Bad Request: BOT_COMMAND_SCOPE_INVALID", times=10)
    corpus, index = prebuilt_corpus
    async with running_bot(api, corpus, index_dir=index):
        api.push_message(QUESTION, user_id=3951)
        call = await api.wait_for("sendMessage", ok=True)
    assert "road maps" in call.result["text"]
    assert api.calls_of("setMyCommands") and not api.calls_of("setMyCommands", ok=True)
