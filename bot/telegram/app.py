"""The one place that builds the Application, registers the handlers, and serves it.

`build_application(settings, library)` wires everything; `serve()` runs it (long polling, or a
webhook when BOT_WEBHOOK_URL is set) until SIGINT/SIGTERM or a stop event, reloading on SIGHUP;
`run(settings)` is what `python -m bot run` calls.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal

from telegram import BotCommand, BotCommandScopeChat, BotCommandScopeDefault, LinkPreviewOptions, Update
from telegram.constants import ParseMode
from telegram.error import TelegramError
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    Defaults,
    InlineQueryHandler,
    MessageHandler,
    filters,
)

from bot.health import Heartbeat
from bot.settings import Settings
from bot.telegram import admin, errors
from bot.telegram import handlers as h
from bot.telegram.backends import choose_backends, open_library
from bot.telegram.corpus import CorpusLibrary
from bot.telegram.guard import Metrics, install_redaction, redact
from bot.telegram.http import AiohttpRequest
from bot.telegram.sending import RetryingRateLimiter
from bot.telegram.shared import Backends, Service, UpdateIntake
from bot.telegram.state import BotState, state_of_app
from bot.telegram.updates import ChatOrderedProcessor, ResilientBot
from bot.telegram.webhook import WebhookServer

log = logging.getLogger(__name__)

USER_COMMANDS = [
    BotCommand("start", "What I know and how to ask"),
    BotCommand("ask", "Ask a question (in groups: /ask question)"),
    BotCommand("sources", "The articles I know"),
    BotCommand("help", "How to use the bot"),
]
ADMIN_COMMANDS = [
    *USER_COMMANDS,
    BotCommand("reload", "Rebuild the index from the corpus folder"),
    BotCommand("stats", "Corpus and usage figures"),
]
ALLOWED_UPDATES = [Update.MESSAGE, Update.CALLBACK_QUERY, Update.INLINE_QUERY]
_background: set[asyncio.Task] = set()


def build_application(settings: Settings, library: CorpusLibrary, backends: Backends | None = None) -> Application:
    """The bot: Bot API client (retried, rate-limited), concurrent per-chat-ordered handling, state, handlers.

    `backends` holds the shared state (default: `choose_backends(settings)`, in memory for one process).
    """
    if settings.token is None:
        raise ValueError("BOT_TOKEN is not set")
    token = settings.token.get_secret_value()
    install_redaction(token)
    backends = backends or choose_backends(settings)
    if settings.heartbeat_file is not None:  # for `corpus-bot health` and Docker's HEALTHCHECK
        backends.services.append(Heartbeat(settings.heartbeat_file))
    timeout = settings.api_timeout
    bot = ResilientBot(
        token,
        base_url=f"{settings.api_url}/bot",
        base_file_url=f"{settings.api_url}/file/bot",
        request=AiohttpRequest(
            connection_pool_size=256,
            read_timeout=timeout,
            write_timeout=timeout,
            connect_timeout=10,
            pool_timeout=timeout,
            media_write_timeout=max(timeout, 60),
        ),
        get_updates_request=AiohttpRequest(connection_pool_size=2, read_timeout=timeout, connect_timeout=10),
        # allow_sending_without_reply: a question deleted before its answer went out still gets the answer
        defaults=Defaults(
            parse_mode=ParseMode.HTML,
            link_preview_options=LinkPreviewOptions(is_disabled=True),
            allow_sending_without_reply=True,
        ),
        rate_limiter=RetryingRateLimiter(backends.send_budget, settings.send_retry_seconds),
    )
    application = (
        Application.builder()
        .bot(bot)
        .concurrent_updates(ChatOrderedProcessor(settings.concurrent_updates))
        .post_init(_post_init)
        .build()
    )
    application.bot_data["state"] = BotState(
        settings=settings,
        library=library,
        backends=backends,
        metrics=Metrics(),
    )

    private = filters.ChatType.PRIVATE & filters.UpdateType.MESSAGE
    groups = filters.ChatType.GROUPS & filters.UpdateType.MESSAGE
    add = application.add_handler
    add(CommandHandler("start", h.cmd_start))
    add(CommandHandler("help", h.cmd_help))
    add(CommandHandler("ask", h.cmd_ask))
    add(CommandHandler("sources", h.cmd_sources))
    # Admin work takes a while: block=False lets questions be answered meanwhile.
    add(CommandHandler("reload", admin.cmd_reload, block=False))
    add(CommandHandler("stats", admin.cmd_stats))
    add(MessageHandler(private & filters.Document.ALL, admin.on_document, block=False))
    add(MessageHandler(private & filters.TEXT & ~filters.COMMAND, h.on_private_text))
    add(MessageHandler(groups & filters.TEXT & ~filters.COMMAND, h.on_group_text))
    add(MessageHandler(private & ~filters.TEXT & ~filters.COMMAND & ~filters.StatusUpdate.ALL, h.on_non_text))
    add(CallbackQueryHandler(h.on_callback))
    add(InlineQueryHandler(h.on_inline_query))
    application.add_error_handler(errors.on_error)
    return application


async def _post_init(application: Application) -> None:
    """Register the command menu: everyone's, and the admin commands in each admin's chat.

    Best effort: a menu Telegram will not take (a Bot API server without command scopes, a request lost
    after its retries) costs the menu, never the answers.
    """
    bot = application.bot
    try:
        await bot.set_my_commands(USER_COMMANDS, scope=BotCommandScopeDefault())
    except TelegramError as e:
        log.warning("command menu not registered: %s", e)
    for admin_id in state_of_app(application).settings.admin_ids:
        try:
            await bot.set_my_commands(ADMIN_COMMANDS, scope=BotCommandScopeChat(admin_id))
        except TelegramError as e:  # the admin has not started a chat with the bot yet
            log.info("admin commands not registered for %s: %s", admin_id, e)


async def serve(
    application: Application,
    settings: Settings,
    stop: asyncio.Event | None = None,
    handle_signals: bool = True,
    poll_timeout: int = 10,
    ready: asyncio.Event | None = None,
) -> None:
    """Run until `stop` is set or SIGINT/SIGTERM; SIGHUP reloads the corpus.

    Long polling by default; with BOT_WEBHOOK_URL our webhook server (bot.telegram.webhook) on
    BOT_WEBHOOK_LISTEN:PORT at the URL's path. The intake and the backends' services run meanwhile.
    `ready` is set once updates are being received.
    """
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    state = state_of_app(application)
    installed: list[int] = []
    async with application:  # initialize (getMe) ... shutdown
        if application.post_init:
            await application.post_init(application)
        await application.start()
        intake: UpdateIntake | None = None
        started: list[Service] = []
        webhook: WebhookServer | None = None
        try:
            await state.backends.intake.start(application)
            intake = state.backends.intake
            for service in state.backends.services:
                await service.start(application)
                started.append(service)
            if settings.webhook_url:
                webhook = await _start_webhook(application, settings, state.backends.intake)
            else:
                assert application.updater is not None  # built by Application.builder()
                await application.updater.start_polling(timeout=poll_timeout, allowed_updates=ALLOWED_UPDATES)
                log.info("serving by long polling as @%s", application.bot.username)
                if settings.redis_url:  # shared state works, but Telegram lets one process poll at a time
                    log.warning(
                        "BOT_REDIS_URL is set without BOT_WEBHOOK_URL: this replica polls Telegram itself, and "
                        "a second polling replica would get 409 Conflict; set BOT_WEBHOOK_URL to run several"
                    )
            if handle_signals:
                installed = _install_signals(loop, stop, state.library)
            if ready is not None:
                ready.set()
            await stop.wait()
        finally:
            for sig in installed:
                loop.remove_signal_handler(sig)
            await _stop_serving(application, settings, webhook, intake, started)


async def _stop_serving(
    application: Application,
    settings: Settings,
    webhook: WebhookServer | None,
    intake: UpdateIntake | None,
    started: list[Service],
) -> None:
    """Stop taking updates, give those in hand `stop_drain_seconds` (all together), then stop.

    Answers not sent by then are cut short: with Redis they go back to the stream for another replica;
    otherwise Telegram already counts them delivered, so they are lost (logged with their number).
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + settings.stop_drain_seconds
    log.info("stopping: updates in hand get %g s to be answered", settings.stop_drain_seconds)
    if webhook is not None:
        await webhook.stop()  # finishes the requests in flight: their updates are accepted
    if application.updater is not None and application.updater.running:
        await application.updater.stop()
    handed_back = lost = 0
    for service in reversed(started):
        try:
            await service.stop()
        except Exception as e:  # stopping the rest matters more
            log.error("could not stop %s: %s", type(service).__name__, e)
    if intake is not None:  # last: it may own the link the others used
        try:
            handed_back = await intake.stop(max(0.0, deadline - loop.time()))
        except Exception as e:
            log.error("could not stop %s: %s", type(intake).__name__, e)
    processor = application.update_processor
    if isinstance(processor, ChatOrderedProcessor):
        lost = await processor.drain(max(0.0, deadline - loop.time()), application.update_queue)
    if handed_back:
        log.warning("%d updates not answered in time were left in Redis for the other replicas", handed_back)
    if lost:
        log.error("%d updates were not answered before stopping (Telegram counts them delivered)", lost)
    await application.stop()


