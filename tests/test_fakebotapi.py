"""Tests for tests/fakebotapi.py, driven by a real python-telegram-bot ``Bot``/``Application``."""

from __future__ import annotations

import asyncio
import json
import time

import httpx
import pytest
from aiohttp import web
from telegram import (
    Bot,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InlineQueryResultArticle,
    InputTextMessageContent,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import BadRequest, Conflict, Forbidden, InvalidToken, RetryAfter
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    InlineQueryHandler,
    MessageHandler,
    filters,
)

from tests.fakebotapi import (
    DEFAULT_TOKEN,
    EntityParseError,
    FakeBotAPI,
    parse_html,
    parse_markdown,
    parse_markdown_v2,
    utf16_len,
)

pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")


def run(coro):
    """Run a coroutine to completion (tests below do not depend on an asyncio plugin)."""
    return asyncio.run(coro)


class Served:
    """async context: a started FakeBotAPI plus an initialised PTB Bot pointed at it."""

    def __init__(self, **kwargs):
        self.api = FakeBotAPI(**kwargs)
        self.bot: Bot | None = None

    async def __aenter__(self):
        await self.api.start()
        self.bot = self.api.make_bot()
        await self.bot.initialize()
        return self.api, self.bot

    async def __aexit__(self, *exc):
        await self.bot.shutdown()
        await self.api.stop()


# --------------------------------------------------------------------------- parsers


def test_parse_html_entities_and_offsets():
    text, ents = parse_html('<b>bold</b> &lt;x&gt; <a href="https://e.com/?a=1&amp;b=2">l</a> 😀<i>i</i>')
    assert text == "bold <x> l 😀i"
    assert {"type": "bold", "offset": 0, "length": 4} in ents
    assert {"type": "text_link", "offset": 9, "length": 1, "url": "https://e.com/?a=1&b=2"} in ents
    # the emoji is 2 UTF-16 code units, so italic starts at 11 + 2
    assert {"type": "italic", "offset": 13, "length": 1} in ents
    text, ents = parse_html('<pre><code class="language-python">x = 1</code></pre>')
    assert text == "x = 1"
    assert ents == [{"type": "pre", "offset": 0, "length": 5, "language": "python"}]
    text, ents = parse_html(
        '<span class="tg-spoiler">s</span><tg-spoiler>t</tg-spoiler><blockquote expandable>q</blockquote>'
    )
    assert [e["type"] for e in ents] == ["spoiler", "spoiler", "expandable_blockquote"]


@pytest.mark.parametrize(
    ("markup", "error"),
    [
        ("a < b", 'Unsupported start tag "" at byte offset 2'),
        ("<br>", 'Unsupported start tag "br" at byte offset 0'),
        ("x <b", "Unclosed start tag at byte offset 2"),
        ("<b>x", 'Can\'t find end tag corresponding to start tag "b"'),
        ("<b>x</i>", 'Unmatched end tag at byte offset 4, expected "</b>", found "</i>"'),
        ("x</b>", "Unexpected end tag at byte offset 1"),
        ("<span>x</span>", 'Tag "span" must have class "tg-spoiler" at byte offset 0'),
        ('<a ="x">y</a>', 'Empty attribute name in the tag "a" at byte offset 0'),
        ("🏟 🏟&lt;<abac aba>", 'Unsupported start tag "abac" at byte offset 13'),
        (
            "🏟 🏟&lt;<i>a</em   >",
            'Unmatched end tag at byte offset 17, expected "</i>", found "</em>"',
        ),
        ("Tom & Jerry", 'Unescaped "&" at byte offset 4'),
        ("&nbsp;", 'Unescaped "&" at byte offset 0'),
    ],
)
def test_parse_html_errors_match_telegram(markup, error):
    with pytest.raises(EntityParseError) as info:
        parse_html(markup)
    assert str(info.value).startswith(error)


def test_parse_html_lenient_ampersand_like_real_telegram():
    assert parse_html("Tom & Jerry &nbsp; &lt", strict=False)[0] == "Tom & Jerry &nbsp; <"


