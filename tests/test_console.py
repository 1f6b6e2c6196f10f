"""The console chat as people use it: typed at a real pseudo-terminal (line editing, history, colour), or
fed by a pipe (no prompts, no escape codes), plus its commands over a real corpus on disk."""

from __future__ import annotations

import io
import os
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bot.articles import load_corpus
from bot.console import SOURCES_PAGE, Chat
from bot.search import Engine

ROOT = Path(__file__).resolve().parent.parent
QUESTION = "Who is the Belarusian ambassador to Russia?"
LEFT, UP, CTRL_D = b"\x1b[D", b"\x1b[A", b"\x04"
BOLD = b"\x1b[1m"


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BOT_") and k != "NO_COLOR"}
    env.update(TERM="xterm", XDG_STATE_HOME=str(tmp_path / "state"), PYTHONPATH=str(ROOT), **extra)
    return env


class Terminal:
    """`python -m bot chat` on the slave side of a pseudo-terminal; we type on the master side."""

    def __init__(self, env: dict[str, str], cwd: Path):
        # the prompt as drawn: bold "?" on a colour terminal. Keys typed before it shows reach a terminal in
        # cooked mode, where a Ctrl-D is lost once readline switches to raw mode: type only at the prompt.
        self.prompt = b"\n? " if env.get("NO_COLOR") else b"?\x1b[0m "
        pty = pytest.importorskip("pty")  # noqa: F841 - POSIX only
        self.master, slave = os.openpty()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bot", "chat"],
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env=env,
            cwd=cwd,
            start_new_session=True,
        )
        os.close(slave)
        self.seen = b""

    def type(self, keys: bytes) -> None:
        os.write(self.master, keys)

    def wait_for(self, needle: bytes, timeout: float = 60) -> bytes:
        """Everything printed up to `needle` since the last wait."""
        end = time.monotonic() + timeout
        while needle not in self.seen:
            left = end - time.monotonic()
            if left <= 0 or (self.proc.poll() is not None and not select.select([self.master], [], [], 0)[0]):
                raise AssertionError(f"{needle!r} never came; the screen ends with {self.seen[-800:]!r}")
            if select.select([self.master], [], [], min(left, 0.2))[0]:
                try:
                    self.seen += os.read(self.master, 65536)
                except OSError:  # the child closed the terminal
                    pass
        cut = self.seen.index(needle) + len(needle)
        out, self.seen = self.seen[:cut], self.seen[cut:]
        return out

    def wait_for_prompt(self) -> bytes:
        return self.wait_for(self.prompt)

    def close(self) -> int:
        try:
            return self.proc.wait(20)
        finally:
            os.close(self.master)


@pytest.fixture
def needs_readline():
    pytest.importorskip("readline")


def test_terminal_has_line_editing_history_and_colour(tmp_path, needs_readline):
    env = _env(tmp_path)
    term = Terminal(env, tmp_path)
    term.wait_for_prompt()
    term.type(b"/hep" + LEFT + b"l\r")  # the left arrow moves the cursor: "/hep" becomes "/help"
    assert b"/sources [PAGE]" in term.wait_for_prompt()
    term.type(QUESTION.encode() + b"\r")
    answer = term.wait_for_prompt()
    assert b"Syamashka" in answer and BOLD + b"Russia" in answer  # matches in bold on a terminal
    term.type(UP + UP + b"\r")  # history: two lines back is "/help"
    assert b"/sources [PAGE]" in term.wait_for_prompt()
    term.type(CTRL_D)
    assert term.close() == 0
    history = (tmp_path / "state" / "corpus-bot" / "chat_history").read_text(encoding="utf-8").splitlines()
    assert history[-3:] == ["/help", QUESTION, "/help"]

    again = Terminal(env, tmp_path)  # the history outlives the session
    again.wait_for_prompt()
    again.type(UP + UP + b"\r")
    assert b"Syamashka" in again.wait_for_prompt()
    again.type(b"/quit\r")
    assert again.close() == 0


