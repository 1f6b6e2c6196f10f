"""The error handler: what reaches it is logged without anything users wrote, and the user hears "sorry".

Updates of every shape Telegram sends are handled by the handlers themselves; what still fails here is a
bug or a Bot API refusal. An answer given up for lost was logged where it was lost (bot.telegram.sending),
and a user who blocked the bot cannot be told anything.
"""

from __future__ import annotations

import logging
import traceback

from telegram import Update
from telegram.constants import ChatType
from telegram.error import Forbidden, TelegramError
from telegram.ext import ContextTypes

from bot.telegram.sending import SendAbandoned
from bot.telegram.state import state_of

log = logging.getLogger(__name__)


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Log the failure (never the user's text) and tell the user briefly; the bot keeps serving.

    An answer already given up for lost (SendAbandoned) was logged where it was lost, and a user who
    blocked the bot cannot be told anything: neither is reported again.
    """
    try:
        await _report_error(update, context)
    except Exception as e:  # the error handler must never fail: PTB would log the update's data
        log.error("the error handler failed: %s", type(e).__name__)


async def _report_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    error = context.error
    state = state_of(context)
    where = "no update"
    if isinstance(update, Update):
        chat = update.effective_chat
        user = update.effective_user
        kinds = ("message", "callback_query", "inline_query", "edited_message")
        kind = next((k for k in kinds if getattr(update, k)), "update")
        where = f"update {update.update_id} ({kind}, chat {chat.id if chat else '-'}, user {user.id if user else '-'})"
    if isinstance(error, SendAbandoned):
        state.metrics.lost += 1
        return
    if isinstance(error, Forbidden):
        log.info("cannot answer %s: %s", where, error)
        return
    state.metrics.errors += 1
    log.error("error while handling %s: %s\n%s", where, describe_error(error), safe_traceback(error))
    if not isinstance(update, Update):
        return
    try:
        if update.callback_query:
            await update.callback_query.answer("Sorry, something went wrong. Please try again.")
        elif update.effective_message and update.effective_chat and update.effective_chat.type != ChatType.CHANNEL:
            await update.effective_message.reply_text("Sorry, something went wrong while answering. Please try again.")
    except TelegramError as e:  # telling the user failed too: the log above is what we have
        log.warning("could not report the error to the user: %s", type(e).__name__)


def describe_error(error: BaseException | None) -> str:
    """The error's type, plus its text only when it cannot hold user data (Telegram's descriptions)."""
    if error is None:
        return "unknown error"
    name = type(error).__name__
    if isinstance(error, TelegramError):
        return f"{name}: {error}"
    return f"{name} (its message is not logged: it may quote the user)"


def safe_traceback(error: BaseException | None) -> str:
    """Where the error happened (files, lines, our source code), without any exception message."""
    if error is None or error.__traceback__ is None:
        return ""
    return "Traceback (most recent call last):\n" + "".join(traceback.format_tb(error.__traceback__)).rstrip()