def test_parse_markdown_v2():
    text, ents = parse_markdown_v2(r"*bold* _it_ __u__ ~s~ ||sp|| `c` [l](https://x.org) 1\.5")
    assert text == "bold it u s sp c l 1.5"
    assert [e["type"] for e in ents] == [
        "bold",
        "italic",
        "underline",
        "strikethrough",
        "spoiler",
        "code",
        "text_link",
    ]
    with pytest.raises(EntityParseError, match=r"Character '\.' is reserved"):
        parse_markdown_v2("1.5")
    with pytest.raises(EntityParseError, match="Can't find end of Bold entity at byte offset 0"):
        parse_markdown_v2("*bold")
    text, ents = parse_markdown_v2(">quoted\n>more\nafter")
    assert text == "quoted\nmore\nafter"
    assert ents == [{"type": "blockquote", "offset": 0, "length": 12}]


def test_parse_markdown_legacy():
    text, ents = parse_markdown("*b* _i_ [x](http://a.b) ```py\ncode```")
    assert text == "b i x code"
    assert [e["type"] for e in ents] == ["bold", "italic", "text_link", "pre"]
    with pytest.raises(EntityParseError, match="starting at byte offset 0"):
        parse_markdown("*unclosed")


def test_utf16_len():
    assert utf16_len("abc") == 3
    assert utf16_len("😀") == 2


# --------------------------------------------------------------------------- PTB Bot


def test_get_me_and_defaults():
    async def main():
        async with Served(bot_username="my_test_bot") as (api, bot):
            me = await bot.get_me()
            assert me.username == "my_test_bot"
            assert me.id == int(DEFAULT_TOKEN.split(":")[0])
            assert me.is_bot
            assert bot.username == "my_test_bot"
            assert api.calls_of("getMe")

    run(main())


def test_send_message_valid_html():
    async def main():
        async with Served() as (api, bot):
            chat_id = api.default_user_id
            m1 = await bot.send_message(chat_id, "<b>Hello</b> <i>world</i> &amp; more", parse_mode=ParseMode.HTML)
            m2 = await bot.send_message(chat_id, "second")
            assert m1.text == "Hello world & more"
            assert m1.chat.id == chat_id and m1.chat.type == "private"
            assert m1.from_user.id == api.bot_id
            assert [e.type for e in m1.entities] == ["bold", "italic"]
            assert m1.text_html == "<b>Hello</b> <i>world</i> &amp; more"
            assert m2.message_id == m1.message_id + 1
            other = await bot.send_message(-100123, "in a group")
            assert other.message_id == 1 and other.chat.type == "supergroup"
            assert api.sent_messages(chat_id) == ["Hello world & more", "second"]
            assert api.sent_messages(chat_id, raw=True)[0].startswith("<b>Hello")
            method, params = api.calls_of("sendMessage")[0]
            assert method == "sendMessage" and params["chat_id"] == chat_id
            assert params["parse_mode"] == "HTML"

    run(main())


@pytest.mark.parametrize(
    "text",
    ["<b>unclosed", "1 < 2", "<p>para</p>", "R&D", "<b><i>x</b></i>", "<a href=x/>y</a>"],
)
def test_send_message_invalid_html_rejected(text):
    async def main():
        async with Served() as (api, bot):
            with pytest.raises(BadRequest, match="Can't parse entities"):
                await bot.send_message(1001, text, parse_mode=ParseMode.HTML)
            call = api.calls_of("sendMessage")[-1]
            assert call.status == 400
            assert call.error.startswith("Bad Request: can't parse entities: ")

    run(main())


def test_send_message_length_limits():
    async def main():
        async with Served() as (_api, bot):
            await bot.send_message(1001, "x" * 4096)
            # markup does not count, only the parsed text
            await bot.send_message(1001, "<b>" + "x" * 4096 + "</b>", parse_mode="HTML")
            with pytest.raises(BadRequest, match="Message is too long"):
                await bot.send_message(1001, "x" * 4097)
            # 2048 emoji = 4096 UTF-16 code units; one more char is too long
            await bot.send_message(1001, "😀" * 2048)
            with pytest.raises(BadRequest, match="Message is too long"):
                await bot.send_message(1001, "😀" * 2048 + "x")
            with pytest.raises(BadRequest, match="Message text is empty"):
                await bot.send_message(1001, "<b> </b>", parse_mode="HTML")

    run(main())


