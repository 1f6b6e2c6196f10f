"""The command line: `python -m bot {ask,chat,index,eval,bench,run}`. A thin edge over the core."""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from pathlib import Path

from pydantic import ValidationError

from bot.render import answer_json, render_console
from bot.service import EmptyCorpus
from bot.settings import SettingsError, describe_error


def _open_engine(args, progress: bool = False, rebuild: bool = False):
    """The engine of --corpus (else BOT_CORPUS_DIR, else ./corpus, else the bundled sample), from its
    persisted index when fresh."""
    from bot.service import open_engine
    from bot.settings import load_settings

    settings = load_settings()
    corpus = Path(args.corpus) if args.corpus else settings.corpus_dir
    return open_engine(
        corpus,
        settings.search_settings(),
        progress=progress,
        index_dir=settings.index_dir_for(corpus),
        rebuild=rebuild,
    )


def cmd_ask(args) -> int:
    engine = _open_engine(args)
    if args.queries:
        lines = Path(args.queries).read_text(encoding="utf-8-sig").splitlines()
        questions = [q.strip() for q in lines if q.strip()]
    elif args.question:
        questions = [" ".join(args.question)]
    else:
        print("ask: give a question, or --queries FILE", file=sys.stderr)
        return 2
    for q in questions:
        answer = engine.ask(q, k=args.k)
        if args.json:
            print(json.dumps(answer_json(answer), ensure_ascii=False))
        else:
            print(render_console(answer))
            if len(questions) > 1:
                print()
    return 0


def cmd_chat(args) -> int:
    engine = _open_engine(args)
    print(
        f"Ask about {len(engine.articles)} article(s), {len(engine.passages)} passages. "
        "An empty line or Ctrl-D quits."
    )
    while True:
        try:
            q = input("\n? ").strip()
        except (EOFError, KeyboardInterrupt):
            print()
            return 0
        if not q:
            return 0
        print()
        print(render_console(engine.ask(q, k=args.k)))


def cmd_index(args) -> int:
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


def cmd_eval(args) -> int:
    from bot.evaluate import evaluate

    ks = tuple(sorted({int(k) for k in args.k.split(",")}))
    from bot.search import SearchSettings

    settings = SearchSettings(passage_chars=args.passage_chars) if args.passage_chars else SearchSettings()
    report = evaluate([Path(f) for f in args.files], ks, settings, halves=args.halves)
    if args.json:
        print(json.dumps(report.as_dict(), ensure_ascii=False))
    else:
        print(report.table())
    return 0


NO_TOKEN = (
    "No Telegram token: in Telegram, message @BotFather, send /newbot and copy the token it gives you.\n"
    "Then set BOT_TOKEN=<token> (environment or .env) and run `python -m bot run`. Meanwhile, the console chat:"
)


def cmd_run(args) -> int:
    """Serve Telegram until SIGINT/SIGTERM; SIGHUP reloads the corpus."""
    from bot.settings import load_settings

    settings = load_settings(**({"corpus_dir": Path(args.corpus)} if args.corpus else {}))
    if settings.token is None:
        print("error: BOT_TOKEN is not set. " + NO_TOKEN.splitlines()[0], file=sys.stderr)
        return 2
    from bot.telegram import run

    return run(settings, verbose=args.verbose)


def cmd_bench(args) -> int:
    """Speed at news-archive scale on a synthetic corpus (see bot/bench.py and docs/benchmark.md)."""
    from bot.bench import cmd_bench as bench

    return bench(args)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="bot", description="Answer questions from a corpus of articles.")
    parser.add_argument("-v", "--verbose", action="store_true", help="log more")
    sub = parser.add_subparsers(dest="command")

    def corpus_arg(p):
        p.add_argument(
            "--corpus",
            help="article file or folder (default: $BOT_CORPUS_DIR, else ./corpus if it exists, else the bundled sample)",
        )

    p = sub.add_parser("ask", help="answer a question (or a file of them)")
    corpus_arg(p)
    p.add_argument("--k", type=int, default=3, help="passages per answer (default 3)")
    p.add_argument("--json", action="store_true", help="one JSON object per question")
    p.add_argument("--queries", help="file with one question per line")
    p.add_argument("question", nargs="*")
    p.set_defaults(func=cmd_ask)

    p = sub.add_parser("chat", help="an interactive console conversation")
    corpus_arg(p)
    p.add_argument("--k", type=int, default=3)
    p.set_defaults(func=cmd_chat)

    p = sub.add_parser("index", help="load and index the corpus, print a summary")
    corpus_arg(p)
    p.set_defaults(func=cmd_index)

    p = sub.add_parser("eval", help="answer quality on SQuAD-format files")
    p.add_argument("files", nargs="+")
    p.add_argument("--k", default="1,3,5", help="cut-offs for answer hit@k (default 1,3,5)")
    p.add_argument("--json", action="store_true")
    p.add_argument("--passage-chars", type=int, help="target passage size (default: the engine's)")
    p.add_argument(
        "--halves",
        action="store_true",
        help="also report each file's two halves (first and second half of its articles), each indexed on its own",
    )
    p.set_defaults(func=cmd_eval)

    from bot.bench import add_arguments as bench_arguments

    p = sub.add_parser("bench", help="speed: build, load and query a synthetic corpus, against rank-bm25")
    bench_arguments(p)
    p.set_defaults(func=cmd_bench)

    p = sub.add_parser("run", help="serve the Telegram bot (long polling, or a webhook if BOT_WEBHOOK_URL is set)")
    corpus_arg(p)
    p.set_defaults(func=cmd_run)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s"
    )
    try:
        if not args.command:
            from bot.settings import load_settings

            if load_settings().token is not None:
                args = parser.parse_args(["run"])
            else:
                print(NO_TOKEN)
                args = parser.parse_args(["chat"])
        return args.func(args)
    except SettingsError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except EmptyCorpus as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    except ValidationError as e:  # Settings() built directly: the same one line
        print(f"error: {describe_error(e)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
