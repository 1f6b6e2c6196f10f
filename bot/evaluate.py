"""Answer quality on SQuAD-format files: answer hit@k, MRR@10, mean returned passage length.

A question counts as answered at k when the answer text occurs in one of the top k passages, as the
engine returns them (`Hit.text`: what a user reads), both case-folded. The answer is first cleaned as the
loader cleans every text it reads (`bot.loaders.fields.clean`: runs of white space become one space), or
an answer written with two spaces or a no-break space, which the passage shows with one plain space,
would never be found. Each file is indexed on its own (one file = one language of the dev set).

`halves=True` also evaluates the two halves of every file separately, each half indexed on its own
(articles 0..n/2-1 and n/2..n-1; 0-11 and 12-23 on the XQuAD dev set): a half is a corpus the other
half never saw, so a setting chosen on one half can be confirmed on the other.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path

from bot.articles import Article, load_file
from bot.loaders.fields import clean
from bot.search import Engine, SearchSettings

Questions = list[tuple[str, list[str]]]


@dataclass
class FileResult:
    name: str
    questions: int
    hit_at: dict[int, float]  # k -> percent
    mrr10: float
    mean_passage_chars: float
    passages: int
    seconds: float
    lang: str | None = None

    def as_dict(self) -> dict:
        return {
            "file": self.name,
            "lang": self.lang,
            "questions": self.questions,
            "passages": self.passages,
            **{f"hit@{k}": round(v, 2) for k, v in self.hit_at.items()},
            "mrr@10": round(self.mrr10, 4),
            "mean_passage_chars": round(self.mean_passage_chars, 1),
            "seconds": round(self.seconds, 2),
        }


@dataclass
class Report:
    files: list[FileResult] = field(default_factory=list)
    ks: tuple[int, ...] = (1, 3, 5)
    name: str = "whole"
    halves: list[Report] = field(default_factory=list)

    def macro(self) -> dict:
        n = len(self.files) or 1
        out: dict = {"file": "macro", "questions": sum(f.questions for f in self.files)}
        for k in self.ks:
            out[f"hit@{k}"] = round(sum(f.hit_at[k] for f in self.files) / n, 2)
        out["mrr@10"] = round(sum(f.mrr10 for f in self.files) / n, 4)
        out["mean_passage_chars"] = round(sum(f.mean_passage_chars for f in self.files) / n, 1)
        out["min_hit@1"] = round(min((f.hit_at[1] for f in self.files if 1 in f.hit_at), default=0.0), 2)
        return out

    def as_dict(self) -> dict:
        out: dict = {"name": self.name, "files": [f.as_dict() for f in self.files], "macro": self.macro()}
        if self.halves:
            out["halves"] = [h.as_dict() for h in self.halves]
        return out

    def table(self) -> str:
        cols = ["file", "lang", "questions"] + [f"hit@{k}" for k in self.ks] + ["mrr@10", "mean_passage_chars"]
        rows = [f.as_dict() for f in self.files] + [self.macro()]
        cells = [[str(r.get(c, "")) for c in cols] for r in rows]
        widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(cols)]

        def line(vals: list[str]) -> str:
            return "  ".join(v.rjust(w) if i else v.ljust(w) for i, (v, w) in enumerate(zip(vals, widths)))

        own = "\n".join([line(cols)] + [line(r) for r in cells])
        if not self.halves:
            return own
        parts = [f"== {h.name} ==\n{h.table()}" for h in self.halves]
        return "\n\n".join([*parts, f"== {self.name} ==\n{own}"])


def squad_file(path: Path) -> list[tuple[Article, Questions]]:
    """The articles of a SQuAD v1.1 file, each with its (question, answer texts) pairs."""
    data = json.loads(Path(path).read_text(encoding="utf-8-sig"))
    articles = load_file(path)
    entries = [e for e in data["data"] if any(str(p.get("context") or "").strip() for p in e.get("paragraphs", []))]
    if len(articles) != len(entries):
        raise ValueError(f"{path}: {len(entries)} SQuAD entries but {len(articles)} articles loaded")
    return [
        (
            article,
            [(qa["question"], [a["text"] for a in qa.get("answers", [])]) for p in e["paragraphs"] for qa in p["qas"]],
        )
        for article, e in zip(articles, entries)
    ]


def questions_of(path: Path) -> Questions:
    """(question, answer texts) pairs of a SQuAD v1.1 file."""
    return [q for _, qs in squad_file(path) for q in qs]


def evaluate_articles(
    name: str, articles: list[Article], questions: Questions, ks: tuple[int, ...], settings: SearchSettings
) -> FileResult:
    """Index `articles` on their own and ask every question of them."""
    t0 = time.perf_counter()
    engine = Engine.build(articles, settings)
    depth = max(max(ks), 10)
    hits = {k: 0 for k in ks}
    rr = 0.0
    chars = returned = 0
    for question, answers in questions:
        answer = engine.ask(question, k=depth)
        texts = [h.text.casefold() for h in answer.hits]
        wanted = [clean(a).casefold() for a in answers if a.strip()]
        first = next((i for i, t in enumerate(texts) if any(a in t for a in wanted)), None)
        for k in ks:
            hits[k] += first is not None and first < k
        rr += 1.0 / (first + 1) if first is not None else 0.0
        for h in answer.hits[: max(ks)]:
            chars += len(h.text)
            returned += 1
    n = len(questions) or 1
    return FileResult(
        name=name,
        questions=len(questions),
        hit_at={k: 100.0 * hits[k] / n for k in ks},
        mrr10=rr / n,
        mean_passage_chars=chars / returned if returned else 0.0,
        passages=len(engine.passages),
        seconds=time.perf_counter() - t0,
        lang=engine.main_language,
    )


def evaluate_file(path: Path, ks: tuple[int, ...], settings: SearchSettings | None = None) -> FileResult:
    parts = squad_file(path)
    qs = [q for _, qs in parts for q in qs]
    return evaluate_articles(path.name, [a for a, _ in parts], qs, ks, settings or SearchSettings())


def halves_of(n: int) -> list[tuple[str, range]]:
    """The two halves of n articles: first n//2, then the rest."""
    mid = n // 2
    return [(f"articles 0-{mid - 1}", range(mid)), (f"articles {mid}-{n - 1}", range(mid, n))]


def evaluate(
    paths: list[Path],
    ks: tuple[int, ...] = (1, 3, 5),
    settings: SearchSettings | None = None,
    halves: bool = False,
) -> Report:
    """Each file indexed on its own; with `halves`, also each half of each file on its own."""
    settings = settings or SearchSettings()
    whole = Report([], ks)
    parts: list[Report] = []
    for path in paths:
        pairs = squad_file(Path(path))
        articles = [a for a, _ in pairs]
        whole.files.append(
            evaluate_articles(Path(path).name, articles, [q for _, qs in pairs for q in qs], ks, settings)
        )
        if not halves:
            continue
        for i, (label, rng) in enumerate(halves_of(len(pairs))):
            if len(parts) <= i:
                parts.append(Report([], ks, name=f"half {'AB'[i]}"))
            picked = [pairs[j] for j in rng]
            parts[i].files.append(
                evaluate_articles(
                    f"{Path(path).name}[{label}]",
                    [a for a, _ in picked],
                    [q for _, qs in picked for q in qs],
                    ks,
                    settings,
                )
            )
    whole.halves = parts
    return whole
