"""The bot's handlers for everyone: questions, commands, buttons and inline mode (errors: bot.telegram.errors).

Each handler is `async def handler(update, context) -> None`; `bot.telegram.app` registers them (admin
commands are in bot.telegram.admin). Shared state lives in one `BotState` (bot.telegram.state).
Updates are data from strangers: every shape Telegram can send is handled here, never by the error handler.
"""

from __future__ import annotations

import asyncio
import logging
import time

from telegram import (
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InlineQueryResultArticle,
    InputTextMessageContent,
    Message,
    MessageEntity,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden
from telegram.ext import ContextTypes

from bot.articles import Article
from bot.render import (
    html_answer,
    html_article,
    html_help,
    html_inline_message,
    html_nothing_found,
    html_sources,
    html_welcome,
    plain_snippet,
)
from bot.search import Answer, Engine
from bot.telegram.buttons import (
    MAX_OFFSET,
    FullArticle,
    More,
    SourcesPage,
    answer_keyboard,
    find_article,
    read_button,
    read_inline_offset,
    short,
    sources_data,
)
from bot.telegram.sending import answer_query
from bot.telegram.state import BotState, state_of, state_of_app

__all__ = ["BotState", "state_of", "state_of_app"]  # (also importable from here, as before)

log = logging.getLogger(__name__)

SOURCES_PER_PAGE = 10
INLINE_RESULTS = 10


# --- answering ---------------------------------------------------------------------------------


def _example_questions(engine: Engine, n: int = 2) -> list[str]:
    """Example questions from recent titles: "What about <start of the title>?"."""
    out = []
    for _, a in engine.recent(n):
        if not a.title:
            continue
        head = a.title.replace("?", ":").split(":")[0].strip() or a.title
        words = head.split()
        out.append(f"What about {' '.join(words[:7])}?")
    return out


async def _ask(state: BotState, question: str, offset: int = 0, k: int | None = None) -> Answer:
    """Runs the search off the event loop, on the engine current at the time of asking.

    An Engine never changes and is thread-safe; a reload swaps in a new one for later questions.
    """
    engine = state.engine
    offset = min(max(0, offset), MAX_OFFSET)  # offsets come back from clients in callback data
    return await asyncio.to_thread(engine.ask, question, k or state.settings.results, offset)


async def _render(state: BotState, answer: Answer) -> tuple[str, InlineKeyboardMarkup | None]:
    if not answer.hits:
        if answer.offset > 0:
            return "No further passages match that question.", None
        engine = state.engine
        titles = [a.title for _, a in engine.recent(3) if a.title]
        return html_nothing_found(answer.query, len(engine.articles), titles), None
    key = await state.answers.put(answer.query)
    return html_answer(answer), answer_keyboard(answer, key, state.settings.results)


async def answer_question(update: Update, context: ContextTypes.DEFAULT_TYPE, question: str) -> None:
    """The heart of the bot: a question in, the best passages with attribution out."""
    state = state_of(context)
    message = update.effective_message
    user = update.effective_user
    if message is None:
        return
    question = question.strip()
    if not question:
        await message.reply_text("Ask me something, e.g. <code>/ask who signed the road maps?</code>")
        return
    t0 = time.perf_counter()
    if user is not None:
        allowed, warn, wait = await state.limiter.check(user.id)
        if not allowed:
            log.info("slowing down user %s (%.0f s)", user.id, wait)
            if warn:
                await message.reply_text(
                    f"You're asking faster than I can keep up with — please slow down and try again in "
                    f"{max(1, round(wait))} s."
                )
            return
    answer = await _ask(state, question)
    text, markup = await _render(state, answer)
    await message.reply_text(text, reply_markup=markup)
    state.metrics.record(time.perf_counter() - t0)


async def reply(update: Update, text: str, markup: InlineKeyboardMarkup | None = None) -> None:
    """Answer the update's message (in its chat, and its topic in a forum)."""
    if update.effective_message is not None:
        await update.effective_message.reply_text(text, reply_markup=markup)


async def on_private_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """In a private chat every text message is a question."""
    message = update.effective_message
    if message is None or (message.via_bot and message.via_bot.id == context.bot.id):
        return  # a passage the user just posted through inline mode, not a question
    await answer_question(update, context, message.text or "")


async def on_group_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """In groups: only messages that mention the bot or reply to it; other chatter is ignored."""
    message = update.effective_message
    if message is None or (message.via_bot and message.via_bot.id == context.bot.id):
        return
    question = addressed_question(message, context.bot.id, context.bot.username or "")
    if question is None:
        return
    await answer_question(update, context, question)


def addressed_question(message: Message, bot_id: int, username: str) -> str | None:
    """The question if the message is meant for the bot (mention or reply to it), else None.

    Entity offsets count UTF-16 units and may point anywhere, even inside an emoji's surrogate pair:
    they are cut from the text's UTF-16 units and decoded leniently (python-telegram-bot's
    parse_entities raises on such a split).
    """
    text = message.text or ""
    units = text.encode("utf-16-le")
    size = len(units) // 2
    mention = f"@{username}".lower() if username else None
    cut: list[tuple[int, int]] = []
    for entity in message.entities or ():
        start = min(max(0, entity.offset), size)
        end = min(max(start, entity.offset + entity.length), size)
        value = units[2 * start : 2 * end].decode("utf-16-le", errors="ignore")
        if (entity.type == MessageEntity.MENTION and mention and value.lower() == mention) or (
            entity.type == MessageEntity.TEXT_MENTION and entity.user and entity.user.id == bot_id
        ):
            cut.append((start, end))
    replied = message.reply_to_message
    is_reply = bool(replied and replied.from_user and replied.from_user.id == bot_id)
    if not cut and not is_reply:
        return None
    for s, e in sorted(cut, reverse=True):
        units = units[: 2 * s] + units[2 * e :]
    return " ".join(units.decode("utf-16-le", errors="ignore").split())


async def cmd_ask(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/ask question: the way to ask in a group."""
    await answer_question(update, context, " ".join(context.args or []))


async def cmd_start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/start: what the bot knows, a few recent titles, example questions."""
    engine = state_of(context).engine
    recent = [a for _, a in engine.recent(3)]
    text = html_welcome(
        len(engine.articles), len(engine.passages), recent, _example_questions(engine), context.bot.username or ""
    )
    await reply(update, text)


async def cmd_help(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    user = update.effective_user
    admin = state_of(context).is_admin(user.id if user else None)
    await reply(update, html_help(context.bot.username or "", admin))


def _sources_page(engine: Engine, page: int) -> tuple[str, InlineKeyboardMarkup | None]:
    total = len(engine.articles)
    pages = max(1, -(-total // SOURCES_PER_PAGE))
    page = min(max(0, page), pages - 1)
    start = page * SOURCES_PER_PAGE
    entries = [(i + 1, a) for i, a in enumerate(engine.articles)][start : start + SOURCES_PER_PAGE]
    nav = []
    if page > 0:
        nav.append(InlineKeyboardButton("‹ Back", callback_data=sources_data(page - 1)))
    if page + 1 < pages:
        nav.append(InlineKeyboardButton("More ›", callback_data=sources_data(page + 1)))
    return html_sources(entries, page, pages, total), InlineKeyboardMarkup([nav]) if nav else None


async def cmd_sources(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/sources: the articles in the corpus, paged, with links."""
    text, markup = _sources_page(state_of(context).engine, 0)
    await reply(update, text, markup)


async def on_non_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Photos, stickers, voice...: a one-line hint rather than silence."""
    await reply(update, "I only read text — send your question as a message (or see /help).")


# --- buttons -------------------------------------------------------------------------------------


async def on_callback(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Buttons under answers and /sources, also on messages posted through inline mode (no `message`)."""
    query = update.callback_query
    if query is None:
        return
    state = state_of(context)
    button = read_button(query.data)
    if isinstance(button, More):
        question = await state.answers.get(button.key)
        if question is None:
            await answer_query(query, "This answer has expired — please ask again.", show_alert=True)
            return
        await answer_query(query)
        answer = await _ask(state, question, button.offset)
        text, markup = await _render(state, answer)
        await edit_for(query, text, markup)
    elif isinstance(button, FullArticle):
        found = find_article(state.engine, button.no, button.tag)
        if found is None:
            await answer_query(query, "That article is no longer in the corpus.", show_alert=True)
            return
        await _send_article(query, context, found[1])
    elif isinstance(button, SourcesPage):
        await answer_query(query)
        text, markup = _sources_page(state.engine, button.page)
        await edit_for(query, text, markup)
    elif query.data:
        await answer_query(query, "This button no longer works — please ask again.")
    else:
        await answer_query(query)


async def _send_article(query: CallbackQuery, context: ContextTypes.DEFAULT_TYPE, article: Article) -> None:
    """The whole article, as messages in the button's chat, or, for an inline message (whose chat the
    bot may not be in), in the user's private chat with the bot."""
    parts = html_article(article)
    if query.message is not None:
        await answer_query(query)
        for part in parts:
            await context.bot.send_message(query.message.chat.id, part)
        return
    try:
        await context.bot.send_message(query.from_user.id, parts[0])
    except (Forbidden, BadRequest):  # the user never started a chat with the bot
        name = f" @{context.bot.username}" if context.bot.username else ""
        await answer_query(query, f"Start a chat with me{name} first, then press the button again.", show_alert=True)
        return
    await answer_query(query, "Sent to our private chat.")
    for part in parts[1:]:
        await context.bot.send_message(query.from_user.id, part)


async def edit_for(query: CallbackQuery, text: str, markup: InlineKeyboardMarkup | None) -> None:
    """Show `text` where the button was: edit its message (also one posted through inline mode)."""
    if query.message is None:
        if query.inline_message_id:
            await _unless_unchanged(query.edit_message_text(text, reply_markup=markup))
        return
    await edit_message(query.message, text, markup)


_GONE = ("message to edit not found", "message can't be edited")


async def edit_message(message: object, text: str, markup: InlineKeyboardMarkup | None) -> None:
    """Edit a message in place; one too old to see (date 0), deleted or no longer editable gets a new one."""
    if message is None:
        return
    if isinstance(message, Message) and message.is_accessible:  # PTB gives date-0 messages as Message too
        try:
            await _unless_unchanged(message.edit_text(text, reply_markup=markup))
            return
        except BadRequest as e:
            if not any(gone in str(e).lower() for gone in _GONE):
                raise
    await message.get_bot().send_message(message.chat.id, text, reply_markup=markup)  # type: ignore[attr-defined]


async def _unless_unchanged(edit) -> None:
    try:
        await edit
    except BadRequest as e:
        if "not modified" not in str(e).lower():
            raise


# --- inline mode ---------------------------------------------------------------------------------


async def on_inline_query(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """@bot question in any chat: matching passages; choosing one posts it with attribution."""
    query = update.inline_query
    if query is None:
        return
    state = state_of(context)
    text = " ".join(query.query.split())
    offset = read_inline_offset(query.offset)
    if not text or offset is None:  # nothing asked, or a page we never offered
        await answer_query(query, [], cache_time=300 if not text else 60)
        return
    answer = await _ask(state, text, offset, INLINE_RESULTS)
    results = [
        InlineQueryResultArticle(
            id=f"{h.passage.article}.{h.passage.index}",
            title=short(h.article.title or "(untitled)", 100),
            description=plain_snippet(h),
            input_message_content=InputTextMessageContent(html_inline_message(h), parse_mode=ParseMode.HTML),
            url=h.article.url if h.article.url and h.article.url.startswith(("http://", "https://")) else None,
        )
        for h in answer.hits
    ]
    next_offset = str(offset + INLINE_RESULTS) if answer.more and offset + INLINE_RESULTS <= MAX_OFFSET else ""
    await answer_query(query, results, cache_time=60, next_offset=next_offset)
