"""The benchmark: its synthetic corpus, and `python -m bot bench` end to end on a small N."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

from bot.articles import Article
from bot.bench.synthetic import SyntheticCorpus
from bot.passages import split_article

ROOT = Path(__file__).resolve().parent.parent


def test_synthetic_corpus_is_deterministic_and_one_passage_per_paragraph():
    a, b = SyntheticCorpus(600, seed=1), SyntheticCorpus(600, seed=1)
    arts_a = [x for chunk in a.articles(questions=20) for x in chunk]
    arts_b = [x for chunk in b.articles(questions=20) for x in chunk]
    assert arts_a == arts_b and a.questions == b.questions and len(a.questions) == 20
    assert arts_a != [x for chunk in SyntheticCorpus(600, seed=2).articles() for x in chunk]
    paragraphs = [p for art in arts_a for p in art["paragraphs"]]
    assert len(paragraphs) == 600
    words = [len(p.split()) for p in paragraphs]
    assert 60 <= min(words) and np.mean(words) > 80 and max(words) <= 130
    passages = sum(
        len(split_article(Article(id=x["id"], title=x["title"], paragraphs=x["paragraphs"]), i))
        for i, x in enumerate(arts_a)
    )
    assert passages == 600  # the splitter keeps each paragraph as one passage
    assert all(q.endswith("?") and len(q.split()) >= 4 for q in a.questions)


def test_vocabulary_keeps_growing_with_the_corpus():
    def distinct(n):
        paragraphs = (p for chunk in SyntheticCorpus(n).articles() for x in chunk for p in x["paragraphs"])
        return len({w.lower() for p in paragraphs for w in p.split()})

    small, large = distinct(500), distinct(4000)
    assert large > 3 * small


def test_short_shape_is_one_passage_per_article():
    c = SyntheticCorpus(300, seed=4, shape="short")
    arts = [x for chunk in c.articles(questions=10) for x in chunk]
    assert len(arts) == 300 and all(len(x["paragraphs"]) == 1 for x in arts)
    assert "lang" not in arts[0]  # the language is identified, as for most exports
    assert len({x["id"] for x in arts}) == 300 and len(c.questions) == 10


def _bench(tmp_path: Path, *args: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BOT_")}
    env["PYTHONPATH"] = str(ROOT) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    proc = subprocess.run(
        [sys.executable, "-m", "bot", "bench", "--json", *args],
        capture_output=True, text=True, env=env, timeout=600, cwd=tmp_path,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout)


def _check_figures(c: dict) -> None:
    assert c["build"]["seconds"] > 0 and c["build"]["peak_mb"] >= c["build"]["peak_one_process_mb"] > 0
    assert c["build"]["command"].startswith("python -m bot index --corpus ") and c["build"]["cpu_seconds"] > 0
    assert c["index"]["bytes"] > 0 and c["cold_start"]["seconds"] > 0 and len(c["cold_start"]["runs"]) == 3
    for key in ("search_only", "end_to_end", "telegram_reply"):
        q = c[key]
        assert 0 < q["p50_ms"] <= q["p95_ms"] <= q["p99_ms"] <= q["max_ms"], key
    assert set(c["targets"]) >= {
        "build_seconds", "build_peak_mb", "index_mb", "cold_start_seconds", "end_to_end_p50_ms",
    }  # fmt: skip


def test_bench_synthetic_short_articles_and_rank_bm25(tmp_path):
    r = _bench(tmp_path, "--passages", "1500", "--shape", "short", "--queries", "40", "--reference-queries", "5",
               "--repeats", "2", "--workdir", str(tmp_path))  # fmt: skip
    (c,) = r["corpora"]
    assert c["name"] == "short" and c["passages"] == c["articles"] == 1500
    assert c["vocabulary"] > 1000 and c["postings"] > 10 * 1500 and c["languages"] == ["en"]
    _check_figures(c)
    assert c["search_only"]["questions"] == 2 * 40
    ref = r["rank_bm25"]
    assert ref["passages"] == 1500 and not ref["extrapolated"] and ref["okapi_top10_agrees"] == "5/5"
    assert ref["speedup_at_n"] > 1
    # the corpus is ONE .jsonl file, kept in --workdir for the next run
    assert [p.name for p in tmp_path.glob("corpus-short-1500-*/*.jsonl")] == ["articles.jsonl"]


def test_bench_on_a_users_corpus_and_questions(tmp_path):
    from bot.settings import SAMPLE_CORPUS

    questions = tmp_path / "questions.txt"
    text = "Who is the Belarusian ambassador to Russia?\n\nWhat about gas prices?\n"
    questions.write_text(text, encoding="utf-8")
    r = _bench(tmp_path, "--corpus", str(SAMPLE_CORPUS), "--queries", str(questions), "--repeats", "2")
    (c,) = r["corpora"]
    assert c["name"] == "own" and c["articles"] >= 1 and "rank_bm25" not in r
    _check_figures(c)
    assert c["end_to_end"]["questions"] == 2  # blank lines are not questions