def test_callback_data_limit():
    async def main():
        async with Served() as (api, bot):
            ok = InlineKeyboardMarkup([[InlineKeyboardButton("ok", callback_data="x" * 64)]])
            msg = await bot.send_message(1001, "fine", reply_markup=ok)
            assert msg.reply_markup.inline_keyboard[0][0].callback_data == "x" * 64
            too_long = InlineKeyboardMarkup(
                [[InlineKeyboardButton("bad", callback_data="é" * 33)]]  # 66 bytes
            )
            with pytest.raises(BadRequest, match="Button_data_invalid"):
                await bot.send_message(1001, "nope", reply_markup=too_long)
            assert api.calls_of("sendMessage")[-1].error == "Bad Request: BUTTON_DATA_INVALID"

    run(main())


def test_get_updates_long_poll_and_offset():
    async def main():
        async with Served() as (api, bot):
            assert await bot.get_updates(timeout=0) == ()

            async def push_later():
                await asyncio.sleep(0.3)
                api.push_message("hello there", user_id=7, username="seven")

            pusher = asyncio.create_task(push_later())
            started = time.monotonic()
            updates = await bot.get_updates(timeout=10)
            elapsed = time.monotonic() - started
            await pusher
            assert 0.2 < elapsed < 3, elapsed
            assert len(updates) == 1
            first = updates[0]
            assert first.message.text == "hello there"
            assert first.message.from_user.username == "seven"
            assert first.effective_chat.id == 7

            api.push_command("/start deep-link", user_id=7)
            api.push_message("hi group", chat_type="group", user_id=8)
            again = await bot.get_updates(timeout=0)
            assert [u.update_id for u in again] == [first.update_id, first.update_id + 1, first.update_id + 2]
            cmd = again[1].message
            assert cmd.text == "/start deep-link"
            assert cmd.entities[0].type == "bot_command" and cmd.entities[0].length == 6
            assert again[2].effective_chat.id < 0 and again[2].effective_chat.type == "group"

            # offset confirms earlier updates; limit caps the batch
            rest = await bot.get_updates(offset=first.update_id + 1, limit=1, timeout=0)
            assert [u.update_id for u in rest] == [first.update_id + 1]
            rest = await bot.get_updates(offset=first.update_id + 3, timeout=0)
            assert rest == ()
            assert api.pending_updates() == []

            # the long poll times out empty
            started = time.monotonic()
            assert await bot.get_updates(timeout=1) == ()
            assert 0.8 < time.monotonic() - started < 3

    run(main())


def test_retry_after_injection():
    async def main():
        async with Served() as (api, bot):
            api.fail_next("sendMessage", code=429, retry_after=3)
            with pytest.raises(RetryAfter) as info:
                await bot.send_message(1001, "hi")
            retry_after = info.value.retry_after  # int now, timedelta in a future PTB
            assert getattr(retry_after, "total_seconds", lambda: retry_after)() == 3
            call = api.calls_of("sendMessage")[0]
            assert call.response == {
                "ok": False,
                "error_code": 429,
                "description": "Too Many Requests: retry after 3",
                "parameters": {"retry_after": 3},
            }
            assert (await bot.send_message(1001, "hi")).text == "hi"

            api.fail_next("sendMessage", code=400, times=2, description="Bad Request: boom")
            for _ in range(2):
                with pytest.raises(BadRequest, match="Boom"):
                    await bot.send_message(1001, "x")
            api.fail_next(None, code=403)
            with pytest.raises(Forbidden):
                await bot.get_me()
            await bot.get_me()

    run(main())


def test_get_file_and_download_round_trip():
    async def main():
        async with Served() as (api, bot):
            payload = bytes(range(256)) * 10
            file_id = api.add_file(payload, "blob.bin")
            tg_file = await bot.get_file(file_id)
            assert tg_file.file_size == len(payload)
            assert tg_file.file_path.startswith(f"{api.url}/file/bot{api.token}/")
            assert bytes(await tg_file.download_as_bytearray()) == payload

            upd = Update.de_json(api.push_document("notes.txt", "привет".encode(), caption="my notes"), bot)
            doc = upd.message.document
            assert doc.file_name == "notes.txt" and doc.mime_type == "text/plain"
            assert upd.message.caption == "my notes"
            import io

            buf = io.BytesIO()
            await (await bot.get_file(doc.file_id)).download_to_memory(buf)
            assert buf.getvalue().decode() == "привет"

            with pytest.raises(BadRequest, match="Invalid file_id"):
                await bot.get_file("nope")

    run(main())