def test_no_color_on_a_terminal_when_no_color_is_set(tmp_path, needs_readline):
    term = Terminal(_env(tmp_path, NO_COLOR="1"), tmp_path)
    term.wait_for_prompt()
    term.type(QUESTION.encode() + b"\r")
    answer = term.wait_for_prompt()
    assert b"Syamashka" in answer and BOLD not in answer and b"\x1b[2m" not in answer
    assert b"*Russia*" in answer  # matches still stand out, in plain text
    term.type(CTRL_D)
    assert term.close() == 0


def test_piped_input_gets_plain_replies_and_every_command(tmp_path):
    lines = [QUESTION, "/more", "/sources", "/article 1", "/article 99", "/frobnicate", "", "/help"]
    out = subprocess.run(
        [sys.executable, "-m", "bot", "chat", "--k", "2"],
        input="\n".join(lines) + "\n",
        capture_output=True,
        text=True,
        env=_env(tmp_path),
        cwd=tmp_path,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    text = out.stdout
    assert "\x1b[" not in text and not any(line.startswith("?") for line in text.splitlines())  # no prompts
    assert "1. " in text and "Syamashka" in text and "/more for further passages" in text
    assert "3. " in text  # /more went on from rank 3
    assert "Articles 1-1 of 1" in text
    assert text.count("Russia’s failure? Integration road maps still not signed") >= 4
    assert "That is why, in his opinion" in text  # /article 1 printed the whole article, to its end
    assert "Usage: /article N, N from 1 to 1" in text
    assert "Unknown command /frobnicate" in text
    assert "/sources [PAGE]" in text
    assert (tmp_path / "state").exists() is False  # no history is written for a script


@pytest.fixture(scope="module")
def many(tmp_path_factory) -> Engine:
    folder = tmp_path_factory.mktemp("many")
    for i in range(1, SOURCES_PAGE + 6):
        (folder / f"{i:03d}.txt").write_text(
            f"Title: Harbour report {i}\nSource: Port News\n\nCrane number {i} lifted containers at the harbour.\n",
            encoding="utf-8",
        )
    return Engine.build(load_corpus(folder))


def chat_with(engine: Engine, *lines: str, k: int = 3) -> str:
    out = io.StringIO()
    chat = Chat(engine, k=k, out=out, color=False)
    for line in lines:
        assert chat.handle(line)
    return out.getvalue()


def test_sources_are_paged_and_articles_numbered_as_in_answers(many):
    first = chat_with(many, "/sources")
    assert f"Articles 1-{SOURCES_PAGE} of {SOURCES_PAGE + 5}" in first and "/sources 2 for the next page" in first
    second = chat_with(many, "/sources 2")
    assert f"Articles {SOURCES_PAGE + 1}-{SOURCES_PAGE + 5}" in second and "next page" not in second
    assert "Usage: /sources [PAGE], PAGE from 1 to 2" in chat_with(many, "/sources 3")
    answer = chat_with(many, "crane number 7")
    number = int(answer.split("/article ")[1].split()[0])
    assert "Crane number 7 lifted" in chat_with(many, f"/article {number}")


def test_more_pages_through_every_hit_then_says_so(many):
    out = io.StringIO()
    chat = Chat(many, k=10, out=out, color=False)
    assert chat.handle("/more")
    assert "Ask a question first" in out.getvalue()
    chat.handle("containers harbour")
    ranks = [h.rank for h in chat.last.hits]
    for _ in range(10):
        chat.handle("/more")
        if "That was all" in out.getvalue():
            break
        ranks += [h.rank for h in chat.last.hits]
    assert ranks == list(range(1, SOURCES_PAGE + 6))  # every article once, in rank order
    assert "That was all" in out.getvalue()
    assert chat.handle("/quit") is False and chat.handle("/EXIT") is False
