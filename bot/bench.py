"""`python -m bot bench`: speed at news-archive scale, on a deterministic synthetic corpus.

The corpus: N passages of 60-120 English-like words in articles of 8-12 paragraphs (each paragraph one
passage). Words follow a Zipf-Mandelbrot law over an open vocabulary, so the vocabulary keeps growing
with N: the top ranks are real English words (function words first, so stop-word removal has work to do),
the rest generated pronounceable words, some inflected (-s, -ed, -ing: work for the stemmer), some names,
some numbers, and curly apostrophes and dashes as real news has. Questions are question-like sentences
("What did X say about Y?") around 2-3 words drawn from a random passage.

Every phase that has to be measured cleanly runs in its own Python process (`python -m bot.bench
--phase ...`): the build (its peak resident memory is the build's own), the cold start and the queries
(a fresh process that only loads the persisted index), and rank-bm25 on the same kind of data.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from bot.passages import DEFAULT_TARGET_CHARS

FORMAT = 1  # of the generated corpus; part of its cache key

# --- the synthetic corpus --------------------------------------------------------------------------

# Real English words at the top ranks, roughly in frequency order: function words first.
FUNCTION_WORDS = """the of and to a in that is was he for it with as his on be at by i this had not are but
from or have an they which one you were her all she there would their we him been has when who will more
no if out so said what up its about into than them can only other new some could time these two may then do
first any my now such like our over man me even most made after also did many before must through back
years where much your way well down should because each just those people how too little state good very
make world still own see men work long get here between both life being under never day same another know
while last might us great old year off come since against go came right used take three""".split()

CONTENT_WORDS = """government president minister police city country week percent official officials company
market report war election party law court health school family house news national public support plan
water food money business trade price prices power energy oil security military forces attack killed
children women leader leaders talks deal vote votes political policy economy economic international foreign
director team season game games club players league match win record history series council bank banks tax
budget rights protest protests crisis rate rates growth chief prime capital region border army troops
hospital doctors patients students teachers workers union strike parliament opposition campaign candidate
minister ministry agency investigation judge trial prison sentence charges company shares investors
profit sales companies industry technology internet online data climate weather storm flood fire
village town streets residents museum film music festival book author artist church population farmers
""".split()

# Onset consonant clusters, vowels and codas of the generated words.
_ONSETS = "b c d f g h j k l m n p r s t v w z br cr dr fr gr pr tr st sh ch th bl cl fl pl sl".split()
_VOWELS = "a e i o u ai ea ou io".split()
_CODAS = ["", "", "", "n", "r", "l", "m", "st", "nd", "rt"]
_SUFFIXES = [b"", b"s", b"ed", b"ing"]
_SOURCES = ["The Daily Ledger", "Northern Courier", "Evening Post", "City Herald", "Radio Free Plains",
            "The Morning Star", "Coastal Times", "Valley Gazette"]  # fmt: skip

_FUNCTION_SET = frozenset(FUNCTION_WORDS)
_TEMPLATES = [
    "What did {a} say about {b}?", "Who was {a} in {b}?", "When did the {a} {b} {c}?",
    "Why is {a} {b}?", "How many {a} were in {b}?", "Where did {a} and {b} meet?",
    "What happened to the {a} {b}?", "Is it true that {a} {b} the {c}?",
]  # fmt: skip

UNIVERSE = 5_000_000  # ranks a word can have; most of them are never drawn
# Zipf-Mandelbrot, p(r) ~ 1 / (r + q)^s, with a steeper tail past rank R: the 220 commonest words make
# ~56% of the text, and the vocabulary grows like real news text (~80k words at 10k passages, ~280k at
# 100k, ~950k at 1M, before inflections and numbers).
ZIPF_S, ZIPF_Q, ZIPF_R, ZIPF_TAIL = 1.1, 2.7, 30_000, 1.8


_REAL = [w.encode() for w in dict.fromkeys(FUNCTION_WORDS + CONTENT_WORDS)]
_SYLLABLES = np.array([(o + v).encode() for o in _ONSETS for v in _VOWELS], dtype="S4")


def _words(ranks: np.ndarray) -> np.ndarray:
    """Rank -> word (bytes), vectorized: real words first, then generated ones, distinct by rank."""
    real = np.array(_REAL, dtype="S24")
    r = np.maximum(ranks.astype(np.int64) - len(_REAL), 0)
    base = len(_SYLLABLES)
    # bijective mixed radix: the first base^2 generated ranks get two syllables, then three, then four
    n2, n3 = base**2, base**3
    nsyl = np.where(r < n2, 2, np.where(r < n2 + n3, 3, 4))
    off = np.where(nsyl == 2, r, np.where(nsyl == 3, r - n2, r - n2 - n3))
    words = np.full(len(r), b"", dtype="S24")
    for i in range(4):
        digit = (off // base**i) % base
        digit = (digit * 37 + i * 11) % base  # scatter neighbours so similar ranks do not look alike
        words = np.char.add(words, np.where(i < nsyl, _SYLLABLES[digit], b""))
    coda = np.array([c.encode() for c in _CODAS], dtype="S2")[(r * 2654435761 >> 7) % len(_CODAS)]
    words = np.char.add(words, coda)
    is_real = ranks < len(_REAL)
    words[is_real] = real[ranks[is_real]]
    return words


class SyntheticCorpus:
    """N passages, deterministic for a seed: articles as JSON-ready dicts, and questions."""

    def __init__(self, n_passages: int, seed: int = 0, passage_chars: int = DEFAULT_TARGET_CHARS):
        self.n = n_passages
        self.seed = seed
        # long enough that the passage splitter never merges two paragraphs: one paragraph, one passage
        self.min_chars = passage_chars // 2 + 10
        self.n_real = len(_REAL)
        self.n_function = len(dict.fromkeys(FUNCTION_WORDS))
        ranks = np.arange(UNIVERSE, dtype=np.float64)
        p = 1.0 / (ranks + ZIPF_Q) ** ZIPF_S
        tail = ranks >= ZIPF_R
        p[tail] = p[ZIPF_R] * ((ZIPF_R + ZIPF_Q) / (ranks[tail] + ZIPF_Q)) ** ZIPF_TAIL
        self.cdf = np.cumsum(p / p.sum())

    def articles(self, chunk: int = 2000, questions: int = 0):
        """Yield lists of article dicts (id, title, author, source, url, published, lang, paragraphs).

        With `questions`, that many passages, chosen at random, each give a question, collected (in
        passage order) in `self.questions` as the generation goes.
        """
        rng = np.random.default_rng(self.seed)
        qrng = np.random.default_rng(self.seed + 7919)
        ask_at = set(qrng.choice(self.n, min(questions, self.n), replace=False).tolist()) if questions else set()
        self.questions = []
        made, art = 0, 0
        while made < self.n:
            counts = []
            while made + sum(counts) < self.n and len(counts) < chunk:
                counts.append(int(min(rng.integers(8, 13), self.n - made - sum(counts))))
            paras = self._paragraphs(rng, sum(counts))
            for i, para in enumerate(paras):
                if made + i in ask_at:
                    self.questions.append(self._question(qrng, para))
            out, pos = [], 0
            for c in counts:
                ps = paras[pos : pos + c]
                pos += c
                title = " ".join(ps[0].split()[:7]).rstrip(".,?!").title()
                out.append(
                    {
                        "id": f"syn-{art:07d}",
                        "title": title,
                        "author": self._name(rng, 2),
                        "source": _SOURCES[art % len(_SOURCES)],
                        "url": f"https://news.example/{art // 1000}/{art:07d}",
                        "published": f"{2000 + art % 24}-{1 + art % 12:02d}-{1 + art % 28:02d}",
                        "lang": "en",
                        "paragraphs": ps,
                    }
                )
                art += 1
            made += sum(counts)
            yield out

    def _draw(self, rng, n: int) -> np.ndarray:
        return np.minimum(np.searchsorted(self.cdf, rng.random(n)), UNIVERSE - 1)

    def _name(self, rng, n: int) -> str:
        r = rng.integers(self.n_real, self.n_real + 5000, n)
        return " ".join(w.decode().capitalize() for w in _words(r))

    def _paragraphs(self, rng, m: int) -> list[str]:
        """`m` paragraphs of 60-120 words (a few more when needed to reach `min_chars`), in sentences."""
        lengths = rng.integers(60, 121, m)
        drawn = lengths + 40  # spare words for short paragraphs
        ranks = self._draw(rng, int(drawn.sum()))
        toks = self._tokens(rng, ranks)
        sentence = rng.integers(8, 25, int(drawn.sum()) // 4)
        question = rng.random(len(sentence)) < 0.03
        out_all, pos, si = [], 0, 0
        for n, d in zip(lengths.tolist(), drawn.tolist()):
            words = toks[pos : pos + d]
            pos += d
            out: list[str] = []
            chars, left = 0, 0
            for t in words:
                if left == 0:
                    if out:
                        out[-1] = out[-1].rstrip(",") + ("?" if question[si] else ".")
                    left = int(sentence[si])
                    si += 1
                    t = t[:1].upper() + t[1:]
                out.append(t)
                chars += len(t) + 1
                left -= 1
                if len(out) >= n and chars >= self.min_chars:
                    break
            out[-1] = out[-1].rstrip(",") + "."
            out_all.append(" ".join(out))
        return out_all

    def _tokens(self, rng, ranks: np.ndarray) -> list[str]:
        """Words for ranks: inflected, some capitalized (names), numbers, punctuation."""
        words = _words(ranks)
        generated = ranks >= self.n_real
        suffix = np.where(generated, rng.choice(4, len(ranks), p=[0.75, 0.15, 0.05, 0.05]), 0)
        words = np.char.add(words, np.array(_SUFFIXES, dtype="S3")[suffix])
        toks = b"\0".join(words.tolist()).decode().split("\0")
        u = rng.random(len(toks))
        is_name = (ranks % 5 == 0) & generated  # proper names: capitalized
        for i in np.flatnonzero(is_name).tolist():
            toks[i] = toks[i].capitalize()
        for i in np.flatnonzero(u < 0.02).tolist():
            toks[i] = str(1950 + int(u[i] * 3700)) if u[i] < 0.01 else f"{int(u[i] * 50000)}"
        for i in np.flatnonzero((u > 0.97) & (u < 0.98) & generated).tolist():
            toks[i] += "’s"  # a curly apostrophe, as real news copy has
        for i in np.flatnonzero((u > 0.98) & (u < 0.985)).tolist():
            toks[i] += " —"
        for i in np.flatnonzero(((u > 0.94) & (u < 0.97)) | (u > 0.985)).tolist():
            toks[i] += ","
        return toks

    def _question(self, rng, paragraph: str) -> str:
        """A question around 2-3 non-function words of a passage, as they appear in it.

        Words are drawn by their occurrences, so the commoner content words come up as often as in text.
        """
        words = [w for w in re.findall(r"[A-Za-z]+", paragraph) if w.lower() not in _FUNCTION_SET]
        picked: list[str] = []
        for i in rng.permutation(len(words)):
            if words[i] not in picked:
                picked.append(words[i])
            if len(picked) == 3:
                break
        picked += ["news", "report", "city"][: 3 - len(picked)]
        a, b, c = picked
        return _TEMPLATES[int(rng.integers(len(_TEMPLATES)))].format(a=a, b=b, c=c)

    def write_jsonl(self, folder: Path, per_file: int = 2000, questions: int = 0) -> int:
        """Write the corpus as .jsonl files (`per_file` articles each); the number of articles."""
        folder.mkdir(parents=True, exist_ok=True)
        n = 0
        for no, chunk in enumerate(self.articles(chunk=per_file, questions=questions)):
            with open(folder / f"part-{no:05d}.jsonl", "w", encoding="utf-8") as f:
                for a in chunk:
                    f.write(json.dumps(a, ensure_ascii=False))
                    f.write("\n")
            n += len(chunk)
        return n


# --- measuring ---------------------------------------------------------------------------------------

MB = 1e6  # memory and sizes are reported in MB (10^6 bytes)

TARGETS = {  # the targets on the 2-core machine, at 1M passages
    "query_p50_ms": 1.0,
    "query_p99_ms": 10.0,
    "speedup_vs_rank_bm25": 1000.0,
    "build_seconds": 60.0,
    "build_peak_mb": 2500.0,
    "cold_start_seconds": 2.0,
    "index_mb": 1000.0,
    "rebuild_p99_ms": 50.0,
}


def _reset_peak_rss() -> bool:
    """Reset the kernel's high-water mark of this process' resident memory (Linux 4.0+)."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def _status_mb(field: str) -> float | None:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) * 1024 / MB
    except OSError:
        pass
    return None


