"""The command line: `python -m bot {ask,chat,index,eval,bench,run,health}`. A thin edge over the core.

Every option is checked by the parser (bot.argtypes): a bad value is a usage error, exit status 2.
Every failure a user can cause prints one line, `error: ...`; `-v` (before or after the command) logs
more and shows the traceback of an unexpected error.

The core (analysis, index, settings, Telegram) is imported by the command that needs it, not here, so
that `--version`, `--help` and usage errors answer at once.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

from bot import __version__
from bot.argtypes import cutoffs, existing_path, int_range, readable_file, squad_file

if TYPE_CHECKING:
    from bot.search import Engine

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
LOG_DATEFMT = "%Y-%m-%d %H:%M:%S"
MAX_K = 1000  # passages per answer the CLI will print


def _open_engine(args: argparse.Namespace, progress: bool = False, rebuild: bool = False) -> Engine:
    """The engine of --corpus (else BOT_CORPUS_DIR, else ./corpus, else the bundled sample), from its
    persisted index when fresh."""
    from bot.service import open_engine
    from bot.settings import load_settings

    settings = load_settings()
    corpus = _corpus_of(args)
    return open_engine(
        corpus,
        settings.search_settings(),
        progress=progress,
        index_dir=settings.index_dir_for(corpus),
        rebuild=rebuild,
    )


def _corpus_of(args: argparse.Namespace) -> Path:
    from bot.settings import load_settings

    return Path(args.corpus) if getattr(args, "corpus", None) else load_settings().corpus_dir


def cmd_ask(args: argparse.Namespace) -> int:
    """One question, or a file of them: with --json, exactly one output line per input line."""
    from bot.render import answer_json_text, render_console
    from bot.search import Answer

    if args.queries:
        try:
            questions = read_questions(args.queries)
        except QuestionsError as e:
            print(f"error: {e}", file=sys.stderr)
            return 2
    elif args.question:
        # argv holds undecodable bytes as lone surrogates: show them as U+FFFD rather than fail to print
        questions = [" ".join(args.question).encode("utf-8", "surrogateescape").decode("utf-8", "replace")]
    else:
        print("ask: give a question, or --queries FILE", file=sys.stderr)
        return 2
    engine = _open_engine(args)
    for q in questions:
        answer = engine.ask(q.strip(), k=args.k) if q.strip() else None
        if args.json:
            print(_one_line(answer_json_text(answer or Answer("", []))))
        elif answer is not None:
            print(render_console(answer))
            if len(questions) > 1:
                print()
    return 0


class QuestionsError(Exception):
    """A --queries file that cannot be read as UTF-8 text."""


def read_questions(source: str) -> list[str]:
    """The lines of a questions file ("-": standard input), split on "\\n" only: \\x1c-\\x1e, \\x85, \\u2028,
    \\u2029, \\v and \\f stay inside a question (str.splitlines would end it there) and a blank line stays a
    line. A trailing "\\r" (Windows line ends) is dropped. QuestionsError when it is not UTF-8."""
    name = "standard input" if source == "-" else source
    try:
        data = sys.stdin.buffer.read() if source == "-" else Path(source).read_bytes()
    except OSError as e:
        raise QuestionsError(f"{name}: {e.strerror or e}") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise QuestionsError(
            f"{name} is not UTF-8 text (byte 0x{data[e.start]:02x} at offset {e.start}); save it as UTF-8"
        ) from None
    lines = text.split("\n")
    if lines[-1] == "":  # the newline that ends the last line does not start another
        lines.pop()
    return [line[:-1] if line.endswith("\r") else line for line in lines]


def _one_line(text: str) -> str:
    """JSON text on one line, even for readers that split on Unicode line breaks (json.dumps leaves \\x85,
    \\u2028 and \\u2029 raw when ensure_ascii is off)."""
    return text.replace("\x85", "\\u0085").replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


def cmd_chat(args: argparse.Namespace) -> int:
    from bot.console import run_chat
    from bot.settings import is_sample_corpus

    engine = _open_engine(args)
    return run_chat(engine, k=args.k, sample=is_sample_corpus(_corpus_of(args)))


def cmd_index(args: argparse.Namespace) -> int:
    t0 = time.perf_counter()
    engine = _open_engine(args, progress=True, rebuild=True)
    s = engine.stats()
    print(
        f"articles {s['articles']}, passages {s['passages']}, vocabulary {s['vocabulary']}, "
        f"languages {', '.join(s['languages']) or '-'}, {time.perf_counter() - t0:.2f} s"
    )
    for sk in engine.skipped:
        print(f"skipped {sk.path}: {sk.reason}")
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    from bot.evaluate import evaluate
    from bot.search import SearchSettings

    settings = SearchSettings(passage_chars=args.passage_chars) if args.passage_chars else SearchSettings()
    report = evaluate([Path(f) for f in args.files], args.k, settings, halves=args.halves)
    if args.json:
        print(json.dumps(report.as_dict(), ensure_ascii=False))
    else:
        print(report.table())
    return 0


NO_TOKEN = (
    "No Telegram token: in Telegram, message @BotFather, send /newbot and copy the token it gives you.\n"
    "Then set BOT_TOKEN=<token> (environment or .env) and run `python -m bot run`. Meanwhile, the console chat:"
)


def cmd_run(args: argparse.Namespace) -> int:
    """Serve Telegram until SIGINT/SIGTERM; SIGHUP reloads the corpus."""
    from bot.settings import load_settings

    settings = load_settings(**({"corpus_dir": Path(args.corpus)} if args.corpus else {}))
    if settings.token is None:
        print("error: BOT_TOKEN is not set. " + NO_TOKEN.splitlines()[0], file=sys.stderr)
        return 2
    from bot.telegram import run

    return run(settings, verbose=args.verbose)


def cmd_health(args: argparse.Namespace) -> int:
    """Exit 0 when the running bot's heartbeat is fresh (what Docker's HEALTHCHECK asks), else 1."""
    from bot.health import check
    from bot.settings import load_settings

    path = load_settings().heartbeat_file
    if path is None:
        print("error: BOT_HEARTBEAT_FILE is not set; `run` writes its heartbeat there when it is", file=sys.stderr)
        return 2
    ok, why = check(path, args.max_age)
    print(why, file=sys.stdout if ok else sys.stderr)
    return 0 if ok else 1


def cmd_bench(args: argparse.Namespace) -> int:
    """Speed at news-archive scale on a synthetic corpus (see bot/bench.py and docs/benchmark.md)."""
    from bot.bench import cmd_bench as bench

    return bench(args)


class _Parser(argparse.ArgumentParser):
    """Usage errors in one line (exit status 2), pointing at --help instead of printing the usage."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _prog() -> str:
    """How the user called us, for usage lines: `corpus-bot` or `python -m bot`."""
    name = os.path.basename(sys.argv[0]) if sys.argv and sys.argv[0] else ""
    return "python -m bot" if name in ("__main__.py", "-m", "") else name


