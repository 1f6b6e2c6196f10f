"""`python -m bot bench`: what users wait for, measured through the commands they run.

- Build: `python -m bot index --corpus ...` itself, files to a saved index (load, analysis, indexing,
  saving): its wall time and the peak resident memory of all its processes (sampled every 50 ms).
- Cold start: `python -m bot ask --json --k 10 QUESTION` itself, process start to printed answer (median).
- Questions, in a fresh process that opened the index as `ask` does: search only (analysis, the top 10
  and their re-ranking, nothing rendered) and end to end (`ask --json --k 10`'s work per question: hits
  with highlights and best sentences, rendered as the JSON line; no printing), p50 / p95 / p99; the bot's
  Telegram reply (3 hits as HTML, no network) too.

On a synthetic news archive (`--passages N`, see `bot.bench.synthetic`) in two shapes, long articles
(8-12 passages each) and short ones (one passage each), written as ONE .jsonl file each; next to
rank-bm25's BM25Okapi on the same passages. Or on your own corpus and questions: `--corpus PATH --queries
FILE` (one question per line).
"""

from __future__ import annotations

import argparse

# The bench's code (numpy, the synthetic corpus, the measuring) is in bot.bench.command, imported when a
# bench runs: the command line builds this parser for every command, `--version` included.
SHAPES = ("long", "short")  # of the synthetic corpora (bot.bench.synthetic)

__all__ = ["SHAPES", "add_arguments", "cmd_bench"]


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--corpus", help="benchmark this corpus (file or folder) instead of a synthetic one")
    p.add_argument(
        "--queries", help="with --corpus: a file of questions, one per line; else: how many to generate (500)"
    )
    p.add_argument("--passages", type=int, default=100_000, help="size of the synthetic corpora (default 100000)")
    p.add_argument("--shape", choices=(*SHAPES, "both"), default="both", help="synthetic articles: long, short or both")
    p.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    p.add_argument("--repeats", type=int, default=3, help="timed passes over the questions (default 3)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--workdir", help="keep corpora and indexes here (a generated corpus is reused); default: a temp dir"
    )
    p.add_argument(
        "--reference-passages",
        type=int,
        default=100_000,
        help="largest corpus to run rank-bm25 on (default 100000); beyond it, its time is extrapolated",
    )
    p.add_argument("--reference-queries", type=int, default=20, help="questions for rank-bm25 (default 20)")
    p.add_argument("--no-reference", action="store_true", help="skip rank-bm25")
    p.add_argument("--rebuild", action="store_true", help="also time questions while a reload rebuilds the index")


def cmd_bench(args: argparse.Namespace) -> int:
    from bot.bench.command import cmd_bench as bench

    return bench(args)
