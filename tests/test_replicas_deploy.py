"""The compose file and the proxy configuration agree with the bot's settings (no Docker engine here: they
are parsed and cross-checked, not run)."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

import yaml

from bot.settings import Settings

ROOT = Path(__file__).resolve().parent.parent


def test_compose_runs_redis_with_aof_replicas_and_a_tls_proxy():
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    services = compose["services"]
    assert set(services) == {"redis", "bot", "caddy"}
    assert "--appendonly" in services["redis"]["command"] and "yes" in services["redis"]["command"]
    assert "redis-data:/data" in services["redis"]["volumes"]
    bot = services["bot"]
    assert bot["deploy"]["replicas"] == "${BOT_REPLICAS:-3}"
    env = bot["environment"]
    assert env["BOT_REDIS_URL"] == "redis://redis:6379/0"
    assert env["BOT_INDEX_DIR"] == "/data/index" and "index:/data/index" in bot["volumes"]
    grace = float(bot["stop_grace_period"].removesuffix("s"))
    assert grace >= Settings(_env_file=None).stop_drain_seconds + 3  # room to answer, hand back the rest, exit
    assert {"80:80", "443:443"} <= set(services["caddy"]["ports"])
    mounted = [v for v in services["caddy"]["volumes"] if v.endswith(":/etc/caddy/Caddyfile:ro")]
    assert mounted and (ROOT / mounted[0].split(":")[0]).is_file()

    # the settings a replica gets are valid, and the proxy forwards exactly the webhook's path to its port
    url = env["BOT_WEBHOOK_URL"].replace("${BOT_DOMAIN:?set BOT_DOMAIN in .env}", "bot.example.org")
    settings = Settings(
        _env_file=None, token="123:abc", webhook_url=url, webhook_secret="s3cret", redis_url=env["BOT_REDIS_URL"],
        webhook_port=int(env["BOT_WEBHOOK_PORT"]), webhook_listen=env["BOT_WEBHOOK_LISTEN"],
    )  # fmt: skip
    caddy = (ROOT / "deploy" / "Caddyfile").read_text()
    assert re.search(rf"path {re.escape(urlsplit(settings.webhook_url or '').path)}\s", caddy)
    assert "name bot" in caddy and f"port {settings.webhook_port}" in caddy
    assert caddy.count("{") == caddy.count("}")
    assert "lb_try_duration" in caddy  # a replica that is down is skipped, not answered with a 502
