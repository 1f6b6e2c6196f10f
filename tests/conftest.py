"""Shared fixtures for the Telegram tests: a fake Bot API server, a temp corpus, a running bot."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ADMIN_ID = 4242
USER_ID = 1001  # FakeBotAPI's default user
BASELINE = Path(__file__).with_name("baseline_tests.txt")


def pytest_configure(config):
    config.addinivalue_line("markers", "baseline: one of the 248 tests of 5fe1574 (issue 10's 'today's tests')")


def pytest_collection_modifyitems(config, items):
    """Mark the tests that existed at 5fe1574 (some renamed since), so `pytest -m baseline` times them alone."""
    wanted = set(BASELINE.read_text(encoding="utf-8").split("\n"))
    for item in items:
        if item.nodeid in wanted:
            item.add_marker(pytest.mark.baseline)


@pytest.fixture(autouse=True, scope="session")
def _index_cache(tmp_path_factory):
    """Persisted indexes default to ~/.cache/corpus-bot: keep the tests' (and their subprocesses') in a temp dir."""
    old = os.environ.get("XDG_CACHE_HOME")
    os.environ["XDG_CACHE_HOME"] = str(tmp_path_factory.mktemp("cache"))
    yield
    if old is None:
        os.environ.pop("XDG_CACHE_HOME", None)
    else:
        os.environ["XDG_CACHE_HOME"] = old


@pytest.fixture
def clean_env(monkeypatch, tmp_path):
    """No BOT_* variables or .env from the developer's machine leak into a test."""
    for name in list(os.environ):
        if name.startswith("BOT_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    return monkeypatch


@pytest.fixture
def corpus_dir(tmp_path) -> Path:
    """A temp copy of the bundled sample corpus (real files on disk) that tests may add to."""
    from bot.settings import SAMPLE_CORPUS

    target = tmp_path / "corpus"
    shutil.copytree(SAMPLE_CORPUS, target)
    return target


@pytest.fixture(scope="session")
def prebuilt_corpus(tmp_path_factory) -> tuple[Path, Path]:
    """A copy of the sample corpus with its index already built: bots that only read it start at once.

    Tests using it must not change the folder (use `corpus_dir` for that).
    """
    from bot.service import Library
    from bot.settings import SAMPLE_CORPUS, Settings

    root = tmp_path_factory.mktemp("prebuilt")
    corpus, index = root / "corpus", root / "index"
    shutil.copytree(SAMPLE_CORPUS, corpus)
    settings = Settings(_env_file=None, corpus_dir=corpus, index_dir=index)
    Library(corpus, settings.search_settings(), index_dir=index).open()
    return corpus, index


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory):
    """One real redis-server for the session's tests (each uses keys of its own namespace)."""
    from tests.redisserver import RedisServer

    with RedisServer(tmp_path_factory.mktemp("redis")) as server:
        yield server


@pytest.fixture
async def fake_api():
    from tests.fakebotapi import FakeBotAPI

    async with FakeBotAPI() as api:
        yield api


async def wait_until(predicate, timeout: float = 30.0) -> None:
    """Until `predicate()` holds (checked every 20 ms): wait for an outcome rather than sleep for it."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        assert loop.time() < deadline, "condition not met in time"
        await asyncio.sleep(0.02)


@dataclass
class RunningBot:
    api: object
    application: object
    settings: object
    library: object
    stop: asyncio.Event
    task: asyncio.Task


@contextlib.asynccontextmanager
async def running_bot(api, corpus_dir: Path, backends=None, **overrides):
    """The real Application served (polling, or webhook if overrides say so) against `api`.

    `backends`: shared-state implementations (default: the in-memory ones the settings imply).
    """
    from bot.settings import Settings
    from bot.telegram import build_application, open_library, serve

    values = dict(token=api.token, api_url=api.url, corpus_dir=corpus_dir, admin_ids=[ADMIN_ID])
    values.update(overrides)
    settings = Settings(_env_file=None, **values)
    library = open_library(settings)
    application = build_application(settings, library, backends)
    stop, ready = asyncio.Event(), asyncio.Event()
    task = asyncio.create_task(
        serve(application, settings, stop=stop, handle_signals=False, poll_timeout=1, ready=ready)
    )
    bot = RunningBot(api, application, settings, library, stop, task)
    try:
        waiting = asyncio.create_task(ready.wait())
        await asyncio.wait([task, waiting], timeout=60, return_when=asyncio.FIRST_COMPLETED)  # returns once up
        waiting.cancel()
        if task.done():
            task.result()  # serve failed: say why
        assert ready.is_set(), "the bot did not start in time"
        yield bot
    finally:
        stop.set()
        await asyncio.wait_for(task, 60)


def index_ahead(corpus: Path, **overrides) -> None:
    """Build `corpus`'s index where a bot with these settings looks for it, in this process.

    The bot then starts from a fresh persisted index instead of building it in a child process (a new
    interpreter: ~0.5 s a bot). Starting with a build is tested where it matters (test_health,
    test_telegram_process, test_store's Library tests).
    """
    from bot.service import open_engine
    from bot.settings import Settings

    settings = Settings(_env_file=None, corpus_dir=corpus, **overrides)
    open_engine(corpus, settings.search_settings(), index_dir=settings.resolved_index_dir)


@pytest.fixture
async def bot(fake_api, prebuilt_corpus, clean_env):
    """A bot on the prebuilt sample corpus (starts at once); the test must not change the corpus."""
    corpus, index = prebuilt_corpus
    async with running_bot(fake_api, corpus, index_dir=index) as b:
        yield b


@pytest.fixture
async def corpus_bot(fake_api, corpus_dir, clean_env):
    """A bot on its own copy of the sample corpus, which the test may change (uploads, /reload)."""
    index_ahead(corpus_dir)
    async with running_bot(fake_api, corpus_dir) as b:
        yield b
