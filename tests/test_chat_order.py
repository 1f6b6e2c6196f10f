"""One rule for which updates keep their order (bot.chats): the raw JSON the replicas' stream reads and
python-telegram-bot's parsed Update the single process reads give the same key, for every kind."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from telegram import Update

from bot.chats import is_group, order_key, raw_order_key
from bot.telegram.updates import ordering_key

USER = {"id": 7, "is_bot": False, "first_name": "U"}
PRIVATE = {"id": 7, "type": "private", "first_name": "U"}
GROUP = {"id": -100123, "type": "supergroup", "title": "G"}


def message(chat: dict, **extra) -> dict:
    return {"message_id": 3, "date": 1700000000, "chat": chat, "from": USER, "text": "hi", **extra}


KINDS = {
    "message": ({"message": message(PRIVATE)}, "c7"),
    "group message": ({"message": message(GROUP)}, "c-100123"),
    "edited": ({"edited_message": message(GROUP, edit_date=1700000001)}, "c-100123"),
    "channel post": (
        {"channel_post": {"message_id": 1, "date": 1, "chat": {"id": -1005, "type": "channel"}}},
        "c-1005",
    ),
    "button": (
        {"callback_query": {"id": "q", "from": USER, "chat_instance": "i", "data": "s:1", "message": message(GROUP)}},
        "c-100123",
    ),
    "inline button": (
        {"callback_query": {"id": "q", "from": USER, "chat_instance": "i", "data": "s:1", "inline_message_id": "AgAA"}},
        "u7",
    ),
    "inline query": ({"inline_query": {"id": "q", "from": USER, "query": "x", "offset": ""}}, "u7"),
    "chosen inline": ({"chosen_inline_result": {"result_id": "r", "from": USER, "query": "x"}}, "u7"),
    "member": (
        {
            "my_chat_member": {
                "chat": GROUP,
                "from": USER,
                "date": 1,
                "old_chat_member": {"status": "left", "user": USER},
                "new_chat_member": {"status": "member", "user": USER},
            }
        },
        "c-100123",
    ),
    "poll answer": (
        {"poll_answer": {"poll_id": "p", "user": USER, "option_ids": [0], "option_persistent_ids": ["a"]}},
        "u7",
    ),
}


@pytest.mark.parametrize("kind", KINDS)
def test_raw_and_parsed_updates_get_the_same_key(kind):
    body, key = KINDS[kind]
    raw = {"update_id": 1, **body}
    assert raw_order_key(raw) == key
    assert ordering_key(Update.de_json(raw, None)) == key


def test_odd_shapes_have_no_key_rather_than_an_error():
    assert raw_order_key({"update_id": 1}) == ""
    assert raw_order_key({"update_id": 1, "poll": {"id": "p", "question": "q?"}}) == ""  # no chat, no user
    assert raw_order_key({"update_id": 1, "message": "odd"}) == ""
    assert raw_order_key({"update_id": 1, "message": {"chat": {"id": "7"}}}) == ""
    assert raw_order_key({"update_id": 1, "message": {"chat": {"id": True}, "from": {"id": 3}}}) == "u3"
    assert ordering_key("not an update") == ""
    assert order_key("message", None, None) == ""


@settings(max_examples=200, deadline=None)
@given(
    st.recursive(
        st.none() | st.integers() | st.text(max_size=5),
        lambda inner: st.dictionaries(
            st.sampled_from(["message", "chat", "id", "from", "user", "callback_query", "inline_query"]),
            inner,
            max_size=4,
        ),
        max_leaves=12,
    )
)
def test_any_json_gives_a_key_or_nothing(data):
    update = {"update_id": 1, **data} if isinstance(data, dict) else {"update_id": 1, "message": data}
    key = raw_order_key(update)
    assert key == "" or (key[0] in "cu" and key[1:].lstrip("-").isdigit())


def test_groups_are_negative_ids_or_usernames():
    assert is_group(-100123) and is_group("-5") and is_group("@channel")
    assert not is_group(7) and not is_group("7")
