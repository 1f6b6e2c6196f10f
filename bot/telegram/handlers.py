"""The bot's handlers: thin glue from Telegram updates to the search core and bot.render.

Each handler is `async def handler(update, context) -> None`; `bot.telegram.app` registers them.
Shared state (settings, library, answer keys, limits, metrics) lives in one `BotState` in bot_data.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
import traceback
from dataclasses import dataclass, field

from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InlineQueryResultArticle,
    InputTextMessageContent,
    Message,
    MessageEntity,
    Update,
)
from telegram.constants import ChatType, ParseMode
from telegram.error import BadRequest, Forbidden, TelegramError
from telegram.ext import ContextTypes

from bot.articles import SUPPORTED_EXTENSIONS, Article, ArticleError, parse_bytes
from bot.render import (
    escape,
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
from bot.service import ReloadSummary
from bot.settings import Settings
from bot.telegram.corpus import CorpusLibrary, html_reload_report
from bot.telegram.guard import Metrics
from bot.telegram.sending import SendAbandoned, with_retries
from bot.telegram.shared import AnswerKeys, Backends, UserLimiter
from bot.telegram.uploads import safe_name, save_upload, upload_refusal

log = logging.getLogger(__name__)

SOURCES_PER_PAGE = 10
INLINE_RESULTS = 10
MAX_OFFSET = 1000  # deepest page served


@dataclass
class BotState:
    """Everything the handlers share, kept in application.bot_data["state"].

    Shared state sits behind the async interfaces of bot.telegram.shared (in memory for one process).
    """

    settings: Settings
    library: CorpusLibrary
    backends: Backends
    metrics: Metrics = field(default_factory=Metrics)

    @property
    def engine(self) -> Engine:
        return self.library.engine

    @property
    def answers(self) -> AnswerKeys:
        return self.backends.answer_keys

    @property
    def limiter(self) -> UserLimiter:
        return self.backends.user_limiter

    def is_admin(self, user_id: int | None) -> bool:
        return user_id is not None and user_id in self.settings.admin_ids


def state_of(context: ContextTypes.DEFAULT_TYPE) -> BotState:
    return context.bot_data["state"]


def state_of_app(application) -> BotState:
    return application.bot_data["state"]


# --- callback data: "m:<key>:<offset>" more results, "a:<article no>:<id hash>" full article,
# --- "s:<page>" sources page. All well under Telegram's 64 bytes.


def _article_tag(a: Article) -> str:
    return hashlib.blake2s(a.id.encode("utf-8"), digest_size=3).hexdigest()


def _find_article(engine: Engine, no: int, tag: str) -> tuple[int, Article] | None:
    """The article a button meant, even if a reload renumbered the corpus since."""
    if 0 <= no < len(engine.articles) and _article_tag(engine.articles[no]) == tag:
        return no, engine.articles[no]
    for i, a in enumerate(engine.articles):
        if _article_tag(a) == tag:
            return i, a
    return None


def answer_keyboard(answer: Answer, key: str, k: int) -> InlineKeyboardMarkup | None:
    rows: list[list[InlineKeyboardButton]] = []
    nav = []
    if answer.offset > 0:
        nav.append(InlineKeyboardButton("‹ Back", callback_data=f"m:{key}:{max(0, answer.offset - k)}"))
    if answer.more and answer.offset + k <= MAX_OFFSET:
        nav.append(InlineKeyboardButton("More ›", callback_data=f"m:{key}:{answer.offset + k}"))
    if nav:
        rows.append(nav)
    seen: dict[int, Article] = {}
    for h in answer.hits:
        seen.setdefault(h.passage.article, h.article)
    for no, a in seen.items():
        label = "📄 Full article" if len(seen) == 1 else "📄 " + _short(a.title or "Full article", 40)
        rows.append([InlineKeyboardButton(label, callback_data=f"a:{no}:{_article_tag(a)}")])
    return InlineKeyboardMarkup(rows) if rows else None


def _short(text: str, n: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - 1].rstrip() + "…"


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


async def on_private_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """In a private chat every text message is a question."""
    message = update.effective_message
    if message.via_bot and message.via_bot.id == context.bot.id:
        return  # a passage the user just posted through inline mode, not a question
    await answer_question(update, context, message.text)


async def on_group_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """In groups: only messages that mention the bot or reply to it; other chatter is ignored."""
    message = update.effective_message
    if message.via_bot and message.via_bot.id == context.bot.id:
        return
    question = addressed_question(message, context.bot.id, context.bot.username or "")
    if question is None:
        return
    await answer_question(update, context, question)


def addressed_question(message: Message, bot_id: int, username: str) -> str | None:
    """The question if the message is meant for the bot (mention or reply to it), else None."""
    text = message.text or ""
    mention = f"@{username}".lower() if username else None
    cut: list[tuple[int, int]] = []
    for entity, value in message.parse_entities([MessageEntity.MENTION, MessageEntity.TEXT_MENTION]).items():
        if (entity.type == MessageEntity.MENTION and mention and value.lower() == mention) or (
            entity.type == MessageEntity.TEXT_MENTION and entity.user and entity.user.id == bot_id
        ):
            cut.append((entity.offset, entity.offset + entity.length))
    replied = message.reply_to_message
    is_reply = bool(replied and replied.from_user and replied.from_user.id == bot_id)
    if not cut and not is_reply:
        return None
    if cut:  # entity offsets count UTF-16 units
        units = text.encode("utf-16-le")
        for s, e in sorted(cut, reverse=True):
            units = units[: 2 * s] + units[2 * e :]
        text = units.decode("utf-16-le")
    return " ".join(text.split())


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
    await update.effective_message.reply_text(text)


async def cmd_help(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    user = update.effective_user
    admin = state_of(context).is_admin(user.id if user else None)
    await update.effective_message.reply_text(html_help(context.bot.username or "", admin))


def _sources_page(engine: Engine, page: int) -> tuple[str, InlineKeyboardMarkup | None]:
    total = len(engine.articles)
    pages = max(1, -(-total // SOURCES_PER_PAGE))
    page = min(max(0, page), pages - 1)
    start = page * SOURCES_PER_PAGE
    entries = [(i + 1, a) for i, a in enumerate(engine.articles)][start : start + SOURCES_PER_PAGE]
    nav = []
    if page > 0:
        nav.append(InlineKeyboardButton("‹ Back", callback_data=f"s:{page - 1}"))
    if page + 1 < pages:
        nav.append(InlineKeyboardButton("More ›", callback_data=f"s:{page + 1}"))
    return html_sources(entries, page, pages, total), InlineKeyboardMarkup([nav]) if nav else None


async def cmd_sources(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/sources: the articles in the corpus, paged, with links."""
    text, markup = _sources_page(state_of(context).engine, 0)
    await update.effective_message.reply_text(text, reply_markup=markup)