def _peak_rss_mb() -> float:
    hwm = _status_mb("VmHWM")
    return hwm if hwm is not None else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / MB


def _percentiles(ms: list[float]) -> dict:
    if not ms:
        return {"p50_ms": None, "p95_ms": None, "p99_ms": None, "max_ms": None}
    a = np.asarray(ms)
    p50, p95, p99 = np.percentile(a, [50, 95, 99])
    return {"p50_ms": round(float(p50), 4), "p95_ms": round(float(p95), 4), "p99_ms": round(float(p99), 4), "max_ms": round(float(a.max()), 4)}


def _top10(engine, question: str) -> list[tuple[int, float]]:
    terms = engine.query_analyzer(question).terms(question)
    return engine.index.top(terms, 10)


def _renderer():
    """The bot's answer rendering: Telegram HTML when bot.render has it, else console text + JSON."""
    from bot import render

    if hasattr(render, "html_answer"):
        return "telegram-html", render.html_answer
    return "console+json", lambda a: (render.render_console(a, color=False), json.dumps(render.answer_json(a)))


# --- the phases, each run in its own process ------------------------------------------------------------


def phase_build(a: dict) -> dict:
    """Files to a saved index, as `python -m bot index` does it (load, analysis, indexing, saving): its
    wall time and this process' peak resident memory. Then the top 10 of each question, for comparison."""
    from bot import store
    from bot.search import Engine, SearchSettings
    from bot.service import build_index

    corpus, index_dir = Path(a["corpus"]), Path(a["index"])
    t = time.perf_counter()
    fingerprint = store.corpus_fingerprint(corpus, exclude=index_dir)
    build_index(corpus, SearchSettings(), index_dir, fingerprint)
    build_s = time.perf_counter() - t
    build_peak = _peak_rss_mb()
    engine = Engine.load(index_dir)
    questions = json.loads(Path(a["questions"]).read_text())
    results = [_top10(engine, q) for q in questions]
    return {
        "articles": len(engine.articles),
        "passages": len(engine.passages),
        "vocabulary": engine.index.vocabulary_size,
        "postings": int(engine.index.postings_count),
        "build_seconds": round(build_s, 3),
        "build_peak_mb": round(build_peak, 1),
        "results": results,
    }


