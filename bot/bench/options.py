"""The bench command's options (light: the command line builds this parser for every command)."""

from __future__ import annotations

import argparse

from bot.argtypes import existing_path, int_range

SHAPES = ("long", "short")  # of the synthetic corpora (bot.bench.synthetic)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--corpus", type=existing_path, help="benchmark this corpus (file or folder) instead of a synthetic one"
    )
    p.add_argument(
        "--queries", help="with --corpus: a file of questions, one per line; else: how many to generate (500)"
    )
    p.add_argument(
        "--passages", type=int_range(1), default=100_000, help="size of the synthetic corpora (default 100000)"
    )
    p.add_argument("--shape", choices=(*SHAPES, "both"), default="both", help="synthetic articles: long, short or both")
    p.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    p.add_argument("--repeats", type=int_range(1), default=3, help="timed passes over the questions (default 3)")
    p.add_argument("--seed", type=int_range(0), default=0)
    p.add_argument(
        "--workdir", help="keep corpora and indexes here (a generated corpus is reused); default: a temp dir"
    )
    p.add_argument(
        "--reference-passages",
        type=int_range(1),
        default=100_000,
        help="largest corpus to run rank-bm25 on (default 100000); beyond it, its time is extrapolated",
    )
    p.add_argument("--reference-queries", type=int_range(1), default=20, help="questions for rank-bm25 (default 20)")
    p.add_argument("--no-reference", action="store_true", help="skip rank-bm25")
    p.add_argument("--rebuild", action="store_true", help="also time questions while a reload rebuilds the index")
