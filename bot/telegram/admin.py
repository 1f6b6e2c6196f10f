"""Admin commands: /reload, /stats, and article uploads. Everyone else is refused (and logged)."""

from __future__ import annotations

import asyncio
import logging
import time

from telegram import Update
from telegram.ext import ContextTypes

from bot.articles import SUPPORTED_EXTENSIONS, ArticleError, Skipped, is_supported, parse_bytes
from bot.render import escape
from bot.service import ReloadSummary
from bot.telegram.buttons import short
from bot.telegram.corpus import html_reload_report
from bot.telegram.handlers import edit_message, reply
from bot.telegram.sending import with_retries
from bot.telegram.state import state_of
from bot.telegram.uploads import safe_name, save_upload, upload_refusal

log = logging.getLogger(__name__)


def admin_id(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int | None:
    """The sender's user id if they are one of the bot's admins, else None."""
    user = update.effective_user
    return user.id if user is not None and state_of(context).is_admin(user.id) else None


async def _refuse(update: Update, what: str) -> None:
    user = update.effective_user
    log.warning("refused %s from non-admin user id %s", what, user.id if user else "?")
    await reply(update, "Sorry, only the bot's admins can do that.")


async def cmd_reload(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/reload: rebuild in the background; the old index answers until the new one is swapped in."""
    state = state_of(context)
    admin = admin_id(update, context)
    if admin is None or update.effective_message is None:
        await _refuse(update, "/reload")
        return
    log.info("reload requested by admin %s", admin)
    notice = await update.effective_message.reply_text(
        "Reloading the corpus… I keep answering from the current index meanwhile."
    )
    report = await state.library.reload()
    await edit_message(notice, html_reload_report(report), None)


async def cmd_stats(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/stats: corpus and usage figures."""
    state = state_of(context)
    if admin_id(update, context) is None:
        await _refuse(update, "/stats")
        return
    engine = state.engine
    m = state.metrics
    p50, p95 = m.percentile(50), m.percentile(95)
    latency = f"{p50 * 1000:.0f} ms / {p95 * 1000:.0f} ms" if p50 is not None and p95 is not None else "—"
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
    await reply(update, "\n".join(lines))


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
    admin = admin_id(update, context)
    if admin is None:
        await _refuse(update, "upload")
        return
    if message is None or message.document is None:
        return
    refusal = upload_refusal(state.settings.corpus_dir)
    if refusal:
        await message.reply_text(f"Not added: {escape(refusal)}")
        return
    doc = message.document
    name = doc.file_name or "upload.txt"
    saved_name = safe_name(name)
    # the loaders' own rule (`feed.jsonl.gz`, any gzip of a format, too), for the name as sent and as saved
    if not (is_supported(name) and is_supported(saved_name)):
        kinds = ", ".join(sorted({e for e in SUPPORTED_EXTENSIONS if e not in (".markdown", ".htm")}))
        await message.reply_text(
            f"Not added: I read {kinds} files (also gzip-compressed, e.g. feed.jsonl.gz), "
            f"and {escape(name)} is not one."
        )
        return
    limit = state.settings.max_upload_bytes
    if doc.file_size and doc.file_size > limit:
        await message.reply_text(f"Not added: {escape(name)} is {_size(doc.file_size)}; the limit is {_size(limit)}.")
        return
    file = await doc.get_file()
    data = bytes(
        await with_retries(
            file.download_as_bytearray,
            what="download",
            chat_id=message.chat_id,
            retry_seconds=state.settings.send_retry_seconds,
        )
    )
    if len(data) > limit:
        await message.reply_text(f"Not added: {escape(name)} is {_size(len(data))}; the limit is {_size(limit)}.")
        return
    parts: list[Skipped] = []
    try:
        articles = await asyncio.to_thread(parse_bytes, saved_name, data, skipped=parts)
    except ArticleError as e:
        await message.reply_text(
            f"Not added: {escape(name)} is not a valid article file — {escape(short(e.reason, 300))}."
        )
        return
    if not articles:
        await message.reply_text(f"Not added: no article found in {escape(name)}.")
        return
    path = await asyncio.to_thread(save_upload, state.settings.corpus_dir, name, data)
    log.info("admin %s uploaded %s (%d article(s)) as %s", admin, name, len(articles), path)
    report: ReloadSummary = await state.library.reload()
    titles = "\n".join(f"• {escape(short(a.title or '(untitled)', 120))}" for a in articles[:10])
    more = f"\n… and {len(articles) - 10} more" if len(articles) > 10 else ""
    text = (
        f"Saved as <code>{escape(path.name)}</code> with {len(articles)} article{'s' if len(articles) != 1 else ''}:\n"
        f"{titles}{more}\n\n{html_reload_report(report)}"
    )
    if parts:
        text += (
            f"\n{len(parts)} part{'s' if len(parts) != 1 else ''} of the file could not be read and "
            f"{'were' if len(parts) != 1 else 'was'} left out, e.g. {escape(short(parts[0].path, 300))}: "
            f"{escape(short(parts[0].reason, 300))}."
        )
    if report.ok and report.after_articles - report.before_articles < len(articles):
        text += "\nSome of them were already in the corpus, so they were not added twice."
    await message.reply_text(text)


def _size(n: int) -> str:
    return f"{n / 1024 / 1024:.1f} MB" if n >= 1024 * 1024 else f"{n / 1024:.0f} KB" if n >= 1024 else f"{n} bytes"
