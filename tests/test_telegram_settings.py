"""Settings validation (one clear line naming the setting) and the no-token start-up."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.settings import SAMPLE_CORPUS, Settings, SettingsError, load_settings

ROOT = Path(__file__).resolve().parent.parent


def python_m_bot(*args: str, env: dict[str, str] | None = None, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("BOT_")}
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=cwd,
        env={**clean, "NO_COLOR": "1", "PYTHONPATH": str(ROOT), **(env or {})},
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_defaults(clean_env):
    s = load_settings()
    assert s.token is None and s.admin_ids == [] and s.results == 3
    assert s.api_url == "https://api.telegram.org" and s.webhook_url is None
    assert s.webhook_listen == "0.0.0.0" and s.webhook_port == 8443


@pytest.mark.parametrize("raw, ids", [("123,456", [123, 456]), ("[123, 456]", [123, 456]), (" 7 ", [7]), ("", [])])
def test_admin_ids_forms(clean_env, raw, ids):
    clean_env.setenv("BOT_ADMIN_IDS", raw)
    assert load_settings().admin_ids == ids


@pytest.mark.parametrize("raw", ["alice", "123,bob", "[1, x]", "1.5"])
def test_bad_admin_ids_is_one_line_naming_the_setting(clean_env, raw):
    clean_env.setenv("BOT_ADMIN_IDS", raw)
    with pytest.raises(SettingsError) as e:
        load_settings()
    message = str(e.value)
    assert "\n" not in message and "BOT_ADMIN_IDS" in message and "123,456" in message


def test_webhook_url_needs_secret(clean_env):
    clean_env.setenv("BOT_WEBHOOK_URL", "https://bot.example.com/hook")
    with pytest.raises(SettingsError, match="BOT_WEBHOOK_SECRET is required"):
        load_settings()
    clean_env.setenv("BOT_WEBHOOK_SECRET", "s3cret")
    s = load_settings()
    assert s.webhook_path == "hook" and s.webhook_secret.get_secret_value() == "s3cret"


def test_bad_values_name_their_variables_and_hide_secrets(clean_env):
    clean_env.setenv("BOT_WEBHOOK_SECRET", "has spaces and / slashes")
    clean_env.setenv("BOT_RESULTS", "50")
    clean_env.setenv("BOT_API_URL", "api.telegram.org")
    with pytest.raises(SettingsError) as e:
        load_settings()
    message = str(e.value)
    assert "BOT_WEBHOOK_SECRET" in message and "BOT_RESULTS" in message and "BOT_API_URL" in message
    assert "has spaces" not in message and "\n" not in message


def test_env_file_is_read(clean_env, tmp_path):
    (tmp_path / ".env").write_text("BOT_TOKEN=123:abc\nBOT_ADMIN_IDS=5,6\nBOT_API_URL=http://localhost:8081/\n")
    s = Settings()
    assert s.token.get_secret_value() == "123:abc" and s.admin_ids == [5, 6]
    assert s.api_url == "http://localhost:8081"
    assert "123:abc" not in repr(s)


def test_no_token_explains_and_opens_console_chat(tmp_path):
    out = python_m_bot(cwd=tmp_path, env={"BOT_CORPUS_DIR": str(SAMPLE_CORPUS)})
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert "@BotFather" in lines[0] and "/newbot" in lines[0]
    assert "BOT_TOKEN" in lines[1]
    assert lines[2].startswith("Ask about 1 article(s)")  # then the console chat, which ends on EOF


def test_run_without_token_fails_clearly(tmp_path):
    out = python_m_bot("run", cwd=tmp_path)
    assert out.returncode == 2 and "BOT_TOKEN is not set" in out.stderr
    assert "Traceback" not in out.stderr


def test_run_with_bad_setting_is_one_line(tmp_path):
    out = python_m_bot("run", cwd=tmp_path, env={"BOT_TOKEN": "1:x", "BOT_ADMIN_IDS": "alice"})
    assert out.returncode == 2
    assert out.stderr.strip().count("\n") == 0 and "BOT_ADMIN_IDS" in out.stderr
