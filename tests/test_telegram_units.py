"""The Telegram layer's helpers that need no server: upload names, limits, redaction."""

from __future__ import annotations

import logging
import os

import pytest

from bot.telegram.guard import Metrics, QuestionLimiter, RedactingFilter, install_redaction
from bot.telegram.uploads import safe_name, save_upload


@pytest.mark.parametrize(
    "raw, safe",
    [
        ("../../etc/passwd.txt", "passwd.txt"),
        ("..\\..\\win.md", "win.md"),
        (".env.txt", "env.txt"),
        ("Пресс релиз (1).MD", "Пресс релиз (1).md"),
        ("...", "upload.txt"),
        (None, "upload.txt"),
        ("a b/c d.json", "c d.json"),
    ],
)
def test_safe_name(raw, safe):
    assert safe_name(raw) == safe


def test_save_upload_never_overwrites(tmp_path):
    first = save_upload(tmp_path, "../x.txt", b"one")
    second = save_upload(tmp_path, "x.txt", b"two")
    third = save_upload(tmp_path, "x.txt", b"three")
    assert [p.name for p in (first, second, third)] == ["x.txt", "x-1.txt", "x-2.txt"]
    assert first.read_bytes() == b"one" and third.read_bytes() == b"three"
    assert sorted(os.listdir(tmp_path)) == ["x-1.txt", "x-2.txt", "x.txt"]  # no temp files left


def test_question_limiter_bursts_then_refills():
    now = [0.0]
    limiter = QuestionLimiter(per_minute=6, burst=2, clock=lambda: now[0])
    assert limiter.check(1)[0] and limiter.check(1)[0]
    allowed, warn, wait = limiter.check(1)
    assert not allowed and warn and wait == pytest.approx(10)
    assert limiter.check(1)[:2] == (False, False)  # warned once per spell
    assert limiter.check(2)[0]  # others are not affected
    now[0] = 10.0
    assert limiter.check(1)[0]


def test_metrics_percentiles():
    m = Metrics()
    for ms in range(1, 101):
        m.record(ms / 1000)
    assert m.questions == 100 and m.percentile(50) == 0.05 and m.percentile(95) == 0.095


def test_redacting_filter_covers_message_args_and_traceback():
    flt = RedactingFilter(["123:SECRET"])
    try:
        raise ValueError("bad url https://api/bot123:SECRET/getMe")
    except ValueError:
        import sys

        record = logging.LogRecord(
            "httpx", logging.INFO, __file__, 1, "POST %s %s", ("https://api/bot123:SECRET/x", 1), sys.exc_info()
        )
    flt.filter(record)
    assert "123:SECRET" not in record.getMessage() and "<redacted>" in record.getMessage()
    assert "123:SECRET" not in record.exc_text


def test_install_redaction_reaches_child_loggers(caplog):
    install_redaction("999:CHILDSECRET")
    caplog.set_level(logging.DEBUG)
    logging.getLogger("telegram.ext.Updater").warning("token %s", "999:CHILDSECRET")
    assert "999:CHILDSECRET" not in caplog.text and "<redacted>" in caplog.text