def build_parser() -> argparse.ArgumentParser:
    # -v is accepted before the command and after it: each subcommand gets it too, with a default
    # that does not overwrite a -v given before the command.
    verbose = _Parser(add_help=False)
    verbose.add_argument("-v", "--verbose", action="store_true", default=argparse.SUPPRESS, help="log more")

    parser = _Parser(prog=_prog(), description="Answer questions from a corpus of articles.")
    parser.add_argument("-v", "--verbose", action="store_true", help="log more (also accepted after the command)")
    parser.add_argument("--version", action="version", version=f"corpus-bot {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    def command(name: str, help: str) -> argparse.ArgumentParser:
        return sub.add_parser(name, help=help, description=help[0].upper() + help[1:] + ".", parents=[verbose])

    def corpus_arg(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "--corpus",
            type=existing_path,
            help="article file or folder (default: $BOT_CORPUS_DIR, else ./corpus if it exists, else the bundled "
            "sample)",
        )

    k_type = int_range(1, MAX_K)
    p = command("ask", "answer a question (or a file of them)")
    corpus_arg(p)
    p.add_argument("--k", type=k_type, default=3, help=f"passages per answer, 1-{MAX_K} (default 3)")
    p.add_argument("--json", action="store_true", help="one JSON object per question")
    p.add_argument("--queries", type=readable_file, help="file with one question per line")
    p.add_argument("question", nargs="*")
    p.set_defaults(func=cmd_ask)

    p = command("chat", "an interactive console conversation")
    corpus_arg(p)
    p.add_argument("--k", type=k_type, default=3, help=f"passages per answer, 1-{MAX_K} (default 3)")
    p.set_defaults(func=cmd_chat)

    p = command("index", "load and index the corpus, print a summary")
    corpus_arg(p)
    p.set_defaults(func=cmd_index)

    p = command("eval", "answer quality on SQuAD-format files")
    p.add_argument("files", nargs="+", type=squad_file, metavar="FILE", help="SQuAD v1.1 JSON file")
    p.add_argument("--k", type=cutoffs(100), default=(1, 3, 5), help="cut-offs for answer hit@k (default 1,3,5)")
    p.add_argument("--json", action="store_true")
    p.add_argument(
        "--passage-chars", type=int_range(100, 5000), help="target passage size, 100-5000 (default: the engine's)"
    )
    p.add_argument(
        "--halves",
        action="store_true",
        help="also report each file's two halves (first and second half of its articles), each indexed on its own",
    )
    p.set_defaults(func=cmd_eval)

    from bot.bench import add_arguments as bench_arguments

    p = command("bench", "speed: build, load and query a synthetic corpus, against rank-bm25")
    bench_arguments(p)
    p.set_defaults(func=cmd_bench)

    p = command("run", "serve the Telegram bot (long polling, or a webhook if BOT_WEBHOOK_URL is set)")
    corpus_arg(p)
    p.set_defaults(func=cmd_run)

    p = command("health", "is the running bot serving? (its heartbeat in BOT_HEARTBEAT_FILE is fresh)")
    p.add_argument(
        "--max-age", type=int_range(1, None), default=60, help="largest heartbeat age in seconds (default 60)"
    )
    p.set_defaults(func=cmd_health)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    import logging

    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format=LOG_FORMAT, datefmt=LOG_DATEFMT)
    try:
        if not args.command:
            from bot.settings import load_settings

            if load_settings().token is not None:
                args = parser.parse_args(["run"] + (["-v"] if args.verbose else []))
            else:
                print(NO_TOKEN)
                args = parser.parse_args(["chat"] + (["-v"] if args.verbose else []))
        return args.func(args)
    except KeyboardInterrupt:
        return 130
    except Exception as e:
        status = _expected_failure(e)
        if status is not None:
            return status
        if args.verbose:  # a bug: the traceback with -v, else one line
            raise
        print(f"error: unexpected {type(e).__name__}: {e} (run with -v to see the traceback)", file=sys.stderr)
        return 1


def _expected_failure(e: Exception) -> int | None:
    """A failure a user can cause, reported in one line: its exit status. None for anything else (a bug)."""
    from pydantic import ValidationError

    from bot.articles import ArticleError
    from bot.service import EmptyCorpus
    from bot.settings import SettingsError, describe_error

    if isinstance(e, SettingsError):
        print(f"error: {e}", file=sys.stderr)
        return 2
    if isinstance(e, EmptyCorpus | ArticleError):  # the user's files: what is wrong with them
        print(f"error: {e}", file=sys.stderr)
        return 1
    if isinstance(e, ValidationError):  # Settings() built directly: the same one line
        print(f"error: {describe_error(e)}", file=sys.stderr)
        return 2
    if isinstance(e, BrokenPipeError):  # `... | head`: the reader left; say nothing more
        _silence_stdout()
        return 141
    if isinstance(e, OSError):  # a file that cannot be read or written
        where = f"{e.filename}: " if e.filename else ""
        print(f"error: {where}{e.strerror or e}", file=sys.stderr)
        return 1
    return None


def _silence_stdout() -> None:
    """Point stdout at /dev/null so that the interpreter's final flush does not fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass
