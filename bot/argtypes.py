"""Checks of command-line values for argparse's `type=`: a bad value is a usage error (exit status 2)
with one line naming the option, never a traceback from deep inside a command."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from pathlib import Path


def int_range(lo: int, hi: int | None = None) -> Callable[[str], int]:
    """An integer from lo to hi (inclusive; no upper bound when hi is None)."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
        if value < lo or (hi is not None and value > hi):
            bounds = f"from {lo} to {hi}" if hi is not None else f"at least {lo}"
            raise argparse.ArgumentTypeError(f"must be {bounds}, got {value}")
        return value

    parse.__name__ = "number"  # argparse names the type in some messages
    return parse


def cutoffs(hi: int = 1000) -> Callable[[str], tuple[int, ...]]:
    """A comma-separated list of cut-offs k, each from 1 to hi: "1,3,5" -> (1, 3, 5), sorted, unique."""
    one = int_range(1, hi)
    usage = f"cut-offs are whole numbers from 1 to {hi} separated by commas, such as 1,3,5"

    def parse(text: str) -> tuple[int, ...]:
        parts = [p.strip() for p in text.split(",")]
        try:
            return tuple(sorted({one(p) for p in parts}))
        except argparse.ArgumentTypeError:
            raise argparse.ArgumentTypeError(f"{usage}; got {text!r}") from None

    parse.__name__ = "cut-offs"
    return parse


def existing_path(text: str) -> str:
    """A file or folder that exists (the corpus)."""
    if not Path(text).exists():
        raise argparse.ArgumentTypeError(f"{text}: no such file or folder")
    return text


def readable_file(text: str) -> str:
    """A file that can be read; "-" is standard input."""
    if text == "-":
        return text
    path = Path(text)
    if not path.exists():
        raise argparse.ArgumentTypeError(f"{text}: no such file")
    if path.is_dir():
        raise argparse.ArgumentTypeError(f"{text}: is a folder, not a file")
    try:
        with path.open("rb"):
            pass
    except OSError as e:
        raise argparse.ArgumentTypeError(f"{text}: {e.strerror or e}") from None
    return text


def squad_file(text: str) -> str:
    """A SQuAD v1.1 JSON file: {"data": [{"title", "paragraphs": [{"context", "qas": [...]}]}]}."""
    readable_file(text)
    if text == "-":
        raise argparse.ArgumentTypeError("expected a SQuAD file, not standard input")
    expected = 'not a SQuAD v1.1 file (expected one JSON object {"data": [{"paragraphs": [{"context", "qas"}]}]})'
    try:
        data = json.loads(Path(text).read_bytes().decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise argparse.ArgumentTypeError(f"{text}: not UTF-8 text, so {expected}") from None
    except json.JSONDecodeError as e:
        raise argparse.ArgumentTypeError(f"{text}: {expected}; JSON error at line {e.lineno}: {e.msg}") from None
    except OSError as e:
        raise argparse.ArgumentTypeError(f"{text}: {e.strerror or e}") from None
    entries = data.get("data") if isinstance(data, dict) else None
    if not isinstance(entries, list) or not all(
        isinstance(e, dict)
        and isinstance(e.get("paragraphs"), list)
        and all(_is_squad_paragraph(p) for p in e["paragraphs"])
        for e in entries
    ):
        raise argparse.ArgumentTypeError(f"{text}: {expected}")
    if not any(p["qas"] and p["context"].strip() for e in entries for p in e["paragraphs"]):
        raise argparse.ArgumentTypeError(f"{text}: a SQuAD file without a paragraph that has text and questions")
    return text


def _is_squad_paragraph(p: object) -> bool:
    if not (isinstance(p, dict) and isinstance(p.get("context"), str) and isinstance(p.get("qas"), list)):
        return False
    return all(
        isinstance(q, dict)
        and isinstance(q.get("question"), str)
        and isinstance(q.get("answers", []), list)
        and all(isinstance(a, dict) and isinstance(a.get("text"), str) for a in q.get("answers", []))
        for q in p["qas"]
    )
