"""The health check: the running bot's heartbeat, read by `python -m bot.health` as Docker's HEALTHCHECK does."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from bot.health import check
from tests.conftest import running_bot

ROOT = Path(__file__).resolve().parent.parent


def health(path: Path, *args: str, module: str = "bot.health") -> subprocess.CompletedProcess:
    env = {**os.environ, "BOT_HEARTBEAT_FILE": str(path), "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", *module.split(), *args], env=env, capture_output=True, text=True, timeout=60
    )


def test_check_reads_fresh_stale_missing_and_broken_heartbeats(tmp_path):
    beat = tmp_path / "hb.json"
    assert check(beat) == (False, check(beat)[1]) and "no heartbeat" in check(beat)[1]
    beat.write_text(json.dumps({"time": 1000.0, "pid": 7}))
    ok, why = check(beat, max_age=60, now=1010.0)
    assert ok and "10 s ago" in why and "pid 7" in why
    ok, why = check(beat, max_age=60, now=1100.0)
    assert not ok and "100 s ago" in why
    beat.write_text("{half")
    assert not check(beat)[0] and "unreadable" in check(beat)[1]


async def test_a_serving_bot_is_healthy_and_a_stopped_one_is_not(fake_api, corpus_dir, clean_env, tmp_path):
    beat = tmp_path / "run" / "heartbeat.json"
    async with running_bot(fake_api, corpus_dir, heartbeat_file=beat):
        out = await asyncio.to_thread(health, beat)
        assert out.returncode == 0, out.stderr
        assert out.stdout.startswith("serving: heartbeat") and str(os.getpid()) in out.stdout
        first = json.loads(beat.read_text())["time"]
        assert time.time() - first < 30
        cli = await asyncio.to_thread(health, beat, "--max-age", "30", module="bot health")
        assert cli.returncode == 0, cli.stderr
    out = health(beat)
    assert out.returncode == 1 and "no heartbeat" in out.stderr  # a stopped bot says so at once


async def test_a_dead_updater_lets_the_heartbeat_go_stale(fake_api, corpus_dir, clean_env, tmp_path):
    from bot.health import Heartbeat

    beat = tmp_path / "heartbeat.json"
    async with running_bot(fake_api, corpus_dir) as bot:
        service = Heartbeat(beat, interval=0.05)
        await service.start(bot.application)
        await asyncio.sleep(0.2)
        assert check(beat, max_age=1)[0]
        await bot.application.updater.stop()  # polling died
        await asyncio.sleep(0.3)
        assert not check(beat, max_age=0.2)[0]
        await service.stop()
    assert not beat.exists()


def test_health_without_a_heartbeat_setting_is_a_usage_error():
    env = {k: v for k, v in os.environ.items() if k != "BOT_HEARTBEAT_FILE"}
    out = subprocess.run([sys.executable, "-m", "bot.health"], env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 2 and "BOT_HEARTBEAT_FILE is not set" in out.stderr
