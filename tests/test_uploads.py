"""Admin uploads: where they may be saved, and under which name."""

from __future__ import annotations

from bot.settings import SAMPLE_CORPUS
from bot.telegram.uploads import upload_refusal
from tests.conftest import ADMIN_ID, running_bot


def test_uploads_into_the_bundled_sample_are_refused(tmp_path):
    assert "bundled sample" in (upload_refusal(SAMPLE_CORPUS) or "")
    assert "BOT_CORPUS_DIR" in (upload_refusal(SAMPLE_CORPUS / "000_d4a8a0365c09b999.txt") or "")
    single = tmp_path / "one.txt"
    single.write_text("Title: One\n\nText.\n")
    assert "single file" in (upload_refusal(single) or "")
    assert upload_refusal(tmp_path) is None
    assert upload_refusal(tmp_path / "new" / "folder") is None  # created on the first upload


async def test_admin_upload_to_the_sample_corpus_says_why_and_writes_nothing(fake_api, clean_env):
    before = sorted(p.name for p in SAMPLE_CORPUS.iterdir())
    async with running_bot(fake_api, SAMPLE_CORPUS):
        fake_api.push_document("harbour.txt", b"Title: Harbour\n\nTwo new cranes.\n", user_id=ADMIN_ID)
        call = await fake_api.wait_for("sendMessage", ok=True, timeout=20)
    text = call.result["text"]
    assert text.startswith("Not added: the bot is answering from the bundled sample corpus")
    assert "BOT_CORPUS_DIR" in text
    assert sorted(p.name for p in SAMPLE_CORPUS.iterdir()) == before