def test_send_document_multipart_upload():
    async def main():
        async with Served() as (api, bot):
            msg = await bot.send_document(
                1001, b"a,b\n1,2\n", filename="t.csv", caption="<b>csv</b>", parse_mode="HTML"
            )
            assert msg.document.file_name == "t.csv"
            assert msg.caption == "csv"
            call = api.calls_of("sendDocument")[0]
            assert call.content_type == "multipart/form-data"
            assert call.params["document"].data == b"a,b\n1,2\n"
            assert api.get_file_content(msg.document.file_id) == b"a,b\n1,2\n"
            again = await bot.send_document(1001, msg.document.file_id)
            assert again.document.file_id == msg.document.file_id
            photo = await bot.send_photo(1001, b"\x89PNGfake", caption="pic")
            assert photo.photo[-1].file_id

    run(main())


def test_wrong_token():
    async def main():
        async with FakeBotAPI() as api:
            bot = Bot("999:wrong", base_url=api.base_url, base_file_url=api.base_file_url)
            try:
                with pytest.raises(InvalidToken):
                    await bot.initialize()  # calls getMe
            finally:
                await bot.shutdown()
            call = api.calls[-1]
            assert call.status == 401
            assert call.response == {"ok": False, "error_code": 401, "description": "Unauthorized"}

    run(main())