def phase_query(a: dict) -> dict:
    """A fresh process: open the persisted index (cold start), then time questions; optionally the
    bot's end-to-end answer time and the latency while a reload rebuilds the index."""
    from bot.search import SearchSettings
    from bot.service import Library, open_engine

    corpus, index_dir = Path(a["corpus"]), Path(a["index"])
    questions = json.loads(Path(a["questions"]).read_text())
    expected = json.loads(Path(a["expected"]).read_text()) if a.get("expected") else None
    settings = SearchSettings()
    t = time.perf_counter()
    engine = open_engine(corpus, settings, index_dir=index_dir)
    load_s = time.perf_counter() - t
    if engine.manifest is None:
        raise SystemExit("the persisted index was not fresh: it was rebuilt instead of loaded")
    engine.ask(questions[0], k=3)
    ready = time.time()
    out: dict = {"load_seconds": round(load_s, 4), "ready_at": ready, "rss_after_load_mb": _status_mb("VmRSS")}

    # query latency: analysis + top 10, single thread; one warm-up pass, then `repeats` passes
    for q in questions:
        _top10(engine, q)
    lat = []
    t_all = time.perf_counter()
    for _ in range(a.get("repeats", 3)):
        for q in questions:
            t = time.perf_counter()
            _top10(engine, q)
            lat.append((time.perf_counter() - t) * 1000)
    total = time.perf_counter() - t_all
    out["query"] = {**_percentiles(lat), "queries": len(lat), "qps": round(len(lat) / total, 1)}
    if expected is not None:
        got = [_top10(engine, q) for q in questions]
        mism = sum(1 for g, e in zip(got, expected) if [tuple(x) for x in g] != [tuple(x) for x in e])
        out["query"]["identical_to_in_memory"] = mism == 0
        out["query"]["mismatches"] = mism

    if a.get("end_to_end", True):
        name, render = _renderer()
        e2e = []
        for q in questions[: a.get("e2e_questions", 200)]:
            t = time.perf_counter()
            render(engine.ask(q, k=3))
            e2e.append((time.perf_counter() - t) * 1000)
        out["end_to_end"] = {**_percentiles(e2e), "questions": len(e2e), "renderer": name}

    if a.get("rebuild", True):
        lib = Library(corpus, settings, index_dir=index_dir, engine=engine)
        t = time.perf_counter()
        fut = lib.request_reload()
        during = []
        i = 0
        while not fut.done():
            q = questions[i % len(questions)]
            i += 1
            t1 = time.perf_counter()
            lib.engine.ask(q, k=3) if a.get("rebuild_e2e") else _top10(lib.engine, q)
            during.append((time.perf_counter() - t1) * 1000)
            time.sleep(0.002)  # a steady stream of questions, not a busy loop
        summary = fut.result()
        reload_s = time.perf_counter() - t
        new = lib.engine
        identical = None
        if expected is not None and summary.ok:
            got = [_top10(new, q) for q in questions]
            identical = all([tuple(x) for x in g] == [tuple(x) for x in e] for g, e in zip(got, expected))
        out["rebuild"] = {
            **_percentiles(during),
            "queries": len(during),
            "seconds": round(reload_s, 2),
            "ok": summary.ok,
            "error": summary.error,
            "swapped": new is not engine,
            "identical_after": identical,
        }
    return out


