"""The benchmark: its synthetic corpus, and `python -m bot bench` end to end on a small N."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

from bot.articles import Article
from bot.bench import SyntheticCorpus
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
        return len({w.lower() for chunk in SyntheticCorpus(n).articles() for x in chunk for p in x["paragraphs"] for w in p.split()})

    small, large = distinct(500), distinct(4000)
    assert large > 3 * small


def test_bench_command_outputs_the_figures(tmp_path):
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    proc = subprocess.run(
        [sys.executable, "-m", "bot", "bench", "--passages", "2000", "--json", "--queries", "60",
         "--reference-queries", "5", "--workdir", str(tmp_path)],
        capture_output=True, text=True, env=env, timeout=600, cwd=tmp_path,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    r = json.loads(proc.stdout)
    assert r["passages"] == 2000 and r["articles"] > 100
    assert r["corpus"]["vocabulary"] > 1000 and r["corpus"]["postings"] > 10 * 2000
    assert r["build"]["seconds"] > 0 and r["build"]["peak_mb"] > 0
    assert r["index"]["mb"] > 0 and r["load"]["cold_start_seconds"] > 0
    q = r["query"]
    for key in ("p50_ms", "p95_ms", "p99_ms", "qps"):
        assert q[key] > 0
    assert q["p50_ms"] <= q["p95_ms"] <= q["p99_ms"]
    assert q["identical_to_in_memory"] is True and q["queries"] == 3 * 60
    assert r["end_to_end"]["p50_ms"] > 0
    rb = r["rebuild"]
    assert rb["ok"] and rb["swapped"] and rb["identical_after"] and rb["queries"] > 0
    ref = r["rank_bm25"]
    assert ref["passages"] == 2000 and not ref["extrapolated"] and ref["p50_ms"] > 0
    assert ref["okapi_top10_agrees"] == "5/5"
    assert ref["speedup_at_n"] > 1
    assert set(r["targets"]) >= {
        "query_p50_ms", "query_p99_ms", "speedup_vs_rank_bm25", "build_seconds", "build_peak_mb",
        "cold_start_seconds", "index_mb", "rebuild_p99_ms", "identical_results",
    }  # fmt: skip
    # the corpus is kept in --workdir and reused by the next run
    assert list(tmp_path.glob("corpus-2000-*/part-*.jsonl"))
