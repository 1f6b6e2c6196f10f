"""The phases of a benchmark that run in a fresh Python process each (`python -m bot.bench --phase NAME`),
so that what one measures (imports, memory, caches) is not disturbed by another.

- `query`: open the persisted index as `ask` does, then time questions: search only (`Engine.rank`:
  analysis, top 10, re-ranking; no rendering) and end to end (`ask --json --k 10`'s work for one question:
  the answer with highlights and best sentences, rendered as its JSON line); the bot's Telegram reply
  (3 hits, HTML) too; and, optionally, the latency of questions while a reload rebuilds the index.
- `reference`: rank-bm25's BM25Okapi on the same passages and questions (analysed by the same chain).
"""

from __future__ import annotations

import gc
import json
import resource
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from bot.bench.measure import MB, percentiles, status_mb
from bot.bench.synthetic import SyntheticCorpus


def search_only(engine: Any, question: str) -> list[tuple[int, float]]:
    """What a question costs before anything is rendered: its analysis, the ranked top 10 and their
    re-ranking (`Engine.rank`)."""
    return engine.rank(question, 10).hits


def ask_json(engine: Any, question: str, k: int = 10) -> str:
    """What `ask --json --k K` does for one question (but printing it)."""
    from bot.render import answer_json_text

    return answer_json_text(engine.ask(question, k=k))


def telegram_reply(engine: Any, question: str) -> object:
    """The bot's reply to a question: 3 hits rendered as the Telegram HTML message."""
    from bot import render

    html = getattr(render, "html_answer", None)
    answer = engine.ask(question, k=3)
    return html(answer) if html else render.render_console(answer, color=False)


def _timed(fn: Callable[[Any, str], object], engine: Any, questions: list[str], repeats: int) -> tuple[dict, float]:
    for q in questions:  # warm-up pass
        fn(engine, q)
    lat = []
    t_all = time.perf_counter()
    for _ in range(repeats):
        for q in questions:
            t = time.perf_counter()
            fn(engine, q)
            lat.append((time.perf_counter() - t) * 1000)
    total = time.perf_counter() - t_all
    return {
        **percentiles(lat),
        "questions": len(lat),
        "per_second": round(len(lat) / total, 1) if total else None,
    }, total


def phase_query(a: dict) -> dict:
    from bot.search import SearchSettings
    from bot.service import Library, open_engine

    corpus, index_dir = Path(a["corpus"]), Path(a["index"])
    questions = json.loads(Path(a["questions"]).read_text())
    settings = SearchSettings()
    t = time.perf_counter()
    engine = open_engine(corpus, settings, index_dir=index_dir)
    open_s = time.perf_counter() - t
    if engine.manifest is None:
        raise SystemExit("the persisted index was not fresh: it was rebuilt instead of loaded")
    out: dict = {"open_seconds": round(open_s, 4), "rss_after_open_mb": status_mb("VmRSS")}
    repeats = a.get("repeats", 3)
    out["search_only"], _ = _timed(search_only, engine, questions, repeats)
    out["end_to_end"], _ = _timed(ask_json, engine, questions, max(1, repeats - 1))
    out["telegram_reply"], _ = _timed(telegram_reply, engine, questions[:200], 1)
    if a.get("rebuild"):
        out["rebuild"] = _during_rebuild(Library(corpus, settings, index_dir=index_dir, engine=engine), questions)
    return out


def _during_rebuild(lib: Any, questions: list[str]) -> dict:
    """Questions every ~2 ms while the library rebuilds in a child process; their latency until the swap."""
    old = lib.engine
    t = time.perf_counter()
    fut = lib.request_reload()
    during = []
    i = 0
    while not fut.done():
        q = questions[i % len(questions)]
        i += 1
        t1 = time.perf_counter()
        search_only(lib.engine, q)
        during.append((time.perf_counter() - t1) * 1000)
        time.sleep(0.002)  # a steady stream of questions, not a busy loop
    summary = fut.result()
    return {
        **percentiles(during),
        "questions": len(during),
        "seconds": round(time.perf_counter() - t, 2),
        "ok": summary.ok,
        "error": summary.error,
        "swapped": lib.engine is not old,
    }


def phase_reference(a: dict) -> dict:
    """rank-bm25's BM25Okapi and this index on the same passages (already analysed) and questions."""
    from rank_bm25 import BM25Okapi

    from bot.analysis import analyzer_for
    from bot.index import Index, ScoringSettings
    from bot.search_settings import DEFAULT_SCORING

    n, seed, nq = a["passages"], a["seed"], a["queries"]
    corpus = SyntheticCorpus(n, seed)
    analyzer = analyzer_for("en")
    arts = (art for chunk in corpus.articles(questions=max(nq, 50)) for art in chunk)
    docs = [analyzer.terms(p) for art in arts for p in art["paragraphs"]]
    questions = [analyzer.terms(q) for q in corpus.questions]
    gc.collect()
    base = status_mb("VmRSS") or 0.0
    t = time.perf_counter()
    bm = BM25Okapi(docs)
    build_s = time.perf_counter() - t
    peak = (status_mb("VmHWM") or resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / MB) - base
    lat, ref_scores = [], []
    for q in questions[:nq]:
        t = time.perf_counter()
        scores = bm.get_scores(q)
        top = np.argsort(scores)[::-1][:10]  # as BM25Okapi.get_top_n does
        lat.append((time.perf_counter() - t) * 1000)
        ref_scores.append(scores[top])
    ours = Index.build(docs, DEFAULT_SCORING)
    ours_lat, _ = _timed(lambda idx, q: idx.top(q, 10), ours, questions, 3)  # type: ignore[arg-type]
    okapi = Index.build(docs, ScoringSettings(variant="okapi"))
    agree = 0
    for q, ref in zip(questions[:nq], ref_scores):
        got = [s for _, s in okapi.top(q, 10)]
        want = [s for s in ref if s != 0][: len(got)] if len(got) < 10 else list(ref)
        agree += bool(len(got) == len(want) and np.allclose(got, want, rtol=1e-5, atol=1e-6))
    return {
        "passages": len(docs),
        "queries": len(lat),
        "build_seconds": round(build_s, 2),
        "peak_mb": round(peak, 1),
        **percentiles(lat),
        "ours_same_n": ours_lat,
        "okapi_top10_agrees": f"{agree}/{len(lat)}",
    }


PHASES = {"query": phase_query, "reference": phase_reference}


def main(argv: list[str]) -> int:
    import logging

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    name, arg_file, out_file = argv
    result = PHASES[name](json.loads(Path(arg_file).read_text()))
    Path(out_file).write_text(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
