"""The bench command's work (see bot.bench for what it measures): corpora, the measured commands, the report."""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

import numpy as np

from bot.argtypes import int_range
from bot.bench.measure import MB, Run, run_measured
from bot.bench.options import SHAPES
from bot.bench.synthetic import FORMAT, SyntheticCorpus

TARGETS = {  # issue 8's targets on the 2-core machine, at 1M passages (the short shape)
    "build_seconds": 90.0,
    "build_peak_mb": 2000.0,
    "index_mb": 1000.0,
    "cold_start_seconds": 1.5,
    "end_to_end_p50_ms": 1.5,
    "search_only_p50_ms": 1.0,
    "search_only_p99_ms": 10.0,
}


def cmd_bench(args: argparse.Namespace) -> int:
    result = run(args)
    print(json.dumps(result, ensure_ascii=False) if args.json else report(result))
    return 0


def run(args: argparse.Namespace) -> dict:
    own_tmp = args.workdir is None
    root = Path(args.workdir) if args.workdir else Path(tempfile.mkdtemp(prefix="bot-bench-"))
    root.mkdir(parents=True, exist_ok=True)
    try:
        result: dict = {"machine": _machine(), "corpora": []}
        if args.corpus:
            if not args.queries:
                raise SystemExit("bench: --corpus needs --queries FILE (one question per line)")
            questions = _read_questions(Path(args.queries))
            result["corpora"].append(measure_corpus(Path(args.corpus), questions, root / "index-own", args, "own"))
        else:
            n_questions = _count(args.queries) if args.queries else 500
            for shape in SHAPES if args.shape == "both" else (args.shape,):
                corpus, questions = _synthetic(root, args.passages, args.seed, shape, n_questions)
                result["corpora"].append(measure_corpus(corpus, questions, root / f"index-{shape}", args, shape))
            if not args.no_reference:
                result["rank_bm25"] = _reference(args, root, result["corpora"])
        for c in result["corpora"]:
            c["targets"] = _targets(c)
        return result
    finally:
        if own_tmp:
            shutil.rmtree(root, ignore_errors=True)


def _count(text: str) -> int:
    """--queries without --corpus: how many questions to generate."""
    try:
        return int_range(1)(text)
    except argparse.ArgumentTypeError as e:
        raise SystemExit(f"bench: --queries (without --corpus, how many questions): {e}") from None


def _read_questions(path: Path) -> list[str]:
    try:
        lines = path.read_text(encoding="utf-8-sig").split("\n")
    except (OSError, UnicodeDecodeError) as e:
        raise SystemExit(f"bench: cannot read {path}: {e}") from None
    questions = [q.strip() for q in lines if q.strip()]
    if not questions:
        raise SystemExit(f"bench: {path} holds no question")
    return questions


def _synthetic(root: Path, n: int, seed: int, shape: str, n_questions: int) -> tuple[Path, list[str]]:
    """The synthetic corpus as one .jsonl file (generated once per workdir) and its questions."""
    folder = root / f"corpus-{shape}-{n}-s{seed}-v{FORMAT}"
    corpus, qfile = folder / "articles.jsonl", folder / "questions.json"
    if not (folder / ".complete").exists():
        shutil.rmtree(folder, ignore_errors=True)
        synth = SyntheticCorpus(n, seed, shape=shape)
        synth.write_jsonl(corpus, questions=n_questions)
        qfile.write_text(json.dumps(synth.questions))
        (folder / ".complete").write_text("")
    return corpus, json.loads(qfile.read_text())


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "bot", *args]