def phase_reference(a: dict) -> dict:
    """rank-bm25's BM25Okapi and this index on the same passages (already analyzed) and questions."""
    from rank_bm25 import BM25Okapi

    from bot.analysis import analyzer_for
    from bot.index import Index, ScoringSettings
    from bot.search import DEFAULT_SCORING

    n, seed, nq = a["passages"], a["seed"], a["queries"]
    corpus = SyntheticCorpus(n, seed)
    analyzer = analyzer_for("en")
    docs = [analyzer.terms(p) for chunk in corpus.articles(questions=max(nq, 50)) for art in chunk for p in art["paragraphs"]]
    questions = [analyzer.terms(q) for q in corpus.questions]
    gc.collect()
    clean = _reset_peak_rss()
    base = _status_mb("VmRSS") or 0.0
    t = time.perf_counter()
    bm = BM25Okapi(docs)
    build_s = time.perf_counter() - t
    peak = _peak_rss_mb() - base
    lat, ref_scores = [], []
    for q in questions[:nq]:
        t = time.perf_counter()
        scores = bm.get_scores(q)
        top = np.argsort(scores)[::-1][:10]  # as BM25Okapi.get_top_n does
        lat.append((time.perf_counter() - t) * 1000)
        ref_scores.append(scores[top])
    ours = Index.build(docs, DEFAULT_SCORING)
    for q in questions:
        ours.top(q, 10)
    ours_lat = []
    for _ in range(3):
        for q in questions:
            t = time.perf_counter()
            ours.top(q, 10)
            ours_lat.append((time.perf_counter() - t) * 1000)
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
        "peak_is_clean": clean,
        **_percentiles(lat),
        "ours_same_n": _percentiles(ours_lat),
        "okapi_top10_agrees": f"{agree}/{len(lat)}",
    }