def test_raw_http_param_encodings_and_unknown_method():
    async def main():
        async with FakeBotAPI() as api:
            root = f"{api.url}/bot{api.token}"
            async with httpx.AsyncClient() as http:
                r = await http.post(f"{root}/fooBar")
                assert r.status_code == 404
                assert r.json() == {"ok": False, "error_code": 404, "description": "Not Found"}
                r = await http.get(f"{root}/pinChatMessage?chat_id=5&message_id=1")
                assert r.json() == {"ok": True, "result": True}
                r = await http.get(f"{root}/sendmessage", params={"chat_id": "5", "text": "q"})
                assert r.json()["result"]["text"] == "q"
                r = await http.post(f"{root}/sendMessage", json={"chat_id": 5, "text": "json"})
                assert r.json()["result"]["message_id"] == 2
                r = await http.post(
                    f"{root}/sendMessage",
                    data={
                        "chat_id": "5",
                        "text": "form",
                        "reply_markup": json.dumps({"inline_keyboard": [[{"text": "b", "callback_data": "d"}]]}),
                    },
                )
                assert r.json()["result"]["reply_markup"]["inline_keyboard"][0][0]["text"] == "b"
                r = await http.post(
                    f"{root}/sendMessage",
                    data={"chat_id": "5", "text": "mp"},
                    files={"thumbnail": ("a.jpg", b"xx", "image/jpeg")},
                )
                assert r.json()["ok"]
                r = await http.get(f"{api.url}/file/bot{api.token}/documents/none.txt")
                assert r.status_code == 404
            calls = api.calls_of("sendMessage")
            assert [c.params["text"] for c in calls] == ["q", "json", "form", "mp"]
            assert calls[2].params["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "d"
            assert calls[3].params["thumbnail"].data == b"xx"
            assert api.calls_of("pinChatMessage")[0].params == {"chat_id": 5, "message_id": 1}

    run(main())


def test_edit_delete_and_not_modified():
    async def main():
        async with Served() as (api, bot):
            kb = InlineKeyboardMarkup([[InlineKeyboardButton("b", callback_data="1")]])
            msg = await bot.send_message(1001, "v1", reply_markup=kb)
            edited = await bot.edit_message_text("<b>v2</b>", 1001, msg.message_id, parse_mode="HTML", reply_markup=kb)
            assert edited.text == "v2" and edited.edit_date is not None
            with pytest.raises(BadRequest, match="Message is not modified"):
                await bot.edit_message_text("<b>v2</b>", 1001, msg.message_id, parse_mode="HTML", reply_markup=kb)
            with pytest.raises(BadRequest, match="Message to edit not found"):
                await bot.edit_message_text("x", 1001, 999)
            with pytest.raises(BadRequest, match="Can't parse entities"):
                await bot.edit_message_text("<b>x", 1001, msg.message_id, parse_mode="HTML")
            cleared = await bot.edit_message_reply_markup(1001, msg.message_id, reply_markup=None)
            assert cleared.reply_markup is None
            with pytest.raises(BadRequest, match="Message is not modified"):
                await bot.edit_message_reply_markup(1001, msg.message_id, reply_markup=None)
            assert api.get_message(1001, msg.message_id)["text"] == "v2"
            assert await bot.delete_message(1001, msg.message_id)
            with pytest.raises(BadRequest, match="Message to delete not found"):
                await bot.delete_message(1001, msg.message_id)
            assert api.bot_messages(1001) == []

    run(main())


def test_inline_query_answer_validation():
    async def main():
        async with Served() as (api, bot):
            qid = api.push_inline_query("search words")["inline_query"]["id"]

            def article(i, text="<b>ok</b>"):
                return InlineQueryResultArticle(str(i), f"t{i}", InputTextMessageContent(text, parse_mode="HTML"))

            with pytest.raises(BadRequest, match="Results_too_much"):
                await bot.answer_inline_query(qid, [article(i) for i in range(51)])
            with pytest.raises(BadRequest, match="Can't parse entities"):
                await bot.answer_inline_query(qid, [article(1, "<b>broken")])
            with pytest.raises(BadRequest, match="Result_id_duplicate"):
                await bot.answer_inline_query(qid, [article(1), article(1)])
            assert await bot.answer_inline_query(qid, [article(i) for i in range(50)])
            with pytest.raises(BadRequest, match="Query is too old"):
                await bot.answer_inline_query("123", [article(1)])
            call = api.calls_of("answerInlineQuery", ok=True)[0]
            assert len(call.params["results"]) == 50

    run(main())


def test_commands_webhook_info_chat_action_and_get_chat():
    async def main():
        async with Served() as (api, bot):
            from telegram import BotCommand

            assert await bot.set_my_commands([BotCommand("start", "Start"), BotCommand("help", "Help")])
            assert [c.command for c in await bot.get_my_commands()] == ["start", "help"]
            assert api.commands()[1] == {"command": "help", "description": "Help"}
            with pytest.raises(BadRequest, match="Bot_command_invalid"):
                await bot.set_my_commands([BotCommand("Bad-Name", "x")])
            assert await bot.send_chat_action(1001, "typing")
            with pytest.raises(BadRequest):
                await bot.send_chat_action(1001, "dancing")
            api.push_message("hi", user_id=55, username="fiftyfive")
            chat = await bot.get_chat(55)
            assert chat.username == "fiftyfive" and chat.type == "private"
            info = await bot.get_webhook_info()
            assert info.url == "" and info.pending_update_count == 1
            assert await bot.delete_webhook(drop_pending_updates=True)
            assert (await bot.get_webhook_info()).pending_update_count == 0
            api.block_user(55)
            with pytest.raises(Forbidden, match="blocked"):
                await bot.send_message(55, "hello?")

    run(main())


def test_wait_for_claims_calls_in_order_and_times_out():
    async def main():
        async with Served() as (api, bot):
            await bot.send_message(1, "a")
            await bot.send_message(2, "b")
            first = await api.wait_for("sendMessage")
            second = await api.wait_for("sendMessage", lambda p: p["chat_id"] == 2)
            assert (first.params["text"], second.params["text"]) == ("a", "b")
            with pytest.raises(TimeoutError, match="recent calls"):
                await api.wait_for("sendMessage", timeout=0.2)

            async def later():
                await asyncio.sleep(0.2)
                await bot.send_message(3, "c")

            task = asyncio.create_task(later())
            third = await api.wait_for("sendMessage", timeout=5)
            await task
            assert third.result["text"] == "c"

    run(main())


# --------------------------------------------------------------------------- Application


def _build_app(api: FakeBotAPI) -> Application:
    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        kb = InlineKeyboardMarkup([[InlineKeyboardButton("More", callback_data="more:1")]])
        args = " ".join(context.args)
        await update.effective_message.reply_html(
            f"<b>Welcome</b>, {update.effective_user.first_name}! args={args}",
            reply_markup=kb,
        )

    async def button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        await query.answer("loading")
        await query.edit_message_text(f"you pressed {query.data}")

    async def inline(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        q = update.inline_query.query
        await update.inline_query.answer(
            [InlineQueryResultArticle("1", q, InputTextMessageContent(f"<i>{q}</i>", parse_mode="HTML"))]
        )

    async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await update.effective_message.reply_text(update.effective_message.text.upper())

    app = api.application_builder().build()
    app.add_handler(CommandHandler("start", start))
    app.add_handler(CallbackQueryHandler(button))
    app.add_handler(InlineQueryHandler(inline))
    app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, echo))
    return app