def _env(index_dir: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BOT_")}
    env["BOT_INDEX_DIR"] = str(index_dir)
    root = str(Path(__file__).resolve().parent.parent.parent)
    env["PYTHONPATH"] = root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return env


def measure_corpus(corpus: Path, questions: list[str], index_dir: Path, args: argparse.Namespace, name: str) -> dict:
    """Build (the index command), cold start (the ask command) and question latency for one corpus."""
    from bot import store

    shutil.rmtree(index_dir, ignore_errors=True)
    env = _env(index_dir)
    build = run_measured(_cli("index", "--corpus", str(corpus)), env).check("python -m bot index")
    manifest = store.read_manifest(index_dir)
    sizes = {p.name: p.stat().st_size for p in store.current_generation(index_dir).iterdir() if p.is_file()}
    colds: list[Run] = []
    for i in range(3):
        ask = _cli("ask", "--corpus", str(corpus), "--json", "--k", "10", questions[i % len(questions)])
        colds.append(run_measured(ask, env).check("python -m bot ask"))
    qfile = index_dir.parent / f"questions-{name}.json"
    qfile.write_text(json.dumps(questions))
    query = _phase(
        "query",
        {"corpus": str(corpus), "index": str(index_dir), "questions": str(qfile), "repeats": args.repeats,
         "rebuild": args.rebuild},
        index_dir.parent,
    )  # fmt: skip
    counts = manifest["counts"]
    index_bytes = sum(sizes.values())
    article_bytes = sum(v for k, v in sizes.items() if k.startswith(("art_", "p_rec", "p_off", "p_zdict")))
    return {
        "name": name,
        "corpus": str(corpus),
        "bytes": sum(p.stat().st_size for p in ([corpus] if corpus.is_file() else corpus.rglob("*")) if p.is_file()),
        "articles": counts["articles"],
        "passages": counts["passages"],
        "vocabulary": counts["terms"],
        "postings": counts["postings"],
        "languages": manifest.get("languages"),
        "build": {
            "command": f"python -m bot index --corpus {corpus}",
            "seconds": round(build.seconds, 2),
            "peak_mb": build.peak_mb,
            "peak_one_process_mb": build.peak_one_mb,
            "cpu_seconds": build.cpu_seconds,
        },
        "index": {
            "bytes": index_bytes,
            "mb": round(index_bytes / MB, 1),
            "postings_and_vocabulary_mb": round((index_bytes - article_bytes) / MB, 1),
            "articles_mb": round(article_bytes / MB, 1),
        },
        "cold_start": {
            "command": f"python -m bot ask --corpus {corpus} --json --k 10 QUESTION",
            "seconds": round(statistics.median(r.seconds for r in colds), 3),
            "runs": [round(r.seconds, 3) for r in colds],
            "open_index_seconds": query.pop("open_seconds"),
        },
        **query,
    }


def _phase(name: str, args: dict, workdir: Path) -> dict:
    """Run a phase of bot.bench.phases in a fresh process; its result."""
    arg_file, out_file = workdir / f"{name}-args.json", workdir / f"{name}-out.json"
    arg_file.write_text(json.dumps(args))
    out_file.unlink(missing_ok=True)
    env = _env(Path(args.get("index", workdir)))
    cmd = [sys.executable, "-m", "bot.bench.phases", name, str(arg_file), str(out_file)]
    run_measured(cmd, env).check(f"bench phase {name}")
    return json.loads(out_file.read_text())


def _reference(args: argparse.Namespace, root: Path, corpora: list[dict]) -> dict:
    """rank-bm25 on up to --reference-passages of the long shape, extrapolated linearly to N."""
    n = args.passages
    m = min(n, args.reference_passages)
    ref = _phase("reference", {"passages": m, "seed": args.seed, "queries": args.reference_queries}, root)
    ours = next((c for c in corpora if c["name"] == "long"), corpora[0])["search_only"]["p50_ms"]
    scale = n / ref["passages"]
    ref["speedup_same_n"] = round(ref["p50_ms"] / ref["ours_same_n"]["p50_ms"], 1)
    ref["extrapolated"] = scale != 1
    ref["p50_ms_at_n"] = round(ref["p50_ms"] * scale, 2)
    ref["speedup_at_n"] = round(ref["p50_ms"] * scale / ours, 1) if ours else None
    return ref


def _machine() -> dict:
    return {
        "cpus": os.cpu_count(),
        "load_average": list(os.getloadavg()),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "platform": platform.platform(),
    }


def _targets(c: dict) -> dict:
    measured = {
        "build_seconds": c["build"]["seconds"],
        "build_peak_mb": c["build"]["peak_mb"],
        "index_mb": c["index"]["mb"],
        "cold_start_seconds": c["cold_start"]["seconds"],
        "end_to_end_p50_ms": c["end_to_end"]["p50_ms"],
        "search_only_p50_ms": c["search_only"]["p50_ms"],
        "search_only_p99_ms": c["search_only"]["p99_ms"],
    }
    return {k: {"target": t, "measured": measured[k], "met": measured[k] <= t} for k, t in TARGETS.items()}


def report(r: dict) -> str:
    """The figures as text."""
    m = r["machine"]
    lines = [f"{m['cpus']} CPUs, load average {', '.join(f'{x:.1f}' for x in m['load_average'])} at the start"]
    for c in r["corpora"]:
        b, ix, cs, q, e, tg = (
            c["build"],
            c["index"],
            c["cold_start"],
            c["search_only"],
            c["end_to_end"],
            c["telegram_reply"],
        )
        lines += [
            "",
            f"[{c['name']}] {c['passages']:,} passages in {c['articles']:,} articles ({c['bytes'] / MB:,.0f} MB), "
            f"vocabulary {c['vocabulary']:,} terms, {c['postings']:,} postings, "
            f"languages {', '.join(c['languages'] or [])}",
            f"  build, files to a saved index ({b['command']}): {b['seconds']:.1f} s "
            f"({b['cpu_seconds']:.1f} s of CPU), peak resident memory {b['peak_mb']:,.0f} MB "
            f"(all processes; largest one {b['peak_one_process_mb']:,.0f} MB)",
            f"  index on disk: {ix['mb']:,.0f} MB ({ix['postings_and_vocabulary_mb']:,.0f} MB postings and vocabulary, "
            f"{ix['articles_mb']:,.0f} MB article texts and metadata)",
            f"  cold start ({cs['command']}): {cs['seconds']:.2f} s, process start to printed answer "
            f"(median of {len(cs['runs'])}; opening the index {cs['open_index_seconds'] * 1000:.0f} ms)",
            f"  search only (analysis, top 10, re-ranking; no rendering): p50 {q['p50_ms']:.3f} / "
            f"p95 {q['p95_ms']:.3f} / p99 {q['p99_ms']:.3f} ms, {q['per_second']:,.0f} questions/s",
            f"  end to end, ask --json --k 10 per question (answer, highlights, JSON line; no printing): "
            f"p50 {e['p50_ms']:.3f} / p95 {e['p95_ms']:.3f} / p99 {e['p99_ms']:.3f} ms",
            f"  Telegram reply (3 hits as HTML, no network): p50 {tg['p50_ms']:.3f} / p99 {tg['p99_ms']:.3f} ms",
        ]
        if "rebuild" in c:
            x = c["rebuild"]
            state = "swapped in" if x["ok"] and x["swapped"] else f"FAILED: {x['error']}"
            lines.append(
                f"  questions during a rebuild ({x['seconds']:.0f} s, {state}): {x['questions']}, "
                f"p50 {x['p50_ms']} / p99 {x['p99_ms']} / max {x['max_ms']} ms (search only)"
            )
        lines.append("  targets (set for 1M short articles):")
        for k, t in c["targets"].items():
            mark = "met" if t["met"] else "MISSED"
            lines.append(f"    {k:<22} target {t['target']!s:<8} measured {t['measured']!s:<10} {mark}")
    if "rank_bm25" in r:
        x = r["rank_bm25"]
        n = r["corpora"][0]["passages"]
        how = f"extrapolated linearly from {x['passages']:,}" if x["extrapolated"] else "measured"
        lines += [
            "",
            f"rank-bm25 BM25Okapi, search only ({x['queries']} questions): p50 {x['p50_ms']:.1f} ms at "
            f"{x['passages']:,} passages (ours there {x['ours_same_n']['p50_ms']:.3f} ms: "
            f"{x['speedup_same_n']:,.0f}x); at {n:,} ({how}): "
            f"{x['p50_ms_at_n']:,.1f} ms, {x['speedup_at_n']:,.0f}x ours; its top-10 scores equal ours (okapi): "
            f"{x['okapi_top10_agrees']}",
        ]
    return "\n".join(lines)
