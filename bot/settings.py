"""All settings in one place: environment variables with the BOT_ prefix, or a `.env` file.

`load_settings()` is what the entry points call: it turns pydantic's multi-line validation report
into one line naming the environment variable, so a bad deployment says what to fix at once.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING, Annotated
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

if TYPE_CHECKING:
    from bot.search_settings import SearchSettings

ENV_PREFIX = "BOT_"
# The sample article shipped inside the package (read-only in site-packages): the corpus of last resort,
# so that `pip install . && corpus-bot ask ...` answers in any folder.
SAMPLE_CORPUS = Path(__file__).resolve().parent / "sample"
# Telegram's rule for X-Telegram-Bot-Api-Secret-Token.
_SECRET_TOKEN = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
# Fields whose values must never be echoed in an error message.
_SECRET_FIELDS = frozenset({"token", "webhook_secret", "redis_url"})  # a Redis URL may hold a password


def default_corpus_dir() -> Path:
    """./corpus when the current folder has one (a deployment; in a clone, the link to bot/sample/), else the
    sample installed with the package."""
    local = Path("corpus")
    return local if local.is_dir() else SAMPLE_CORPUS


def is_sample_corpus(path: Path) -> bool:
    resolved = Path(path).resolve()
    return resolved == SAMPLE_CORPUS or SAMPLE_CORPUS in resolved.parents


class SettingsError(Exception):
    """Settings that cannot be used; the message is one line naming the BOT_ variable(s)."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, env_file=".env", extra="ignore")

    token: SecretStr | None = Field(None, description="Bot token from @BotFather.")
    admin_ids: Annotated[list[int], NoDecode] = Field(
        default_factory=list, description="Telegram user ids allowed to reload and upload: `123,456` or `[123, 456]`."
    )
    corpus_dir: Path = Field(
        default_factory=default_corpus_dir,
        description="Folder of article files (default: ./corpus if that folder exists, else the bundled sample).",
    )
    index_dir: Path | None = Field(
        None, description="Where the persisted index lives (default: a folder per corpus under ~/.cache/corpus-bot)."
    )
    api_url: str = Field(
        "https://api.telegram.org",
        description="Root of the Bot API server; requests go to {api_url}/bot<token>/<method>, files to "
        "{api_url}/file/bot<token>/<path> (as for a self-hosted Bot API server).",
    )
    results: int = Field(3, ge=1, le=10, description="Passages per answer.")
    passage_chars: int = Field(800, ge=100, le=5000, description="Target passage size in characters.")

    # -- webhook: set webhook_url to receive updates by webhook instead of long polling -----------
    webhook_url: str | None = Field(
        None, description="Public HTTPS URL Telegram posts updates to; unset = long polling."
    )
    webhook_secret: SecretStr | None = Field(
        None, description="Secret token Telegram sends with each update (required with a webhook URL; A-Z a-z 0-9 _ -)."
    )
    webhook_listen: str = Field("0.0.0.0", description="Address the webhook server listens on.")
    webhook_port: int = Field(8443, ge=1, le=65535, description="Port the webhook server listens on.")
    webhook_max_body_bytes: int = Field(
        1024 * 1024,
        ge=16 * 1024,
        le=64 * 1024 * 1024,
        description="Largest update body the webhook reads; larger ones are refused (413) before they are read.",
    )
    webhook_max_connections: int = Field(
        40, ge=1, le=100, description="Connections Telegram may open to the webhook at once (setWebhook)."
    )

    # -- replicas: set redis_url to run several `python -m bot run` processes as one bot -------------
    redis_url: str | None = Field(
        None,
        description="Redis shared by replicas (redis://host:port/db, rediss:// for TLS): update stream, "
        "'More' keys, limits, index generations. Unset: everything stays in this process.",
    )

    # -- limits ----------------------------------------------------------------------------------
    max_upload_bytes: int = Field(
        10 * 1024 * 1024, ge=1, le=50 * 1024 * 1024, description="Largest article file an admin may upload."
    )
    user_questions_per_minute: float = Field(20, gt=0, description="Sustained questions per user per minute.")
    user_burst: int = Field(5, ge=1, description="Questions a user may send in a quick burst before 'slow down'.")
    send_retry_seconds: float = Field(
        60,
        gt=0,
        le=3600,
        description="How long a request to Telegram is retried (5xx, connection reset, timeout, 429 after its "
        "retry_after) before the answer is given up for lost (logged with the chat id).",
    )
    api_timeout: float = Field(
        25,
        ge=1,
        le=300,
        description="Seconds to wait for a Bot API reply before trying again; far above a slow reply, so an answer "
        "that is merely slow is waited for rather than sent twice.",
    )
    stop_drain_seconds: float = Field(
        5,
        ge=0,
        le=600,
        description="On SIGTERM/SIGINT, how long updates being handled may finish (a send still retrying is "
        "cut short); with Redis the unfinished ones go back to the stream for another replica. Keep it below the "
        "container's stop grace period (Docker's default: 10 s).",
    )
    concurrent_updates: int = Field(
        64, ge=1, le=4096, description="Updates handled at the same time (each chat's in order, one after another)."
    )
    overall_max_rate: float = Field(30, gt=0, description="Outgoing requests per second, all chats together.")
    group_max_rate: float = Field(20, gt=0, description="Outgoing messages per minute into one group.")
    log_level: str = Field("INFO", description="Logging level of `python -m bot run`.")
    heartbeat_file: Path | None = Field(
        None,
        description="File `run` refreshes every 15 s while it serves, for `corpus-bot health` and the Docker "
        "HEALTHCHECK (unset: no heartbeat).",
    )

    @field_validator("admin_ids", mode="before")
    @classmethod
    def _parse_ids(cls, v):
        if isinstance(v, (int, float)):
            v = [v]
        if isinstance(v, str):
            text = v.strip()
            try:
                v = (
                    json.loads(text)
                    if text.startswith("[")
                    else [x.strip() for x in re.split(r"[,;\s]+", text) if x.strip()]
                )
            except json.JSONDecodeError:
                raise ValueError("expected numeric Telegram user ids, as 123,456 or [123, 456]") from None
        if not isinstance(v, list):
            raise ValueError("expected numeric Telegram user ids, as 123,456 or [123, 456]")
        ids = []
        for x in v:
            try:
                if isinstance(x, bool) or (isinstance(x, float) and not x.is_integer()):
                    raise ValueError
                ids.append(int(x))
            except (TypeError, ValueError):
                raise ValueError("expected numeric Telegram user ids, as 123,456 or [123, 456]") from None
        return ids

    @field_validator("api_url")
    @classmethod
    def _check_api_url(cls, v: str) -> str:
        v = v.strip().rstrip("/")
        parts = urlsplit(v)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError("expected an http(s) URL such as https://api.telegram.org")
        return v

    @field_validator("webhook_url")
    @classmethod
    def _check_webhook_url(cls, v: str | None) -> str | None:
        if v is None or not v.strip():
            return None
        parts = urlsplit(v.strip())
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError("expected the public https URL Telegram should post updates to")
        return v.strip()

    @field_validator("redis_url")
    @classmethod
    def _check_redis_url(cls, v: str | None) -> str | None:
        if v is None or not v.strip():
            return None
        v = v.strip()
        parts = urlsplit(v)
        if parts.scheme not in ("redis", "rediss", "unix") or not (parts.netloc or parts.path):
            raise ValueError("expected a Redis URL such as redis://localhost:6379/0")
        if parts.scheme != "unix":
            db = parts.path.strip("/")
            if db and not db.isdigit():
                raise ValueError("the path of a Redis URL is a database number, as in redis://localhost:6379/0")
            try:
                _ = parts.port
            except ValueError:
                raise ValueError("the port of the Redis URL is not a number") from None
        return v

    @field_validator("webhook_secret")
    @classmethod
    def _check_secret(cls, v: SecretStr | None) -> SecretStr | None:
        if v is None or not v.get_secret_value():
            return None
        if not _SECRET_TOKEN.match(v.get_secret_value()):
            raise ValueError("must be 1-256 characters of A-Z, a-z, 0-9, _ and -")
        return v

    @field_validator("token")
    @classmethod
    def _check_token(cls, v: SecretStr | None) -> SecretStr | None:
        if v is None or not v.get_secret_value().strip():
            return None
        value = v.get_secret_value().strip()
        if any(c.isspace() or c == "/" for c in value):
            raise ValueError("does not look like a bot token (123456:ABC-DEF...) from @BotFather")
        return SecretStr(value)

    @field_validator("log_level")
    @classmethod
    def _check_level(cls, v: str) -> str:
        level = v.strip().upper()
        if level not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
            raise ValueError("expected DEBUG, INFO, WARNING, ERROR or CRITICAL")
        return level

    @model_validator(mode="after")
    def _webhook_needs_secret(self) -> Settings:
        if self.webhook_url and self.webhook_secret is None:
            raise ValueError(
                "BOT_WEBHOOK_SECRET is required when BOT_WEBHOOK_URL is set "
                "(Telegram sends it with every update so forged requests can be refused)"
            )
        return self

    @property
    def corpus_is_sample(self) -> bool:
        """True when the corpus is the packaged sample, which must never be written to."""
        return is_sample_corpus(self.corpus_dir)

    @property
    def resolved_index_dir(self) -> Path:
        return self.index_dir_for(self.corpus_dir)

    def index_dir_for(self, corpus: Path) -> Path:
        """BOT_INDEX_DIR, else a cache folder of this corpus's own: never inside or beside the corpus,
        which may be read-only and which loading must not write to."""
        if self.index_dir is not None:
            return self.index_dir
        resolved = Path(corpus).resolve()
        digest = hashlib.sha1(str(resolved).encode("utf-8")).hexdigest()[:12]
        cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
        return cache / "corpus-bot" / f"{resolved.name or 'corpus'}-{digest}"

    def search_settings(self) -> SearchSettings:
        """The search settings these settings imply (the CLI and the bot must agree, or each would
        rebuild the other's persisted index)."""
        from bot.search_settings import SearchSettings

        return SearchSettings(passage_chars=self.passage_chars)

    @property
    def webhook_path(self) -> str:
        """The path the webhook server serves: the path of the public URL (a proxy may sit in front)."""
        return urlsplit(self.webhook_url or "").path.strip("/")


def describe_error(error: ValidationError) -> str:
    """One line naming each bad BOT_ variable and why, never echoing secret values."""
    parts = []
    for e in error.errors():
        loc = [str(x) for x in e.get("loc", ()) if not isinstance(x, int)]
        msg = e.get("msg", "invalid")
        for prefix in ("Value error, ", "Assertion failed, "):
            if msg.startswith(prefix):
                msg = msg[len(prefix) :]
        if loc:
            name = ENV_PREFIX + loc[0].upper()
            shown = ""
            if loc[0] not in _SECRET_FIELDS and isinstance(e.get("input"), (str, int, float)):
                shown = f" (got {str(e['input'])[:80]!r})"
            parts.append(f"{name}: {msg}{shown}")
        else:
            parts.append(msg)
    return "invalid settings: " + "; ".join(parts)


def load_settings(**overrides) -> Settings:
    """Settings from the environment and .env; raises SettingsError with one clear line."""
    try:
        return Settings(**overrides)
    except ValidationError as e:
        raise SettingsError(describe_error(e)) from None