PHASES = {"build": phase_build, "query": phase_query, "reference": phase_reference}


def _run_phase(name: str, args: dict, workdir: Path) -> tuple[dict, float, float]:
    """Run a phase in a fresh `python -m bot.bench` process: (its result, spawn time, wall seconds)."""
    arg_file = workdir / f"{name}-args.json"
    out_file = workdir / f"{name}-out.json"
    arg_file.write_text(json.dumps(args))
    out_file.unlink(missing_ok=True)
    cmd = [sys.executable, "-m", "bot.bench", "--phase", name, str(arg_file), str(out_file)]
    env = dict(os.environ)
    root = str(Path(__file__).resolve().parent.parent)
    env["PYTHONPATH"] = root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    spawned = time.time()
    t = time.perf_counter()
    proc = subprocess.run(cmd, env=env)
    wall = time.perf_counter() - t
    if proc.returncode != 0 or not out_file.exists():
        raise RuntimeError(f"bench phase {name!r} failed (exit code {proc.returncode})")
    return json.loads(out_file.read_text()), spawned, wall


def _phase_main(argv: list[str]) -> int:
    name, arg_file, out_file = argv
    logging_setup()
    result = PHASES[name](json.loads(Path(arg_file).read_text()))
    Path(out_file).write_text(json.dumps(result))
    return 0


