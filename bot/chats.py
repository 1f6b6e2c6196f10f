"""Which conversation a Telegram update belongs to, and which chats are groups (no Telegram import).

Updates of one conversation are handled one after another, in the order they came: a chat's, or for
inline queries (typed in any chat, answered to the user alone) the user's. One rule serves both the
single process (python-telegram-bot's parsed `Update`, bot.telegram.updates) and the replicas' update
stream, which reads the raw JSON before anything parses it (bot.replicas.stream); a test holds the two
readings equal.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# Kinds answered to their user wherever they were typed: ordered per user, not per chat.
PER_USER_KINDS = frozenset({"inline_query", "chosen_inline_result"})


def order_key(kind: str, chat_id: object, user_id: object) -> str:
    """ "c<chat id>", "u<user id>", or "" (no order to keep) for an update of `kind` from that chat and user."""
    if kind not in PER_USER_KINDS and _is_id(chat_id):
        return f"c{chat_id}"
    if _is_id(user_id):
        return f"u{user_id}"
    return ""


def raw_order_key(update: Mapping[str, Any]) -> str:
    """`order_key` of an update as Telegram sends it (JSON); "" for anything it cannot tell."""
    for kind, body in update.items():
        if kind == "update_id" or not isinstance(body, Mapping):
            continue
        message = body.get("message")
        chat = body.get("chat") or (message.get("chat") if isinstance(message, Mapping) else None)
        user = body.get("from") or body.get("user")
        chat_id = chat.get("id") if isinstance(chat, Mapping) else None
        user_id = user.get("id") if isinstance(user, Mapping) else None
        return order_key(kind, chat_id, user_id)
    return ""


def is_group(chat_id: int | str) -> bool:
    """Groups and channels have negative ids (or @usernames); private chats positive ones."""
    if isinstance(chat_id, str):
        try:
            chat_id = int(chat_id)
        except ValueError:
            return True  # "@channelusername"
    return chat_id < 0


def _is_id(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
