"""The aiohttp client python-telegram-bot talks through: form and multipart requests, files, and errors
mapped to python-telegram-bot's (TimedOut, NetworkError) so the sender's retries work as with httpx."""

from __future__ import annotations

import pytest
from telegram import Bot
from telegram.error import BadRequest, NetworkError, TimedOut

from bot.telegram.http import AiohttpRequest
from tests.redisserver import free_port


def make_bot(api_url: str, token: str, read_timeout: float = 5.0) -> Bot:
    return Bot(
        token, base_url=f"{api_url}/bot", base_file_url=f"{api_url}/file/bot",
        request=AiohttpRequest(read_timeout=read_timeout, connect_timeout=2, pool_timeout=2),
    )  # fmt: skip


async def test_requests_files_and_errors_go_through_aiohttp(fake_api):
    api = fake_api
    async with make_bot(api.url, api.token) as bot:
        assert (await bot.get_me()).username == api.bot_username
        sent = await bot.send_message(1001, "<b>bold</b> & plain".replace("&", "&amp;"), parse_mode="HTML")
        assert sent.text == "bold & plain" and sent.entities[0].type == "bold"
        await bot.send_document(1001, b"hello, file", filename="note.txt", caption="a note")  # multipart
        upload = api.calls_of("sendDocument", ok=True)[-1].params
        assert upload["document"].data == b"hello, file" and upload["document"].filename == "note.txt"
        assert upload["caption"] == "a note"
        file_id = api.add_file(b"\x00\x01 binary content", file_name="corpus.txt")
        assert bytes(await (await bot.get_file(file_id)).download_as_bytearray()) == b"\x00\x01 binary content"
        with pytest.raises(BadRequest, match=r"(?i)chat not found"):
            await bot.send_message(0, "nobody")
        api.fail_next("sendMessage", code=502)
        with pytest.raises(NetworkError):
            await bot.send_message(1001, "bad gateway")
        api.reset_next("sendMessage")
        with pytest.raises(NetworkError):
            await bot.send_message(1001, "reset")


async def test_a_reply_slower_than_the_read_timeout_is_timed_out(fake_api):
    api = fake_api
    async with make_bot(api.url, api.token, read_timeout=0.3) as bot:
        api.delay_next("sendMessage", 1.0)
        with pytest.raises(TimedOut):
            await bot.send_message(1001, "slow")
        assert (await bot.send_message(1001, "next")).text == "next"


async def test_nobody_listening_is_a_network_error():
    request = AiohttpRequest(connect_timeout=2, pool_timeout=2)
    await request.initialize()
    try:
        with pytest.raises(NetworkError) as caught:
            await request.post(f"http://127.0.0.1:{free_port()}/bot1:x/getMe")
        assert not isinstance(caught.value, TimedOut)
    finally:
        await request.shutdown()
