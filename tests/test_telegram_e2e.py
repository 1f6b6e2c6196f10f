"""End-to-end: the real Application, over HTTP, against the fake Bot API server.

Each test starts the bot on a temp copy of corpus/ (plus articles a test writes) and talks to
it only through the fake server: pushed updates in, recorded Bot API calls out. The fake parses
every HTML message like Telegram does, so a call that succeeded (`ok=True`) is valid HTML
within 4096 characters.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from pathlib import Path

import pytest

from tests.conftest import ADMIN_ID, USER_ID, index_ahead, running_bot, wait_until

SAMPLE_TITLE = "Russia’s failure? Integration road maps still not signed"


def write_article(folder: Path, name: str, title: str, paragraphs: list[str], **meta: str) -> Path:
    header = {"Title": title, **{k.capitalize(): v for k, v in meta.items()}}
    text = "\n".join(f"{k}: {v}" for k, v in header.items()) + "\n\n" + "\n\n".join(paragraphs) + "\n"
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def wind_paragraphs(n: int = 30) -> list[str]:
    """Paragraphs of ~450 characters, each its own passage, all about wind turbines."""
    out = []
    for i in range(1, n + 1):
        out.append(
            f"Section {i}. The wind turbines near village number {i} produced {i * 7} megawatts last winter. "
            f"Engineers from the regional grid company inspected the blades of turbine {i} in spring. "
            f"Residents said the noise of the rotors was lower than they had feared at first. "
            f"The council plans another {i + 2} masts by the end of the decade, subject to funding. "
            f"Critics of the scheme wrote {i * 3} letters to the local newspaper this year alone."
        )
    return out


@pytest.fixture
def wind_corpus(corpus_dir: Path) -> Path:
    write_article(
        corpus_dir,
        "wind.txt",
        "Wind <turbines> & the village grid",
        wind_paragraphs(),
        author="Ann O'Neil",
        source="The Daily <Test> & Co",
        url="https://example.com/wind?a=1&b=2",
        date="2024-05-01",
    )
    index_ahead(corpus_dir)  # the bots below load it rather than build it in a child process
    return corpus_dir


def buttons(markup: dict | None) -> list[dict]:
    return [b for row in (markup or {}).get("inline_keyboard", []) for b in row]


def entity_types(message: dict) -> set[str]:
    return {e["type"] for e in message.get("entities", [])}


# --- asking ---------------------------------------------------------------------------------------


async def test_question_gets_sample_passage_with_attribution(bot):
    api = bot.api
    api.push_message("Who approved the road maps on the power sector?")
    call = await api.wait_for("sendMessage", ok=True)
    sent = call.result  # as the user sees it, parsed by the fake like Telegram would
    assert call.params["parse_mode"] == "HTML"
    assert sent["text"].startswith("1. According to him, two road maps")
    assert f"{SAMPLE_TITLE} — Vitaut Siuchyk, Belsat TV · ¶ 4 of 6" in sent["text"]
    assert {"bold", "italic"} <= entity_types(sent)  # matched words bold, best sentence marked
    bold = [sent["text"][e["offset"] : e["offset"] + e["length"]] for e in sent["entities"] if e["type"] == "bold"]
    assert "road maps" in bold and "approved" in bold
    labels = [b["text"] for b in buttons(sent.get("reply_markup"))]
    assert "📄 Full article" in labels
    assert all(len(b["callback_data"].encode()) <= 64 for b in buttons(sent.get("reply_markup")))


async def test_escaping_and_links(fake_api, wind_corpus, clean_env):
    async with running_bot(fake_api, wind_corpus):
        fake_api.push_message("How many megawatts did the wind turbines in village 7 produce?")
        call = await fake_api.wait_for("sendMessage", ok=True)
    text = call.result["text"]
    assert "Wind <turbines> & the village grid — Ann O'Neil, The Daily <Test> & Co, 2024-05-01" in text
    links = [e for e in call.result["entities"] if e["type"] == "text_link"]
    assert links and links[0]["url"] == "https://example.com/wind?a=1&b=2"
    assert "&lt;turbines&gt; &amp; the village grid" in call.params["text"]


async def test_nothing_found_is_helpful(bot):
    bot.api.push_message("quantum chromodynamics")
    call = await bot.api.wait_for("sendMessage", ok=True)
    assert "found nothing" in call.result["text"]
    assert SAMPLE_TITLE in call.result["text"]
    assert "/sources" in call.result["text"]


async def test_more_pages_and_full_article_buttons(fake_api, wind_corpus, clean_env):
    api = fake_api
    async with running_bot(api, wind_corpus):
        api.push_message("wind turbines megawatts")
        first = await api.wait_for("sendMessage", ok=True)
        assert first.result["text"].startswith("1. ")
        more = next(b for b in buttons(first.result["reply_markup"]) if b["text"].startswith("More"))
        assert more["callback_data"].startswith("m:") and "wind" not in more["callback_data"]

        api.push_callback_query(more["callback_data"], message=first.result)
        edit = await api.wait_for("editMessageText", ok=True)
        assert edit.result["text"].startswith("4. ")
        labels = [b["text"] for b in buttons(edit.result["reply_markup"])]
        assert "‹ Back" in labels and "More ›" in labels
        await api.wait_for("answerCallbackQuery", ok=True)

        full = next(b for b in buttons(first.result["reply_markup"]) if b["callback_data"].startswith("a:"))
        since = len(api.calls)
        api.push_callback_query(full["callback_data"], message=first.result)
        await api.wait_for("answerCallbackQuery", ok=True, since=since)
        for _ in range(100):  # the article arrives as several messages
            parts = [c for c in api.calls_of("sendMessage", ok=True) if c.index >= since]
            if parts and "Section 30." in parts[-1].result["text"]:
                break
            await asyncio.sleep(0.05)
    texts = [c.result["text"] for c in parts]
    assert len(texts) >= 3  # ~14 000 characters do not fit one message
    assert texts[0].startswith("Wind <turbines> & the village grid")
    paragraphs = wind_paragraphs()
    for p in paragraphs:  # split at paragraph boundaries: each paragraph whole, in one message
        assert sum(p in t for t in texts) == 1
    assert all(len(t) <= 4096 for t in texts)


async def test_expired_answer_key_is_explained(bot):
    bot.api.push_callback_query("m:ffffffffffff:3")
    call = await bot.api.wait_for("answerCallbackQuery", ok=True)
    assert "expired" in call.params["text"]


# --- inline mode ----------------------------------------------------------------------------------


async def test_inline_query_lists_passages_and_pages(fake_api, wind_corpus, clean_env):
    api = fake_api
    async with running_bot(api, wind_corpus):
        api.push_inline_query("wind turbines blades")
        call = await api.wait_for("answerInlineQuery", ok=True)
        results = call.params["results"]
        assert len(results) == 10 and call.params["next_offset"] == "10"
        r = results[0]
        assert r["type"] == "article" and r["title"] == "Wind <turbines> & the village grid"
        assert "turbine" in r["description"]
        content = r["input_message_content"]
        assert content["parse_mode"] == "HTML"
        assert "· ¶ " in content["message_text"] and "The Daily &lt;Test&gt; &amp; Co" in content["message_text"]

        api.push_inline_query("wind turbines blades", offset="10")
        page2 = await api.wait_for("answerInlineQuery", ok=True)
        ids = {x["id"] for x in results} & {x["id"] for x in page2.params["results"]}
        assert page2.params["results"] and not ids


# --- groups -----------------------------------------------------------------------------------------


async def test_groups_ask_mention_reply_and_ignore_chatter(bot):
    api = bot.api
    group = api.default_group_id
    api.push_message("lovely weather today", chat_type="group")
    api.push_command("/ask who approved the road maps?", chat_type="group")
    call = await api.wait_for("sendMessage", ok=True)
    assert call.params["chat_id"] == group
    assert "road maps" in call.result["text"] and "¶ 4 of 6" in call.result["text"]

    mention = "@corpus_test_bot"
    api.push_message(
        f"{mention} what did Syamashka say about the tax maneuver?",
        chat_type="group",
        entities=[{"type": "mention", "offset": 0, "length": len(mention)}],
    )
    call = await api.wait_for("sendMessage", ok=True)
    assert "tax maneuver" in call.result["text"]

    api.push_message("and what about the gas price?", chat_type="group", reply_to_message=call.result)
    call = await api.wait_for("sendMessage", ok=True)
    assert "gas price" in call.result["text"]
    # the chatter came first in the same chat, so it was handled (silently) before the first answer
    assert len(api.calls_of("sendMessage")) == 3


# --- commands, hints ----------------------------------------------------------------------------------


async def test_start_help_sources_and_commands(bot):
    api = bot.api
    assert [c["command"] for c in api.commands()] == ["start", "ask", "sources", "help"]
    api.push_command("/start")
    start = await api.wait_for("sendMessage", ok=True)
    assert "1 news article" in start.result["text"] and SAMPLE_TITLE in start.result["text"]
    assert "Try asking" in start.result["text"]
    api.push_command("/help")
    assert "/ask" in (await api.wait_for("sendMessage", ok=True)).result["text"]
    api.push_command("/sources")
    sources = await api.wait_for("sendMessage", ok=True)
    assert "1. " + SAMPLE_TITLE in sources.result["text"]


async def test_sources_are_paged(fake_api, corpus_dir, clean_env):
    for i in range(12):
        write_article(
            corpus_dir,
            f"n{i:02d}.txt",
            f"Story number {i}",
            [f"Body of story {i} about topic{i}."],
            url=f"https://example.com/{i}",
            date=f"2024-01-{i + 1:02d}",
        )
    index_ahead(corpus_dir)
    async with running_bot(fake_api, corpus_dir):
        fake_api.push_command("/sources")
        page1 = await fake_api.wait_for("sendMessage", ok=True)
        assert "page 1 of 2" in page1.result["text"]
        assert any(e["type"] == "text_link" for e in page1.result["entities"])
        nxt = buttons(page1.result["reply_markup"])[0]
        fake_api.push_callback_query(nxt["callback_data"], message=page1.result)
        page2 = await fake_api.wait_for("editMessageText", ok=True)
        assert "page 2 of 2" in page2.result["text"] and "13. " in page2.result["text"]


async def test_non_text_messages_get_a_hint(bot):
    bot.api.push_photo()
    assert "only read text" in (await bot.api.wait_for("sendMessage", ok=True)).result["text"]
    bot.api.push_sticker()
    assert "only read text" in (await bot.api.wait_for("sendMessage", ok=True)).result["text"]


# --- admins -------------------------------------------------------------------------------------------


async def test_admin_reload_swaps_in_new_articles(corpus_bot):
    bot = corpus_bot
    api = bot.api
    write_article(bot.settings.corpus_dir, "solar.txt", "Solar farms", ["Solar panels cover the old airfield."])
    (bot.settings.corpus_dir / "broken.json").write_text("{not json", encoding="utf-8")
    api.push_command("/reload", user_id=ADMIN_ID)
    notice = await api.wait_for("sendMessage", ok=True)
    assert "Reloading" in notice.result["text"]
    done = await api.wait_for("editMessageText", ok=True, timeout=20)
    text = done.result["text"]
    assert "articles 1 → 2" in text and "passages 6 → 7" in text
    assert "broken.json" in text
    api.push_message("what covers the old airfield?")
    assert "Solar panels" in (await api.wait_for("sendMessage", ok=True)).result["text"]


async def test_failed_reload_keeps_old_index(corpus_bot):
    bot = corpus_bot
    api = bot.api
    for f in bot.settings.corpus_dir.iterdir():
        f.unlink()
    api.push_command("/reload", user_id=ADMIN_ID)
    await api.wait_for("sendMessage", ok=True)
    done = await api.wait_for("editMessageText", ok=True, timeout=20)
    assert "Reload failed" in done.result["text"] and "previous index (1 articles" in done.result["text"]
    api.push_message("who approved the road maps?")
    assert "road maps" in (await api.wait_for("sendMessage", ok=True)).result["text"]


async def test_non_admins_are_refused_and_logged(bot, caplog):
    api = bot.api
    caplog.set_level(logging.WARNING, logger="bot")
    for command in ("/reload", "/stats"):
        api.push_command(command, user_id=USER_ID)
        call = await api.wait_for("sendMessage", ok=True)
        assert "only the bot's admins" in call.result["text"]
    api.push_document("evil.txt", b"Title: Evil\n\nInjected text.", user_id=USER_ID)
    call = await api.wait_for("sendMessage", ok=True)
    assert "only the bot's admins" in call.result["text"]
    assert not (bot.settings.corpus_dir / "evil.txt").exists()
    refusals = [r.getMessage() for r in caplog.records if "refused" in r.getMessage()]
    assert len(refusals) == 3 and all(str(USER_ID) in r for r in refusals)


async def test_admin_upload_validates_saves_and_reloads(corpus_bot):
    bot = corpus_bot
    api = bot.api
    corpus = bot.settings.corpus_dir
    article = (
        "Title: Harbour <expansion>\nAuthor: Jo Smith\nSource: Port News\n\nThe harbour will get two new cranes.\n"
    )
    api.push_document("../../harbour.txt", article.encode(), user_id=ADMIN_ID)
    call = await api.wait_for("sendMessage", ok=True, timeout=20)
    text = call.result["text"]
    assert "Saved as harbour.txt" in text and "Harbour <expansion>" in text and "articles 1 → 2" in text
    assert (corpus / "harbour.txt").read_text(encoding="utf-8") == article
    assert not (corpus.parent.parent / "harbour.txt").exists()

    other = article.replace("two new cranes", "a ferry terminal").replace("expansion", "plans")
    api.push_document("harbour.txt", other.encode(), user_id=ADMIN_ID)
    call = await api.wait_for("sendMessage", ok=True, timeout=20)
    assert "Saved as harbour-1.txt" in call.result["text"]
    assert (corpus / "harbour.txt").read_text(encoding="utf-8") == article  # never overwritten

    api.push_document("bad.json", b'{"title": "x", ', user_id=ADMIN_ID)
    call = await api.wait_for("sendMessage", ok=True)
    assert call.result["text"].startswith("Not added: bad.json is not a valid article file")
    api.push_document("slides.pdf", b"%PDF-1.4", user_id=ADMIN_ID)
    assert "Not added" in (await api.wait_for("sendMessage", ok=True)).result["text"]
    assert sorted(p.name for p in corpus.iterdir()) == ["000_d4a8a0365c09b999.txt", "harbour-1.txt", "harbour.txt"]

    api.push_message("what will the harbour get?")
    assert "two new cranes" in (await api.wait_for("sendMessage", ok=True)).result["text"]


async def test_upload_size_limit(fake_api, corpus_dir, clean_env):
    index_ahead(corpus_dir)
    async with running_bot(fake_api, corpus_dir, max_upload_bytes=1000):
        fake_api.push_document("big.txt", b"Title: Big\n\n" + b"word " * 400, user_id=ADMIN_ID)
        call = await fake_api.wait_for("sendMessage", ok=True)
    assert "the limit is" in call.result["text"]
    assert not (corpus_dir / "big.txt").exists()


async def test_admin_stats(bot):
    api = bot.api
    api.push_message("road maps")
    await api.wait_for("sendMessage", ok=True)
    api.push_command("/stats", user_id=ADMIN_ID)
    text = (await api.wait_for("sendMessage", ok=True)).result["text"]
    for part in (
        "Articles: 1",
        "Passages: 6",
        "Vocabulary: ",
        "Index age: ",
        "Questions answered: 1",
        "p50 / p95: ",
        "Uptime: ",
    ):
        assert part in text


# --- robustness -----------------------------------------------------------------------------------------


async def test_429_on_send_message_still_delivers(bot):
    api = bot.api
    api.fail_next("sendMessage", code=429, retry_after=1)
    api.push_message("who approved the road maps?")
    call = await api.wait_for("sendMessage", ok=True, timeout=15)
    assert "road maps" in call.result["text"]
    outcomes = [c.status for c in api.calls_of("sendMessage")]
    assert outcomes == [429, 200]


async def test_per_user_flood_limit(fake_api, prebuilt_corpus, clean_env, caplog):
    api = fake_api
    caplog.set_level(logging.INFO)
    corpus, index = prebuilt_corpus
    async with running_bot(api, corpus, index_dir=index, user_burst=2, user_questions_per_minute=1):
        for _ in range(4):
            api.push_message("road maps")
        for _ in range(3):
            await api.wait_for("sendMessage", ok=True)
        await wait_until(lambda: sum("slowing down user" in r.getMessage() for r in caplog.records) == 2)
    texts = api.sent_messages()
    assert len(texts) == 3 and "slow down" in texts[2]  # the 4th question: no second warning


async def test_error_handler_reports_and_keeps_serving(bot, caplog, monkeypatch):
    api = bot.api
    engine = bot.library.engine
    real_ask = engine.ask
    calls = []

    def flaky(question, k=3, offset=0):
        calls.append(question)
        if len(calls) == 1:
            raise RuntimeError("index exploded")
        return real_ask(question, k, offset)

    monkeypatch.setattr(engine, "ask", flaky)
    caplog.set_level(logging.ERROR)
    api.push_message("road maps")
    call = await api.wait_for("sendMessage", ok=True)
    assert "something went wrong" in call.result["text"]
    logged = [r.getMessage() for r in caplog.records if r.name == "bot.telegram.errors"]
    assert any("RuntimeError" in m and "in flaky" in m for m in logged)  # what and where, not the text
    assert not any("road maps" in m for m in logged)
    api.push_message("road maps")
    assert "road maps" in (await api.wait_for("sendMessage", ok=True)).result["text"]


async def test_token_never_in_logs(fake_api, prebuilt_corpus, clean_env, caplog):
    caplog.set_level(logging.DEBUG)
    corpus, index = prebuilt_corpus
    async with running_bot(fake_api, corpus, index_dir=index):
        fake_api.push_message("road maps")
        await fake_api.wait_for("sendMessage", ok=True)
        # a library logging a request URL (as httpx did for each request) while the bot runs
        logging.getLogger("aiohttp.client").debug("POST %s", f"{fake_api.url}/bot{fake_api.token}/sendMessage")
    captured = caplog.text + "".join(str(r.args) for r in caplog.records)
    assert "/bot<redacted>/" in captured  # the URL was logged...
    assert fake_api.token not in captured  # ...without the token
    assert fake_api.token.split(":")[1] not in captured


# --- webhook ----------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def test_webhook_rejects_wrong_secret(fake_api, prebuilt_corpus, clean_env):
    api = fake_api
    port = free_port()
    url = f"http://127.0.0.1:{port}/tg/hook"
    corpus, index = prebuilt_corpus
    async with running_bot(
        api,
        corpus,
        index_dir=index,
        webhook_url=url,
        webhook_secret="s3cret_Token-1",
        webhook_listen="127.0.0.1",
        webhook_port=port,
    ):
        assert api.webhook["url"] == url and api.webhook["secret_token"] == "s3cret_Token-1"
        update = {
            "update_id": 9001,
            "message": {
                "message_id": 1,
                "date": 1700000000,
                "chat": {"id": USER_ID, "type": "private", "first_name": "Test"},
                "from": {"id": USER_ID, "is_bot": False, "first_name": "Test"},
                "text": "who approved the road maps?",
            },
        }
        assert await api.post_update_to_webhook(url, update, secret="wrong") == 403
        assert await api.post_update_to_webhook(url, update, secret=None) == 403
        assert not api.calls_of("sendMessage")  # refused before anything was accepted
        api.push_message("who approved the road maps?")  # delivered by the fake, with the secret
        call = await api.wait_for("sendMessage", ok=True)
        assert "road maps" in call.result["text"]
