"""The webhook server: Telegram POSTs updates to the path of BOT_WEBHOOK_URL; we answer 200 only once they are safe.

python-telegram-bot's own server reads every body whole before looking at it, and answers 200 before the
update is handled. Here each request is checked before its body is read: the path, the secret token
header (403), the declared size (413); the body is then read up to BOT_WEBHOOK_MAX_BODY_BYTES and no
further, within a time limit. A JSON update is handed to the intake (`UpdateIntake.accept`): 200 when it
returned, 503 when it raised, so Telegram delivers the update again later.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging

from aiohttp import web

from bot.telegram.shared import UpdateIntake
from bot.telegram.updates import update_id_of

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
READ_SECONDS = 30  # a body slower than this is dropped (a client holding connections open)
STOP_SECONDS = 2  # when stopping, requests in flight get this long (accepting an update takes milliseconds)


class WebhookServer:
    """An aiohttp server for one path; `start()` listens, `stop()` stops listening and finishes requests."""

    def __init__(self, path: str, secret: str, intake: UpdateIntake, *, max_body: int, listen: str, port: int) -> None:
        self.path = "/" + path.strip("/")
        self.secret = secret.encode("utf-8")
        self.intake = intake
        self.max_body = max_body
        self.listen = listen
        self.port = port
        self.refused = 0  # requests refused before or while reading their body
        self._runner: web.AppRunner | None = None
        self._told: set[int] = set()

    async def start(self) -> None:
        app = web.Application(client_max_size=self.max_body)
        app.router.add_post(self.path, self._handle)
        # lingering_time=0: after refusing a request, close rather than read and discard the rest of its body.
        self._runner = web.AppRunner(
            app, access_log=None, handle_signals=False, shutdown_timeout=STOP_SECONDS, lingering_time=0
        )
        await self._runner.setup()
        await web.TCPSite(self._runner, self.listen, self.port).start()

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        given = request.headers.get(SECRET_HEADER, "").encode("utf-8", "replace")
        if not hmac.compare_digest(given, self.secret):
            return self._refuse(403, "wrong or missing secret token")
        if request.content_length is not None and request.content_length > self.max_body:
            return self._refuse(413, "update too large")
        try:
            async with asyncio.timeout(READ_SECONDS):
                body = await self._read_capped(request)
        except TimeoutError:
            return self._refuse(408, "update body too slow")
        if body is None:
            return self._refuse(413, "update too large")
        try:
            update = json.loads(body)
        except (ValueError, RecursionError):  # RecursionError: nested deeper than the parser goes
            return self._refuse(400, "not JSON")
        if update_id_of(update) is None:
            return self._refuse(400, "not an update (no integer update_id)")
        try:
            await self.intake.accept(update)
        except Exception as e:  # not accepted: Telegram must deliver it again
            log.warning("update %s not accepted (%s); answering 503", update["update_id"], type(e).__name__)
            return web.Response(status=503, text="try again later")
        return web.Response(status=200)

    async def _read_capped(self, request: web.Request) -> bytes | None:
        """The body, or None as soon as it grows past max_body (chunked bodies declare no size)."""
        chunks: list[bytes] = []
        size = 0
        async for chunk in request.content.iter_chunked(64 * 1024):
            size += len(chunk)
            if size > self.max_body:
                return None
            chunks.append(chunk)
        return b"".join(chunks)

    def _refuse(self, status: int, reason: str) -> web.Response:
        """Answer at once and close the connection: the rest of the body is never read.

        The first refusal of each kind is a warning (a wrong BOT_WEBHOOK_SECRET shows at once), the rest
        debug lines (strangers probing the URL must not flood the log).
        """
        self.refused += 1
        level = logging.DEBUG if status in self._told else logging.WARNING
        self._told.add(status)
        log.log(level, "webhook request refused with %d: %s", status, reason)
        response = web.Response(status=status, text=reason)
        response.force_close()
        return response