def logging_setup() -> None:
    import logging

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")


# --- the command ---------------------------------------------------------------------------------------


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--passages", type=int, default=100_000, help="size of the synthetic corpus (default 100000)")
    p.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    p.add_argument("--queries", type=int, default=500, help="distinct questions (default 500)")
    p.add_argument("--repeats", type=int, default=3, help="timed passes over the questions (default 3)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--workdir", help="keep the corpus and the index here (reused when it exists); default: a temp dir")
    p.add_argument("--reference-passages", type=int, default=100_000,
                   help="largest corpus to run rank-bm25 on (default 100000); beyond it, its time is extrapolated")  # fmt: skip
    p.add_argument("--reference-queries", type=int, default=20, help="questions for rank-bm25 (default 20)")
    p.add_argument("--no-reference", action="store_true", help="skip rank-bm25")
    p.add_argument("--no-rebuild", action="store_true", help="skip the latency-during-rebuild measurement")
    p.add_argument("--end-to-end-max", type=int, default=200_000,
                   help="measure the bot's end-to-end answer time up to this many passages (default 200000)")  # fmt: skip


def cmd_bench(args) -> int:
    result = run(args)
    if args.json:
        print(json.dumps(result, ensure_ascii=False))
    else:
        print(report(result))
    return 0


def run(args) -> dict:
    n = args.passages
    if n < 1:
        raise SystemExit("bench: --passages must be at least 1")
    own_tmp = args.workdir is None
    root = Path(args.workdir) if args.workdir else Path(tempfile.mkdtemp(prefix="bot-bench-"))
    root.mkdir(parents=True, exist_ok=True)
    try:
        return _run(args, root)
    finally:
        if own_tmp:
            shutil.rmtree(root, ignore_errors=True)