async def _start_webhook(application: Application, settings: Settings, intake: UpdateIntake) -> WebhookServer:
    """Listen first, then tell Telegram where to post (never dropping the updates it holds for us)."""
    assert settings.webhook_url and settings.webhook_secret
    server = WebhookServer(
        settings.webhook_path,
        settings.webhook_secret.get_secret_value(),
        intake,
        max_body=settings.webhook_max_body_bytes,
        listen=settings.webhook_listen,
        port=settings.webhook_port,
    )
    await server.start()
    try:
        await application.bot.set_webhook(
            url=settings.webhook_url,
            secret_token=settings.webhook_secret.get_secret_value(),
            allowed_updates=ALLOWED_UPDATES,
            max_connections=settings.webhook_max_connections,
        )
    except BaseException:
        await server.stop()
        raise
    log.info("serving by webhook on %s:%s%s", settings.webhook_listen, settings.webhook_port, server.path)
    return server


def _install_signals(loop: asyncio.AbstractEventLoop, stop: asyncio.Event, library: CorpusLibrary) -> list[int]:
    """SIGINT/SIGTERM stop the bot; SIGHUP reloads the corpus. Returns the signals handled."""
    installed: list[int] = []
    wanted = [(signal.SIGINT, stop.set), (signal.SIGTERM, stop.set)]
    if hasattr(signal, "SIGHUP"):

        def reload() -> None:
            task = loop.create_task(_reload_on_signal(library))
            _background.add(task)  # keep a reference until it is done
            task.add_done_callback(_background.discard)

        wanted.append((signal.SIGHUP, reload))
    for sig, callback in wanted:
        with contextlib.suppress(NotImplementedError, RuntimeError):  # not the main thread, or Windows
            loop.add_signal_handler(sig, callback)
            installed.append(sig)
    return installed


