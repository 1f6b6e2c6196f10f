"""`python -m bot run` as a real process against the fake server: serves, reloads on SIGHUP,
stops cleanly on SIGTERM, and keeps the token out of its output even when Telegram rejects it."""

from __future__ import annotations

import itertools
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.fakebotapi import FakeBotAPI

ROOT = Path(__file__).resolve().parent.parent


def start_bot(api: FakeBotAPI, corpus: Path, cwd: Path) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BOT_")}
    env.update(
        BOT_TOKEN=api.token, BOT_API_URL=api.url, BOT_CORPUS_DIR=str(corpus), BOT_ADMIN_IDS="4242",
        PYTHONPATH=str(ROOT), BOT_LOG_LEVEL="DEBUG",
    )
    return subprocess.Popen(
        [sys.executable, "-m", "bot", "run"], cwd=cwd, env=env, stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


def test_run_serves_reloads_on_sighup_and_stops_on_sigterm(corpus_dir, tmp_path):
    with FakeBotAPI.running_in_thread() as api:
        proc = start_bot(api, corpus_dir, tmp_path)
        try:
            api.wait_for_sync("setMyCommands", timeout=30)
            api.push_message("who approved the road maps?")
            assert "road maps" in api.wait_for_sync("sendMessage", ok=True, timeout=15).result["text"]

            (corpus_dir / "solar.txt").write_text("Title: Solar farms\n\nSolar panels cover the old airfield.\n")
            proc.send_signal(signal.SIGHUP)
            deadline = time.monotonic() + 20
            for user in itertools.count(5000):  # the old index answers until the new one is in
                api.push_message("what covers the old airfield?", user_id=user)
                text = api.wait_for_sync("sendMessage", ok=True, timeout=15).result["text"]
                if "Solar panels" in text:
                    break
                assert time.monotonic() < deadline, text
                time.sleep(0.3)

            proc.send_signal(signal.SIGTERM)
            out, err = proc.communicate(timeout=20)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
    assert proc.returncode == 0, err
    assert "Traceback" not in err
    assert "reloaded" in err and "stopping" in err
    assert "who approved" not in err and "old airfield" not in err  # DEBUG logs, yet no user text
    assert api.token not in out + err and "/bot<redacted>/" in err  # httpx logs at DEBUG, redacted


def test_rejected_token_is_one_line_without_the_token(corpus_dir, tmp_path):
    with FakeBotAPI.running_in_thread() as api:
        api.fail_next("getMe", code=401, times=5)
        proc = start_bot(api, corpus_dir, tmp_path)
        out, err = proc.communicate(timeout=60)
    assert proc.returncode == 1
    assert "rejected" in err and api.token not in out + err and "Traceback" not in err


def test_empty_corpus_stops_start_up_with_one_line(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    with FakeBotAPI.running_in_thread() as api:
        proc = start_bot(api, empty, tmp_path)
        _out, err = proc.communicate(timeout=60)
    assert proc.returncode == 1
    assert "cannot start: no article could be loaded" in err and "Traceback" not in err