async def on_non_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Photos, stickers, voice...: a one-line hint rather than silence."""
    await update.effective_message.reply_text("I only read text — send your question as a message (or see /help).")


# --- buttons -------------------------------------------------------------------------------------


async def on_callback(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Buttons under answers and /sources; data is tiny and never holds user text."""
    query = update.callback_query
    state = state_of(context)
    kind, _, rest = (query.data or "").partition(":")
    if kind == "m":
        key, _, offset = rest.partition(":")
        question = await state.answers.get(key)
        if question is None or not offset.isdigit():
            await query.answer("This answer has expired — please ask again.", show_alert=True)
            return
        await query.answer()
        answer = await _ask(state, question, int(offset))
        text, markup = await _render(state, answer)
        await _edit(query.message, text, markup)
    elif kind == "a":
        no, _, tag = rest.partition(":")
        found = _find_article(state.engine, int(no), tag) if no.isdigit() else None
        if found is None:
            await query.answer("That article is no longer in the corpus.", show_alert=True)
            return
        await query.answer()
        for part in html_article(found[1]):
            await context.bot.send_message(query.message.chat.id, part)
    elif kind == "s" and rest.isdigit():
        await query.answer()
        text, markup = _sources_page(state.engine, int(rest))
        await _edit(query.message, text, markup)
    else:
        await query.answer()


async def _edit(message, text: str, markup: InlineKeyboardMarkup | None) -> None:
    """Edit a message in place; an inaccessible (old) message gets a new one instead."""
    if message is None:
        return
    if not isinstance(message, Message):  # too old to be edited (InaccessibleMessage)
        await message.get_bot().send_message(message.chat.id, text, reply_markup=markup)
        return
    try:
        await message.edit_text(text, reply_markup=markup)
    except BadRequest as e:
        if "not modified" not in str(e).lower():
            raise


# --- inline mode ---------------------------------------------------------------------------------


