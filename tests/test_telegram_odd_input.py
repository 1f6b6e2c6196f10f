"""Odd but legal input never reaches the error handler.

Callback data and inline offsets come back from clients and are read strictly (ASCII digits, bounded);
buttons pressed on messages posted through inline mode (no `message`, only `inline_message_id`) work for
every kind; entities may start anywhere, even inside an emoji. Unit checks, end-to-end checks with the
real Application, and hypothesis fuzzing of whole updates through it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from telegram import Message, Update

from bot.telegram.buttons import (
    MAX_OFFSET,
    FullArticle,
    More,
    SourcesPage,
    read_button,
    read_inline_offset,
)
from bot.telegram.handlers import addressed_question
from tests.conftest import running_bot

BROAD = "Belarus Russia"  # more than one page of passages in the sample
BOT_ID, BOT_NAME = 123456789, "corpus_test_bot"


@contextlib.asynccontextmanager
async def quick_bot(api, prebuilt, **overrides):
    corpus, index = prebuilt
    async with running_bot(api, corpus, index_dir=index, **overrides) as bot:
        yield bot


def buttons(markup: dict | None) -> list[dict]:
    return [b for row in (markup or {}).get("inline_keyboard", []) for b in row]


# --- strict reading ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "data, button",
    [
        ("m:1a2b3c4d5e6f:3", More("1a2b3c4d5e6f", 3)),
        ("a:0:021dc6", FullArticle(0, "021dc6")),
        ("s:12", SourcesPage(12)),
        ("m:1a2b3c4d5e6f:²", None),  # "²".isdigit() is True, int("²") raises
        ("m:1a2b3c4d5e6f:٣", None),  # Arabic-Indic three
        ("s:１", None),  # fullwidth one
        ("a:²:021dc6", None),
        ("s:" + "9" * 60, None),
        (f"m:1a2b3c4d5e6f:{MAX_OFFSET + 1}", None),
        ("m:1A2B:3", None),
        ("m::3", None),
        ("s:-1", None),
        ("s: 1", None),
        ("s:1\n", None),
        ("x:1", None),
        ("", None),
        (None, None),
    ],
)
def test_callback_data_is_read_strictly(data, button):
    assert read_button(data) == button


@pytest.mark.parametrize(
    "offset, page",
    [
        ("", 0),
        ("10", 10),
        (str(MAX_OFFSET), MAX_OFFSET),
        ("²", None),
        ("9" * 5000, None),
        ("-10", None),
        (" 10", None),
        ("10\n", None),
        ("1e3", None),
        (str(MAX_OFFSET + 1), None),
    ],
)
def test_inline_offsets_are_read_strictly(offset, page):
    assert read_inline_offset(offset) == page


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=70) | st.builds(lambda k, t: f"{k}:{t}", st.sampled_from("mas"), st.text(max_size=40)))
def test_any_callback_data_reads_as_a_button_or_none(data):
    button = read_button(data)
    if isinstance(button, More):
        assert data == f"m:{button.key}:{button.offset}" and 0 <= button.offset <= MAX_OFFSET
    elif isinstance(button, FullArticle):
        assert data == f"a:{button.no}:{button.tag}"
    elif isinstance(button, SourcesPage):
        assert data == f"s:{button.page}"


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=80) | st.integers(-10, 10**6).map(str))
def test_any_inline_offset_reads_as_a_page_or_none(offset):
    page = read_inline_offset(offset)
    assert page is None or (0 <= page <= MAX_OFFSET and (offset == "" or offset == str(page)))


# --- entities anywhere ---------------------------------------------------------------------------------------


def group_message(text: str, entities: list[dict]) -> Message:
    return Message.de_json(
        {
            "message_id": 1,
            "date": 1700000000,
            "text": text,
            "entities": entities,
            "chat": {"id": -100, "type": "group", "title": "G"},
            "from": {"id": 5, "is_bot": False, "first_name": "U"},
        },
        None,
    )


def test_mention_starting_inside_an_emoji_is_cut_cleanly():
    text = "👍@corpus_test_bot who approved the road maps?"
    message = group_message(text, [{"type": "mention", "offset": 1, "length": 17}])  # starts mid-emoji
    assert addressed_question(message, BOT_ID, BOT_NAME) == "who approved the road maps?"
    exact = group_message(text, [{"type": "mention", "offset": 2, "length": 16}])
    assert addressed_question(exact, BOT_ID, BOT_NAME) == "👍 who approved the road maps?"


emoji_text = st.lists(
    st.sampled_from(
        ["a", " ", "@", "é", "👍", "🇧🇾", "𝒳", "\u200d", "corpus_test_bot", "@corpus_test_bot", "road maps"]
    ),
    max_size=12,
).map("".join)


@settings(max_examples=300, deadline=None)
@given(
    emoji_text,
    st.lists(
        st.fixed_dictionaries(
            {
                "type": st.sampled_from(["mention", "text_mention", "bold", "bot_command"]),
                "offset": st.integers(-3, 60),
                "length": st.integers(0, 60),
            }
        ),
        max_size=4,
    ),
)
def test_entities_at_any_utf16_offset_never_raise(text, entities):
    for e in entities:
        if e["type"] == "text_mention":
            e["user"] = {"id": BOT_ID, "is_bot": True, "first_name": "B"}
    question = addressed_question(group_message(text, entities), BOT_ID, BOT_NAME)
    assert question is None or isinstance(question, str)


# --- end to end ------------------------------------------------------------------------------------------------


async def test_buttons_on_inline_messages_work_for_every_kind(fake_api, prebuilt_corpus, clean_env):
    api = fake_api
    async with quick_bot(api, prebuilt_corpus) as bot:
        api.push_message(BROAD, user_id=1401)
        first = await api.wait_for("sendMessage", ok=True)
        data = {b["text"]: b["callback_data"] for b in buttons(first.result["reply_markup"])}
        more = data["More ›"]
        full = next(v for k, v in data.items() if k.startswith("📄"))

        for button in (more, "s:0"):  # the message to change is identified by inline_message_id only
            api.push_callback_query(button, user_id=1401, inline_message_id="AgAAAInline")
            edit = await api.wait_for("editMessageText", ok=True)
            assert edit.params["inline_message_id"] == "AgAAAInline" and "chat_id" not in edit.params
        api.push_callback_query(full, user_id=1401, inline_message_id="AgAAAInline")
        answered = await api.wait_for("answerCallbackQuery", lambda p: p.get("text") == "Sent to our private chat.")
        article = await api.wait_for("sendMessage", lambda p: p["chat_id"] == 1401, ok=True)
        assert "Integration road maps" in article.result["text"] and answered.ok

        api.block_user(1402)  # never started the bot: the article cannot be sent, the button says so
        api.push_callback_query(full, user_id=1402, inline_message_id="AgAAAInline2")
        refused = await api.wait_for("answerCallbackQuery", lambda p: p.get("show_alert"))
        assert "Start a chat with me @corpus_test_bot" in refused.params["text"]
        assert bot.application.bot_data["state"].metrics.errors == 0


async def test_odd_callback_data_and_offsets_are_refused_politely(fake_api, prebuilt_corpus, clean_env, caplog):
    api = fake_api
    caplog.set_level(logging.WARNING)
    async with quick_bot(api, prebuilt_corpus) as bot:
        odd = ["m:ffffffffffff:²", "a:²:021dc6", "s:" + "9" * 60, "s:１", "x:1", "m:zz:1"]
        for data in odd:
            api.push_callback_query(data, user_id=1501)
        for _ in odd:
            call = await api.wait_for("answerCallbackQuery", ok=True)
            assert "no longer works" in call.params["text"]
        for offset in ("²", "9" * 5000, "-10"):
            api.push_inline_query("road maps", offset=offset, user_id=1501)
            call = await api.wait_for("answerInlineQuery", ok=True)
            assert call.params["results"] == [] and not call.params.get("next_offset")
        api.push_message(
            "👍@corpus_test_bot who approved the road maps?",
            chat_type="group",
            entities=[{"type": "mention", "offset": 1, "length": 17}],
        )
        call = await api.wait_for("sendMessage", ok=True)
        assert "road maps" in call.result["text"]
        assert bot.application.bot_data["state"].metrics.errors == 0
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


# --- fuzzing whole updates through the real Application -----------------------------------------------------------

odd_data = st.one_of(
    st.text(max_size=64).filter(lambda s: len(s.encode()) <= 64),
    st.builds(
        lambda k, a, b: f"{k}:{a}:{b}",
        st.sampled_from("mas"),
        st.text("0123456789abcdef²٣-", max_size=12),
        st.text("0123456789abcdef²", max_size=12),
    ),
)
messages = st.fixed_dictionaries(
    {
        "kind": st.just("message"),
        "text": emoji_text.filter(bool)
        | st.sampled_from(
            ["/start", "/help", "/ask", "/ask road maps", "/sources", "/stats", "/reload", "/start@corpus_test_bot x"]
        ),
        "chat_type": st.sampled_from(["private", "group", "supergroup"]),
        "entities": st.lists(
            st.fixed_dictionaries(
                {
                    "type": st.sampled_from(["mention", "bold", "url"]),
                    "offset": st.integers(0, 20),
                    "length": st.integers(1, 20),
                }
            ),
            max_size=3,
        ),
        "reply_to_bot": st.booleans(),
    }
)
callbacks = st.fixed_dictionaries({"kind": st.just("callback"), "data": odd_data | st.none(), "inline": st.booleans()})
inline_queries = st.fixed_dictionaries(
    {"kind": st.just("inline"), "query": st.text(max_size=40), "offset": st.text("0123456789²-", max_size=8)}
)


async def test_fuzzed_updates_never_reach_the_error_handler(fake_api, prebuilt_corpus, clean_env, caplog):
    api = fake_api
    caplog.set_level(logging.ERROR)
    async with quick_bot(api, prebuilt_corpus) as bot:
        application = bot.application
        loop = asyncio.get_running_loop()
        api.push_message(BROAD, user_id=1601)
        first = await api.wait_for("sendMessage", ok=True)  # a real bot message to reply to / press on

        def build(example: dict) -> dict:
            if example["kind"] == "message":
                reply = first.result if example["reply_to_bot"] else None
                chat_id = 1601 if example["chat_type"] == "private" else None
                return api.push_message(
                    example["text"],
                    user_id=1601,
                    chat_id=chat_id,
                    chat_type=example["chat_type"],
                    entities=example["entities"] or None,
                    reply_to_message=reply,
                    enqueue=False,
                )
            if example["kind"] == "callback":
                if example["inline"]:
                    return api.push_callback_query(
                        example["data"], user_id=1601, inline_message_id="AgAAAFuzz", enqueue=False
                    )
                return api.push_callback_query(example["data"], first.result, user_id=1601, enqueue=False)
            return api.push_inline_query(example["query"], offset=example["offset"], user_id=1601, enqueue=False)

        @settings(max_examples=80, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        @given(st.one_of(messages, callbacks, inline_queries))
        def fuzz(example: dict) -> None:
            update = Update.de_json(build(example), application.bot)
            asyncio.run_coroutine_threadsafe(application.process_update(update), loop).result(120)
            handled.append(example["kind"])

        handled: list[str] = []
        calls = len(api.calls)
        await asyncio.to_thread(fuzz)
        assert application.bot_data["state"].metrics.errors == 0
        assert len(handled) >= 50 and set(handled) == {"message", "callback", "inline"}
        answered = [c.method for c in api.calls[calls:] if c.ok]  # every button press and inline query, once
        assert answered.count("answerCallbackQuery") == handled.count("callback")
        assert answered.count("answerInlineQuery") == handled.count("inline")
    assert not [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
