"""The console chat (`python -m bot chat`): questions and a few slash commands at a prompt.

On a terminal it has line editing and a history kept between sessions (readline), Tab completion of
the commands, and bold/dim styling (unless NO_COLOR is set or TERM is dumb). With piped input it
prints no prompts and no escape codes, so its output can be read by a script.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from bot.articles import Article
from bot.render import render_console, source_parts, use_color
from bot.search import Answer, Engine

SOURCES_PAGE = 20
COMMANDS = {
    "/help": "this list",
    "/sources [PAGE]": f"the articles, numbered, {SOURCES_PAGE} a page",
    "/article N": "the whole article number N (as in /sources and after each passage)",
    "/more": "more passages for the last question",
    "/quit": "leave (Ctrl-D does the same)",
}
_NAMES = ["/help", "/sources", "/article", "/more", "/quit", "/exit"]


def history_path() -> Path:
    """$XDG_STATE_HOME/corpus-bot/chat_history (default ~/.local/state/...): state, not config or cache."""
    state = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(state) / "corpus-bot" / "chat_history"


@dataclass
class _Style:
    bold: str = ""
    dim: str = ""
    reset: str = ""

    @classmethod
    def of(cls, color: bool) -> _Style:
        return cls("\033[1m", "\033[2m", "\033[0m") if color else cls()


class Chat:
    """One conversation over an engine: `handle(line)` prints the reply; False means "leave"."""

    def __init__(self, engine: Engine, k: int = 3, out: TextIO | None = None, color: bool | None = None):
        self.engine = engine
        self.k = k
        self.out = out or sys.stdout
        self.color = use_color(self.out) if color is None else color
        self.style = _Style.of(self.color)
        self.last: Answer | None = None

    def say(self, text: str = "") -> None:
        print(text, file=self.out)

    def greeting(self, sample: bool = False) -> str:
        e = self.engine
        where = " (the bundled sample: --corpus or BOT_CORPUS_DIR point at your own)" if sample else ""
        return (
            f"Ask about {len(e.articles)} article(s), {len(e.passages)} passages{where}. "
            "/help lists the commands; Ctrl-D or /quit leaves."
        )

    def handle(self, line: str) -> bool:
        line = line.strip()
        if not line:
            return True
        if not line.startswith("/"):
            self.answer(self.engine.ask(line, k=self.k))
            return True
        name, _, arg = line.partition(" ")
        name, arg = name.lower(), arg.strip()
        if name in ("/quit", "/exit"):
            return False
        if name in ("/help", "/start"):
            self.help()
        elif name == "/sources":
            self.sources(arg)
        elif name == "/article":
            self.article(arg)
        elif name == "/more":
            self.more()
        else:
            self.say(f"Unknown command {name}. /help lists the commands; anything else is a question.")
        return True

    def answer(self, answer: Answer) -> None:
        self.last = answer
        self.say(render_console(answer, color=self.color, article_numbers=True))
        if answer.more:
            self.say(f"{self.style.dim}/more for further passages{self.style.reset}")

    def more(self) -> None:
        last = self.last
        if last is None:
            self.say("Ask a question first; /more then shows further passages.")
        elif not last.hits or not last.more:
            self.say("That was all: no further passage matches the last question.")
        else:
            self.answer(self.engine.ask(last.query, k=self.k, offset=last.offset + len(last.hits)))

    def help(self) -> None:
        st = self.style
        width = max(len(c) for c in COMMANDS)
        self.say("Type a question in plain words, or one of:")
        for command, what in COMMANDS.items():
            self.say(f"  {st.bold}{command.ljust(width)}{st.reset}  {what}")

    def sources(self, arg: str) -> None:
        articles = self.engine.articles
        pages = max(1, -(-len(articles) // SOURCES_PAGE))
        page = _number(arg or "1")
        if page is None or not 1 <= page <= pages:
            self.say(f"Usage: /sources [PAGE], PAGE from 1 to {pages}.")
            return
        lo = (page - 1) * SOURCES_PAGE
        hi = min(len(articles), lo + SOURCES_PAGE)
        self.say(f"{self.style.bold}Articles {lo + 1}-{hi} of {len(articles)}{self.style.reset}")
        for no in range(lo, hi):
            title, rest = source_parts(articles[no])
            self.say(f"{no + 1:>{len(str(hi))}}. {title}{self.style.dim}{rest}{self.style.reset}")
        if page < pages:
            self.say(f"{self.style.dim}/sources {page + 1} for the next page{self.style.reset}")

    def article(self, arg: str) -> None:
        n = len(self.engine.articles)
        no = _number(arg)
        if no is None or not 1 <= no <= n:
            self.say(f"Usage: /article N, N from 1 to {n} (the number shown after each passage and in /sources).")
            return
        self.say(render_article(self.engine.articles[no - 1], self.style))


def render_article(a: Article, style: _Style | None = None) -> str:
    """A whole article for the console: the title, the attribution and link, then its paragraphs."""
    st = style or _Style()
    title, rest = source_parts(a)
    head = [f"{st.bold}{title}{st.reset}"]
    if rest:
        head.append(f"{st.dim}{rest.removeprefix(' — ')}{st.reset}")
    if a.url:
        head.append(f"{st.dim}{a.url}{st.reset}")
    return "\n".join(head) + "\n\n" + "\n\n".join(a.paragraphs)


def _number(text: str) -> int | None:
    try:
        return int(text.strip().lstrip("#"))
    except ValueError:
        return None


def _setup_readline(history: Path) -> Callable[[], None]:
    """Line editing, Tab completion of commands and a persistent history; returns the saver."""
    try:
        import readline
    except ImportError:  # e.g. Windows without pyreadline: input() still works, unedited
        return lambda: None

    def complete(text: str, state: int) -> str | None:
        matches = [c + " " for c in _NAMES if c.startswith(text)] if text.startswith("/") else []
        return matches[state] if state < len(matches) else None

    readline.set_completer(complete)
    readline.set_completer_delims(" \t\n")
    if "libedit" in (readline.__doc__ or ""):
        readline.parse_and_bind("bind ^I rl_complete")
    else:
        readline.parse_and_bind("tab: complete")
    readline.set_history_length(1000)
    try:
        readline.read_history_file(history)
    except OSError:  # none yet, or unreadable: start afresh
        pass

    def save() -> None:
        try:
            history.parent.mkdir(parents=True, exist_ok=True)
            readline.write_history_file(history)
            os.chmod(history, 0o600)  # questions may be private
        except OSError:
            pass

    return save


def run_chat(
    engine: Engine,
    k: int = 3,
    sample: bool = False,
    stdin: TextIO | None = None,
    stdout: TextIO | None = None,
) -> int:
    """The read-answer loop until Ctrl-D, /quit or the end of piped input."""
    stdin = stdin or sys.stdin
    chat = Chat(engine, k, stdout)
    interactive = _isatty(stdin)  # someone types: prompts, line editing, history
    save_history = _setup_readline(history_path()) if interactive else (lambda: None)
    st = chat.style
    # \001 and \002 tell readline that the escape codes take no room on the line
    prompt = f"\001{st.bold}\002?\001{st.reset}\002 " if chat.color else "? "
    chat.say(chat.greeting(sample))
    try:
        while True:
            try:
                line = input(prompt) if interactive else _read(stdin)
            except KeyboardInterrupt:  # Ctrl-C drops the line being typed, as in a shell
                chat.say("\n(Ctrl-D or /quit leaves)")
                continue
            except EOFError:
                if interactive:
                    chat.say()
                return 0
            if not line.strip():
                continue
            if interactive:
                chat.say()
            if not chat.handle(line):
                return 0
            chat.say()  # a blank line between replies
    finally:
        save_history()


def _read(stream: TextIO) -> str:
    line = stream.readline()
    if not line:
        raise EOFError
    return line


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
