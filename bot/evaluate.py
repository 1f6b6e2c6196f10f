"""Answer quality on SQuAD-format files: answer hit@k, MRR@10, mean returned passage length.

A question counts as answered at k when the answer text (case-folded) occurs in one of the top k
passages. Each file is indexed on its own (one file = one language of the dev set).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path

from bot.articles import load_file
from bot.search import Engine, SearchSettings


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

    def macro(self) -> dict:
        n = len(self.files) or 1
        out: dict = {"file": "macro", "questions": sum(f.questions for f in self.files)}
        for k in self.ks:
            out[f"hit@{k}"] = round(sum(f.hit_at[k] for f in self.files) / n, 2)
        out["mrr@10"] = round(sum(f.mrr10 for f in self.files) / n, 4)
        out["mean_passage_chars"] = round(sum(f.mean_passage_chars for f in self.files) / n, 1)
        return out

    def as_dict(self) -> dict:
        return {"files": [f.as_dict() for f in self.files], "macro": self.macro()}

    def table(self) -> str:
        cols = ["file", "lang", "questions"] + [f"hit@{k}" for k in self.ks] + ["mrr@10", "mean_passage_chars"]
        rows = [f.as_dict() for f in self.files] + [self.macro()]
        cells = [[str(r.get(c, "")) for c in cols] for r in rows]
        widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(cols)]
        line = lambda vals: "  ".join(v.rjust(w) if i else v.ljust(w) for i, (v, w) in enumerate(zip(vals, widths)))
        return "\n".join([line(cols)] + [line(r) for r in cells])


def questions_of(path: Path) -> list[tuple[str, list[str]]]:
    """(question, answer texts) pairs of a SQuAD v1.1 file."""
    data = json.loads(path.read_text(encoding="utf-8-sig"))
    return [
        (qa["question"], [a["text"] for a in qa.get("answers", [])])
        for art in data["data"]
        for para in art["paragraphs"]
        for qa in para["qas"]
    ]


def evaluate_file(path: Path, ks: tuple[int, ...], settings: SearchSettings = SearchSettings()) -> FileResult:
    t0 = time.perf_counter()
    engine = Engine.build(load_file(path), settings)
    depth = max(max(ks), 10)
    hits = {k: 0 for k in ks}
    rr = 0.0
    chars = returned = 0
    qs = questions_of(path)
    for question, answers in qs:
        answer = engine.ask(question, k=depth)
        texts = [h.text.casefold() for h in answer.hits]
        wanted = [a.casefold() for a in answers if a.strip()]
        first = next((i for i, t in enumerate(texts) if any(a in t for a in wanted)), None)
        for k in ks:
            hits[k] += first is not None and first < k
        rr += 1.0 / (first + 1) if first is not None else 0.0
        for h in answer.hits[: max(ks)]:
            chars += len(h.text)
            returned += 1
    n = len(qs) or 1
    return FileResult(
        name=path.name,
        questions=len(qs),
        hit_at={k: 100.0 * hits[k] / n for k in ks},
        mrr10=rr / n,
        mean_passage_chars=chars / returned if returned else 0.0,
        passages=len(engine.passages),
        seconds=time.perf_counter() - t0,
        lang=engine.main_language,
    )


def evaluate(paths: list[Path], ks: tuple[int, ...] = (1, 3, 5), settings: SearchSettings = SearchSettings()) -> Report:
    return Report([evaluate_file(p, ks, settings) for p in paths], ks)