async def _drive_application(api: FakeBotAPI, wait_for) -> None:
    api.push_command("/start hello")
    call = await wait_for("sendMessage")
    assert call.ok, call
    assert call.result["text"] == "Welcome, Test! args=hello"
    assert call.params["parse_mode"] == "HTML"

    api.push_callback_query("more:1")  # presses the button of the bot's latest message
    answer = await wait_for("answerCallbackQuery")
    assert answer.params["text"] == "loading"
    edit = await wait_for("editMessageText")
    assert edit.ok and edit.result["text"] == "you pressed more:1"
    assert edit.params["message_id"] == call.result["message_id"]

    api.push_inline_query("cats")
    inline = await wait_for("answerInlineQuery")
    assert inline.ok and inline.params["results"][0]["title"] == "cats"

    api.push_message("shout this", chat_type="group", user_id=77)
    echo = await wait_for("sendMessage")
    assert echo.result["text"] == "SHOUT THIS"
    assert echo.result["chat"]["type"] == "group"
    # in groups PTB quotes the user message; the fake resolves reply_parameters
    assert echo.result["reply_to_message"]["text"] == "shout this"


def test_application_polling_end_to_end():
    async def main():
        async with FakeBotAPI() as api:
            app = _build_app(api)
            async with app:
                await app.updater.start_polling(poll_interval=0, timeout=1)
                await app.start()
                try:
                    await _drive_application(api, api.wait_for)
                finally:
                    await app.updater.stop()
                    await app.stop()
            assert api.pending_updates() == []  # everything confirmed via offset
            assert api.calls_of("deleteWebhook")  # start_polling calls it first

    run(main())


def test_thread_mode_with_bot_in_another_loop():
    with FakeBotAPI.running_in_thread() as api:

        async def main():
            app = _build_app(api)
            async with app:
                await app.updater.start_polling(poll_interval=0, timeout=1)
                await app.start()
                try:
                    await _drive_application(api, api.wait_for)
                    # the sync waiter works from a plain thread as well
                    api.push_message("sync")
                    call = await asyncio.to_thread(api.wait_for_sync, "sendMessage", None, 10)
                    assert call.result["text"] == "SYNC"
                finally:
                    await app.updater.stop()
                    await app.stop()

        run(main())
        assert api.sent_messages()[-1] == "SYNC"


def test_concurrent_get_updates_conflict():
    async def main():
        async with Served() as (api, bot):
            # a second bot instance (PTB serialises getUpdates within one Bot)
            other = api.make_bot()
            first = asyncio.create_task(bot.get_updates(timeout=5))
            await asyncio.sleep(0.2)
            async with other:
                second = asyncio.create_task(other.get_updates(timeout=0))
                with pytest.raises(Conflict, match="terminated by other getUpdates"):
                    await first
                assert await second == ()

    run(main())


# --------------------------------------------------------------------------- webhook


def test_webhook_delivery_and_helper():
    async def main():
        received: list[tuple[str | None, dict]] = []

        async def handler(request: web.Request) -> web.Response:
            secret = request.headers.get("X-Telegram-Bot-Api-Secret-Token")
            received.append((secret, await request.json()))
            return web.Response(status=200 if secret == "s3cret" else 403)

        app = web.Application()
        app.router.add_post("/hook", handler)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]
        hook = f"http://127.0.0.1:{port}/hook"
        try:
            async with Served() as (api, bot):
                api.push_message("queued before webhook")
                assert await bot.set_webhook(hook, secret_token="s3cret")
                assert api.webhook["secret_token"] == "s3cret"
                with pytest.raises(Conflict, match="webhook is active"):
                    await bot.get_updates()
                for _ in range(100):
                    if received:
                        break
                    await asyncio.sleep(0.05)
                assert received[0][0] == "s3cret"
                assert received[0][1]["message"]["text"] == "queued before webhook"
                api.push_command("/start")
                for _ in range(100):
                    if len(received) == 2:
                        break
                    await asyncio.sleep(0.05)
                assert received[1][1]["message"]["text"] == "/start"
                info = await bot.get_webhook_info()
                assert info.url == hook and info.pending_update_count == 0

                upd = api.push_message("manual", enqueue=False)
                assert await api.post_update_to_webhook(hook, upd, "s3cret") == 200
                assert await api.post_update_to_webhook(hook, upd, "wrong") == 403
                assert await api.post_update_to_webhook(None, upd) == 200  # registered secret
                assert await bot.delete_webhook()
                assert await bot.get_updates(timeout=0) == ()
        finally:
            await runner.cleanup()

    run(main())