def _run(args, root: Path) -> dict:
    n, seed = args.passages, args.seed
    corpus_dir = root / f"corpus-{n}-s{seed}-v{FORMAT}"
    questions_file = corpus_dir.parent / (corpus_dir.name + ".questions.json")
    index_dir = root / f"index-{n}-s{seed}"
    t = time.perf_counter()
    generated = False
    if not (corpus_dir / ".complete").exists() or not questions_file.exists():
        shutil.rmtree(corpus_dir, ignore_errors=True)
        synth = SyntheticCorpus(n, seed)
        synth.write_jsonl(corpus_dir, questions=args.queries)
        questions_file.write_text(json.dumps(synth.questions))
        (corpus_dir / ".complete").write_text("")
        generated = True
    gen_s = time.perf_counter() - t
    shutil.rmtree(index_dir, ignore_errors=True)
    common = {"corpus": str(corpus_dir), "index": str(index_dir), "questions": str(questions_file)}

    build, _, build_wall = _run_phase("build", common, root)
    expected_file = root / "expected.json"
    expected_file.write_text(json.dumps(build.pop("results")))

    from bot import store

    gen = store.current_generation(index_dir)
    sizes = {p.name: p.stat().st_size for p in gen.iterdir() if p.is_file()}
    index_bytes = sum(sizes.values())
    article_bytes = sum(v for k, v in sizes.items() if k.startswith("art_"))

    query, spawned, query_wall = _run_phase(
        "query",
        {
            **common,
            "expected": str(expected_file),
            "repeats": args.repeats,
            "end_to_end": n <= args.end_to_end_max,
            "rebuild": not args.no_rebuild,
        },
        root,
    )
    cold_start = query.pop("ready_at") - spawned

    result: dict = {
        "passages": build["passages"],
        "articles": build["articles"],
        "seed": seed,
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "numpy": np.__version__,
            "platform": platform.platform(),
        },
        "corpus": {
            "generate_seconds": round(gen_s, 2) if generated else None,
            "reused": not generated,
            "files": len(list(corpus_dir.glob("*.jsonl"))),
            "bytes": sum(p.stat().st_size for p in corpus_dir.glob("*.jsonl")),
            "vocabulary": build["vocabulary"],
            "postings": build["postings"],
            "questions": len(json.loads(questions_file.read_text())),
        },
        "build": {
            "seconds": build["build_seconds"],
            "peak_mb": build["build_peak_mb"],
        },
        "index": {
            "mb": round(index_bytes / MB, 1),
            "postings_and_vocabulary_mb": round((index_bytes - article_bytes) / MB, 1),
            "articles_mb": round(article_bytes / MB, 1),
        },
        "load": {
            "seconds": query["load_seconds"],
            "cold_start_seconds": round(cold_start, 3),
            "rss_after_load_mb": query["rss_after_load_mb"],
        },
        "query": query["query"],
    }
    if "end_to_end" in query:
        result["end_to_end"] = query["end_to_end"]
    if "rebuild" in query:
        result["rebuild"] = query["rebuild"]
    if not args.no_reference:
        m = min(n, args.reference_passages)
        ref, _, _ = _run_phase("reference", {"passages": m, "seed": seed, "queries": args.reference_queries}, root)
        ours = result["query"]["p50_ms"]
        scale = result["passages"] / ref["passages"]
        ref_at_n = ref["p50_ms"] * scale
        ref.update(
            {
                "speedup_same_n": round(ref["p50_ms"] / ref["ours_same_n"]["p50_ms"], 1),
                "extrapolated": scale != 1,
                "p50_ms_at_n": round(ref_at_n, 2),
                "peak_mb_at_n": round(ref["peak_mb"] * scale, 1),
                "speedup_at_n": round(ref_at_n / ours, 1) if ours else None,
            }
        )
        result["rank_bm25"] = ref
    result["targets"] = _targets(result)
    return result


def _targets(r: dict) -> dict:
    measured = {
        "query_p50_ms": r["query"]["p50_ms"],
        "query_p99_ms": r["query"]["p99_ms"],
        "speedup_vs_rank_bm25": (r.get("rank_bm25") or {}).get("speedup_at_n"),
        "build_seconds": r["build"]["seconds"],
        "build_peak_mb": r["build"]["peak_mb"],
        "cold_start_seconds": r["load"]["cold_start_seconds"],
        "index_mb": r["index"]["mb"],
        "rebuild_p99_ms": (r.get("rebuild") or {}).get("p99_ms"),
    }
    out = {}
    for k, limit in TARGETS.items():
        v = measured[k]
        met = None if v is None else (v >= limit if k.startswith("speedup") else v <= limit)
        out[k] = {"target": limit, "measured": v, "met": met}
    out["identical_results"] = {"target": True, "measured": r["query"].get("identical_to_in_memory"), "met": r["query"].get("identical_to_in_memory")}
    return out