async def _reload_on_signal(library: CorpusLibrary) -> None:
    log.info("SIGHUP: reloading the corpus")
    report = await library.reload()
    if report.ok:
        log.info("reloaded: %s", report.summary())
    else:
        log.warning("reload failed, still serving the old index: %s", report.error)


def run(settings: Settings, verbose: bool = False) -> int:
    """`python -m bot run`: open the corpus, then serve Telegram until stopped."""
    if settings.token is None:
        raise ValueError("BOT_TOKEN is not set")
    install_redaction(settings.token.get_secret_value())
    level = logging.DEBUG if verbose else getattr(logging, settings.log_level)
    logging.getLogger().setLevel(level)
    # httpx logs every request at INFO, i.e. each long poll: only worth seeing when debugging.
    for noisy in ("httpx", "httpcore"):
        logging.getLogger(noisy).setLevel(level if level <= logging.DEBUG else max(level, logging.WARNING))
    # python-telegram-bot logs every update and every request's parameters at DEBUG: users' messages.
    logging.getLogger("telegram").setLevel(max(level, logging.INFO))
    try:
        library = open_library(settings)
    except Exception as e:  # EmptyCorpus; the isolated build reports its own failure type
        log.error("cannot start: %s", getattr(e, "reason", None) or e)
        return 1
    log.info("corpus: %d articles, %d passages", len(library.engine.articles), len(library.engine.passages))
    application = build_application(settings, library)
    try:
        asyncio.run(serve(application, settings))
    except TelegramError as e:  # e.g. InvalidToken at start-up; its message may hold the token
        log.error("Telegram error: %s", redact(str(e)))
        return 1
    return 0
