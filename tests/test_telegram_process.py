"""`python -m bot run` as a real process against the fake server: serves, reloads on SIGHUP,
stops cleanly on SIGTERM, and keeps the token out of its output even when Telegram rejects it."""

from __future__ import annotations

import asyncio
import itertools
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.fakebotapi import FakeBotAPI
from tests.test_telegram_webhook import chunks, free_port, post

ROOT = Path(__file__).resolve().parent.parent


def start_bot(api: FakeBotAPI, corpus: Path, cwd: Path, output=subprocess.PIPE, **settings: str) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BOT_")}
    env.update(
        BOT_TOKEN=api.token,
        BOT_API_URL=api.url,
        BOT_CORPUS_DIR=str(corpus),
        BOT_ADMIN_IDS="4242",
        PYTHONPATH=str(ROOT),
        BOT_LOG_LEVEL="DEBUG",
    )
    env.update({f"BOT_{k.upper()}": v for k, v in settings.items()})
    return subprocess.Popen(
        [sys.executable, "-m", "bot", "run"],
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=output,
        stderr=output,
        text=True,
    )


def test_run_serves_reloads_on_sighup_and_stops_on_sigterm(corpus_dir, tmp_path):
    with FakeBotAPI.running_in_thread() as api:
        proc = start_bot(api, corpus_dir, tmp_path)
        try:
            api.wait_for_sync("setMyCommands", timeout=60)
            api.push_message("who approved the road maps?")
            assert "road maps" in api.wait_for_sync("sendMessage", ok=True, timeout=60).result["text"]

            (corpus_dir / "solar.txt").write_text("Title: Solar farms\n\nSolar panels cover the old airfield.\n")
            proc.send_signal(signal.SIGHUP)
            deadline = time.monotonic() + 60
            for user in itertools.count(5000):  # the old index answers until the new one is in
                api.push_message("what covers the old airfield?", user_id=user)
                text = api.wait_for_sync("sendMessage", ok=True, timeout=60).result["text"]
                if "Solar panels" in text:
                    break
                assert time.monotonic() < deadline, text
                time.sleep(0.3)

            proc.send_signal(signal.SIGTERM)
            out, err = proc.communicate(timeout=60)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
    assert proc.returncode == 0, err
    assert "Traceback" not in err
    assert "reloaded" in err and "stopping" in err
    assert "who approved" not in err and "old airfield" not in err  # DEBUG logs, yet no user text
    assert api.token not in out + err  # DEBUG logs included


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


def memory_kb(pid: int) -> dict[str, int]:
    """VmRSS (now) and VmHWM (peak) of a process, from /proc."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            fields[name] = int(value.split()[0])
    return fields


def test_webhook_refuses_floods_of_big_bodies_without_growing(corpus_dir, tmp_path):
    """Concurrent 10 MB posts without the secret (and with it, but oversized) are refused unread.

    python-telegram-bot's server read them whole: 20 took the bot from 88 to 399 MB. Here memory grows by
    the connections' socket buffers (and at most BOT_WEBHOOK_MAX_BODY_BYTES per request with the secret).
    Every refusal is counted from the bot's own log (at DEBUG each is a line): a client still sending when
    the server closes may see a reset instead of the status, more often the busier the machine.
    """
    port = free_port()
    url = f"http://127.0.0.1:{port}/tg/hook"
    big = b"{" + b" " * (10 * 1024 * 1024)

    async def flood() -> list:
        posts = [post(url, big, secret=None) for _ in range(20)]
        posts += [post(url, big, secret="wrong") for _ in range(10)]
        posts += [post(url, big, secret="s3cret") for _ in range(10)]  # declared too large
        posts += [post(url, chunks(10 * 1024 * 1024), secret="s3cret") for _ in range(10)]  # undeclared size
        return await asyncio.gather(*posts)

    with FakeBotAPI.running_in_thread() as api, open(tmp_path / "bot.log", "w") as log:
        proc = start_bot(
            api,
            corpus_dir,
            tmp_path,
            output=log,
            webhook_url=url,
            webhook_secret="s3cret",
            webhook_listen="127.0.0.1",
            webhook_port=str(port),
        )
        try:
            api.wait_for_sync("setWebhook", timeout=60)
            api.push_message("who approved the road maps?", user_id=3001)
            api.wait_for_sync("sendMessage", ok=True, timeout=60)  # warmed up: one update handled
            peaks = [memory_kb(proc.pid)["VmHWM"]]
            outcomes = []
            for _ in range(2):
                outcomes += asyncio.run(flood())
                peaks.append(memory_kb(proc.pid)["VmHWM"])
            api.push_message("who approved the road maps?", user_id=3002)
            assert "road maps" in api.wait_for_sync("sendMessage", ok=True, timeout=60).result["text"]
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=60)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    assert set(outcomes) <= {403, 413, "dropped"} and {403, 413} & set(outcomes)  # never accepted
    logged = (tmp_path / "bot.log").read_text()
    assert logged.count("webhook request refused with 403") == 60  # each without (or with a wrong) secret
    assert logged.count("webhook request refused with 413") == 40  # each too large, declared or not
    first, second = (peaks[1] - peaks[0]) / 1024, (peaks[2] - peaks[1]) / 1024
    assert first + second < 30, f"peak memory grew by {first:.1f} MB, then {second:.1f} MB (1 GB was posted)"
    assert proc.returncode == 0