def report(r: dict) -> str:
    """The figures as text."""
    q, b, ld, ix = r["query"], r["build"], r["load"], r["index"]
    lines = [
        f"corpus: {r['passages']:,} passages in {r['articles']:,} articles, vocabulary {r['corpus']['vocabulary']:,} terms, "
        f"{r['corpus']['postings']:,} postings",
        f"build, files to a saved index (load, analysis, indexing, saving): {b['seconds']:.1f} s, "
        f"peak resident memory {b['peak_mb']:,.0f} MB",
        f"index on disk: {ix['mb']:,.0f} MB ({ix['postings_and_vocabulary_mb']:,.0f} MB postings and vocabulary, "
        f"{ix['articles_mb']:,.0f} MB article texts and metadata)",
        f"cold start: {ld['cold_start_seconds']:.2f} s from process start to the first answer "
        f"(opening the index {ld['seconds'] * 1000:.0f} ms)",
        f"query latency (top 10, single thread, {q['queries']} queries): p50 {q['p50_ms']:.3f} ms, p95 {q['p95_ms']:.3f} ms, "
        f"p99 {q['p99_ms']:.3f} ms, max {q['max_ms']:.3f} ms; {q['qps']:,.0f} queries/s; "
        f"identical to the in-memory index: {q.get('identical_to_in_memory')}",
    ]
    if "end_to_end" in r:
        e = r["end_to_end"]
        lines.append(
            f"bot end to end (ask + {e['renderer']} rendering, no network): p50 {e['p50_ms']:.2f} ms, "
            f"p95 {e['p95_ms']:.2f} ms, p99 {e['p99_ms']:.2f} ms"
        )
    if "rebuild" in r:
        e = r["rebuild"]
        lines.append(
            f"during a rebuild ({e['seconds']:.0f} s, {'swapped in' if e['ok'] and e['swapped'] else 'FAILED: ' + str(e['error'])}): "
            f"{e['queries']} queries, p50 {e['p50_ms']} ms, p99 {e['p99_ms']} ms, max {e['max_ms']} ms; "
            f"same answers after the swap: {e['identical_after']}"
        )
    if "rank_bm25" in r:
        x = r["rank_bm25"]
        how = (
            f"measured at {x['passages']:,} passages and extrapolated linearly to {r['passages']:,}"
            if x["extrapolated"]
            else f"measured at {x['passages']:,} passages"
        )
        lines.append(
            f"rank-bm25 BM25Okapi ({how}; {x['queries']} queries): p50 {x['p50_ms']:.1f} ms at {x['passages']:,} "
            f"(ours there {x['ours_same_n']['p50_ms']:.3f} ms: {x['speedup_same_n']:,.0f}x); "
            f"at {r['passages']:,}: {x['p50_ms_at_n']:,.1f} ms vs ours {q['p50_ms']:.3f} ms = {x['speedup_at_n']:,.0f}x faster; "
            f"its build {x['build_seconds']:.1f} s and {x['peak_mb']:,.0f} MB at {x['passages']:,}; "
            f"BM25Okapi top-10 scores equal to ours (okapi variant): {x['okapi_top10_agrees']}"
        )
    lines.append("")
    lines.append(f"targets (set for 1M passages; this run has {r['passages']:,}):")
    for k, t in r["targets"].items():
        mark = {True: "met", False: "MISSED", None: "n/a"}[t["met"]]
        lines.append(f"  {k:<24} target {t['target']!s:<8} measured {t['measured']!s:<10} {mark}")
    return "\n".join(lines)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--phase":
        sys.exit(_phase_main(sys.argv[2:]))
    parser = argparse.ArgumentParser(prog="python -m bot.bench")
    add_arguments(parser)
    logging_setup()
    sys.exit(cmd_bench(parser.parse_args()))
