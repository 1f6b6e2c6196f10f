"""The webhook server against the fake Bot API, which posts updates to it the way Telegram does.

Requests are refused before their bodies are read (wrong secret, too large, chunked past the cap), a 2xx
goes back only once the update was accepted (so Telegram re-delivers what was not), re-deliveries are
answered once, unreadable updates are skipped, and updates waiting at start-up are not dropped.
(The memory bound under 20 concurrent 10 MB posts is measured on a real process in test_telegram_process.)
"""

from __future__ import annotations

import contextlib
import json
import logging
import socket

import aiohttp

from bot.settings import Settings
from bot.telegram.shared import local_backends
from bot.telegram.updates import QueueIntake
from tests.conftest import USER_ID, running_bot

SECRET = "s3cret_Token-1"
QUESTION = "who approved the road maps?"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.asynccontextmanager
async def webhook_bot(api, prebuilt, backends=None, **overrides):
    corpus, index = prebuilt
    port = free_port()
    url = f"http://127.0.0.1:{port}/tg/hook"
    async with running_bot(
        api,
        corpus,
        backends,
        index_dir=index,
        webhook_url=url,
        webhook_secret=SECRET,
        webhook_listen="127.0.0.1",
        webhook_port=port,
        **overrides,
    ) as bot:
        bot.url = url
        yield bot


async def post(url: str, body, secret: str | None = SECRET, method: str = "POST") -> int | str:
    """The HTTP status, or "dropped" when the server closed the connection while we were still sending."""
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers["X-Telegram-Bot-Api-Secret-Token"] = secret
    try:
        async with (
            aiohttp.ClientSession() as session,
            session.request(
                method, url, data=body, headers=headers, timeout=aiohttp.ClientTimeout(total=20)
            ) as response,
        ):
            await response.read()
            return response.status
    except (aiohttp.ClientError, ConnectionError):
        return "dropped"


def update(update_id: int, text: str = QUESTION, user_id: int = USER_ID) -> dict:
    user = {"id": user_id, "is_bot": False, "first_name": "Test"}
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "date": 1700000000,
            "text": text,
            "from": user,
            "chat": {"id": user_id, "type": "private", "first_name": "Test"},
        },
    }


def as_json(data: dict) -> bytes:
    return json.dumps(data).encode()


async def chunks(total: int, size: int = 64 * 1024):
    block = b" " * size
    for _ in range(total // size):
        yield block


async def test_webhook_refuses_before_reading(fake_api, prebuilt_corpus, clean_env):
    api = fake_api
    big = b"{" + b" " * (10 * 1024 * 1024)
    async with webhook_bot(api, prebuilt_corpus, webhook_max_body_bytes=64 * 1024) as bot:
        url = bot.url
        assert await post(url, big, secret=None) in (403, "dropped")
        assert await post(url, big, secret="wrong") in (403, "dropped")
        assert await post(url, big) in (413, "dropped")  # the right secret, but 10 MB declared
        assert await post(url, chunks(10 * 1024 * 1024)) in (413, "dropped")  # no size declared: capped read
        assert await post(url, b"{not json") == 400
        assert await post(url, b"[1, 2]") == 400
        assert await post(url, b'{"update_id": "7"}') == 400
        assert await post(url, b"{}", method="GET") == 405
        assert await post(url.replace("/tg/hook", "/other"), b"{}") == 404
        assert not api.calls_of("sendMessage")
        api.push_message(QUESTION)  # Telegram's own delivery still works
        call = await api.wait_for("sendMessage", ok=True)
    assert "road maps" in call.result["text"]


async def test_webhook_is_registered_without_dropping_waiting_updates(fake_api, prebuilt_corpus, clean_env):
    api = fake_api
    api.push_message(QUESTION, user_id=2001)  # waiting at Telegram before the bot starts
    async with webhook_bot(api, prebuilt_corpus):
        call = await api.wait_for("sendMessage", ok=True)
    params = api.calls_of("setWebhook")[0].params
    assert params["max_connections"] == 40 and params["secret_token"] == SECRET
    assert not params.get("drop_pending_updates")
    assert call.params["chat_id"] == 2001


async def test_webhook_skips_unreadable_and_answers_redelivered_updates_once(
    fake_api, prebuilt_corpus, clean_env, caplog
):
    api = fake_api
    caplog.set_level(logging.INFO)
    async with webhook_bot(api, prebuilt_corpus) as bot:
        poison = update(5001, text="Zanzibar secrets")
        poison["message"]["date"] = "Zanzibar o'clock"
        assert await post(bot.url, as_json(poison)) == 200  # accepted, so Telegram stops sending it
        for _ in range(2):  # Telegram re-sends when our 200 got lost
            assert await post(bot.url, as_json(update(5002, user_id=2101))) == 200
        call = await api.wait_for("sendMessage", ok=True)
        api.push_message("what did Syamashka say about the tax maneuver?", user_id=2102)
        later = await api.wait_for("sendMessage", ok=True)
    assert call.params["chat_id"] == 2101 and len(api.sent_messages(2101)) == 1
    assert "tax maneuver" in later.result["text"]
    skipped = [r.getMessage() for r in caplog.records if "skipped update" in r.getMessage()]
    assert len(skipped) == 1 and "5001" in skipped[0]
    assert not any("Zanzibar" in r.getMessage() for r in caplog.records)


class FlakyIntake(QueueIntake):
    """The in-process intake, failing its first `failures` updates (like a store that is briefly down)."""

    def __init__(self, failures: int):
        super().__init__()
        self.failures = failures

    async def accept(self, update: dict) -> None:
        if self.failures > 0:
            self.failures -= 1
            raise ConnectionError("store down")
        await super().accept(update)


async def test_webhook_answers_2xx_only_once_accepted(fake_api, prebuilt_corpus, clean_env):
    api = fake_api
    api.webhook_retry_delay = 0.2
    backends = local_backends(Settings(_env_file=None))
    backends.intake = FlakyIntake(failures=2)
    async with webhook_bot(api, prebuilt_corpus, backends):
        pushed = api.push_message(QUESTION, user_id=2201)
        call = await api.wait_for("sendMessage", ok=True, timeout=15)
    deliveries = [status for uid, status in api.webhook_deliveries if uid == pushed["update_id"]]
    assert deliveries == [503, 503, 200]  # not accepted -> not acknowledged -> delivered again
    assert call.params["chat_id"] == 2201 and len(api.sent_messages(2201)) == 1