async def on_inline_query(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """@bot question in any chat: matching passages; choosing one posts it with attribution."""
    query = update.inline_query
    state = state_of(context)
    text = " ".join(query.query.split())
    offset = int(query.offset) if query.offset.isdigit() else 0
    if not text:
        await query.answer([], cache_time=300)
        return
    answer = await _ask(state, text, offset, INLINE_RESULTS)
    results = [
        InlineQueryResultArticle(
            id=f"{h.passage.article}.{h.passage.index}",
            title=_short(h.article.title or "(untitled)", 100),
            description=plain_snippet(h),
            input_message_content=InputTextMessageContent(html_inline_message(h), parse_mode=ParseMode.HTML),
            url=h.article.url if h.article.url and h.article.url.startswith(("http://", "https://")) else None,
        )
        for h in answer.hits
    ]
    next_offset = str(offset + INLINE_RESULTS) if answer.more and offset + INLINE_RESULTS <= MAX_OFFSET else ""
    await query.answer(results, cache_time=60, next_offset=next_offset)


# --- admin -----------------------------------------------------------------------------------------


async def _refuse(update: Update, what: str) -> None:
    user = update.effective_user
    log.warning("refused %s from non-admin user id %s", what, user.id if user else "?")
    await update.effective_message.reply_text("Sorry, only the bot's admins can do that.")


async def cmd_reload(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/reload: rebuild in the background; the old index answers until the new one is swapped in."""
    state = state_of(context)
    if not state.is_admin(update.effective_user.id if update.effective_user else None):
        await _refuse(update, "/reload")
        return
    log.info("reload requested by admin %s", update.effective_user.id)
    notice = await update.effective_message.reply_text("Reloading the corpus… I keep answering from the current index meanwhile.")
    report = await state.library.reload()
    await _edit(notice, html_reload_report(report), None)


async def cmd_stats(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/stats: corpus and usage figures."""
    state = state_of(context)
    if not state.is_admin(update.effective_user.id if update.effective_user else None):
        await _refuse(update, "/stats")
        return
    engine = state.engine
    m = state.metrics
    p50, p95 = m.percentile(50), m.percentile(95)
    latency = f"{p50 * 1000:.0f} ms / {p95 * 1000:.0f} ms" if p50 is not None else "—"
    lines = [
        "<b>Stats</b>",
        f"Articles: {len(engine.articles)}",
        f"Passages: {len(engine.passages)}",
        f"Vocabulary: {engine.index.vocabulary_size}",
        f"Index age: {_duration(time.time() - engine.built_at)}",
        f"Questions answered: {m.questions}",
        f"Answer latency p50 / p95: {latency}",
        f"Errors: {m.errors}; answers lost to Telegram or network failures: {m.lost}",
        f"Uptime: {_duration(m.uptime)}",
    ]
    await update.effective_message.reply_text("\n".join(lines))


def _duration(seconds: float) -> str:
    seconds = int(max(0, seconds))
    d, rem = divmod(seconds, 86400)
    h, rem = divmod(rem, 3600)
    m, s = divmod(rem, 60)
    if d:
        return f"{d} d {h} h"
    if h:
        return f"{h} h {m} min"
    if m:
        return f"{m} min {s} s"
    return f"{s} s"


async def on_document(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """An admin's article file: validated first, saved under a safe name, then the index reloads."""
    state = state_of(context)
    message = update.effective_message
    if not state.is_admin(update.effective_user.id if update.effective_user else None):
        await _refuse(update, "upload")
        return
    refusal = upload_refusal(state.settings.corpus_dir)
    if refusal:
        await message.reply_text(f"Not added: {escape(refusal)}")
        return
    doc = message.document
    name = doc.file_name or "upload.txt"
    ext = "." + name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if ext not in SUPPORTED_EXTENSIONS:
        kinds = ", ".join(sorted({e for e in SUPPORTED_EXTENSIONS if e not in (".markdown", ".htm")}))
        await message.reply_text(f"Not added: I read {kinds} files, and {escape(name)} is not one.")
        return
    limit = state.settings.max_upload_bytes
    if doc.file_size and doc.file_size > limit:
        await message.reply_text(f"Not added: {escape(name)} is {_size(doc.file_size)}; the limit is {_size(limit)}.")
        return
    file = await doc.get_file()
    data = bytes(
        await with_retries(
            file.download_as_bytearray, what="download", chat_id=message.chat_id,
            retry_seconds=state.settings.send_retry_seconds,
        )
    )
    if len(data) > limit:
        await message.reply_text(f"Not added: {escape(name)} is {_size(len(data))}; the limit is {_size(limit)}.")
        return
    try:
        articles = await asyncio.to_thread(parse_bytes, safe_name(name), data)
    except ArticleError as e:
        await message.reply_text(f"Not added: {escape(name)} is not a valid article file — {escape(e.reason)}.")
        return
    if not articles:
        await message.reply_text(f"Not added: no article found in {escape(name)}.")
        return
    path = await asyncio.to_thread(save_upload, state.settings.corpus_dir, name, data)
    log.info("admin %s uploaded %s (%d article(s)) as %s", update.effective_user.id, name, len(articles), path)
    report: ReloadSummary = await state.library.reload()
    titles = "\n".join(f"• {escape(_short(a.title or '(untitled)', 120))}" for a in articles[:10])
    more = f"\n… and {len(articles) - 10} more" if len(articles) > 10 else ""
    text = (
        f"Saved as <code>{escape(path.name)}</code> with {len(articles)} article{'s' if len(articles) != 1 else ''}:\n"
        f"{titles}{more}\n\n{html_reload_report(report)}"
    )
    if report.ok and report.after_articles - report.before_articles < len(articles):
        text += "\nSome of them were already in the corpus, so they were not added twice."
    await message.reply_text(text)


def _size(n: int) -> str:
    return f"{n / 1024 / 1024:.1f} MB" if n >= 1024 * 1024 else f"{n / 1024:.0f} KB" if n >= 1024 else f"{n} bytes"


# --- errors ------------------------------------------------------------------------------------------


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
        kind = next((k for k in ("message", "callback_query", "inline_query", "edited_message") if getattr(update, k)), "update")
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
