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

from bot.bench.options import SHAPES, add_arguments

__all__ = ["SHAPES", "add_arguments", "cmd_bench"]


def cmd_bench(args: argparse.Namespace) -> int:
    """Run the bench (bot.bench.command: numpy, the synthetic corpus and the measuring, imported only now)."""
    from bot.bench.command import cmd_bench as bench

    return bench(args)
