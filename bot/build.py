"""The build pipeline: article files -> articles -> passages -> terms -> BM25 index -> a saved generation.

Articles stream through it: each is split into passages, written to the store as a compressed record,
and its passages analysed, as it comes; only a few batches are in flight, so memory is bounded by the
index being built (term ids, then the postings), never by the corpus files.

Analysis (language identification when an article does not say its language, then the analysis chain)
is most of the work, and runs in worker processes when the corpus is big (`PARALLEL_BYTES` of files, or
once `PARALLEL_AFTER` passages have come):
the main process reads, splits and stores the next batches meanwhile. Each worker keeps its own
vocabulary and sends back term ids with the terms it saw first; the main process maps them to one
vocabulary, in batch order, so the index is the same whatever the number of workers.
"""

from __future__ import annotations

import array
import concurrent.futures
import logging
import multiprocessing
import os
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from bot.analysis import AnalysisSettings, Analyzer, analyzer_for
from bot.articles import Article, LoadResult, Skipped, iter_corpus
from bot.columns import PassageTable, PassageTableBuilder
from bot.grams import GramSketch
from bot.index import Index, IndexBuilder
from bot.language import detect_article
from bot.passages import Passage, split_article
from bot.records import ArticleStore, ArticleWriter
from bot.search_settings import SearchSettings
from bot.store import GenerationWriter, index_arrays, manifest_fields

log = logging.getLogger(__name__)

PARALLEL_AFTER = 20_000  # passages analysed in this process before workers start (small corpora never pay)
PARALLEL_BYTES = 16 << 20  # corpus files at least this big: workers from the start
BATCH_CHARS = 1 << 20  # text per batch sent to a worker
Progress = Callable[[int, int | None], None]  # (passages done, total if known)


class EmptyCorpus(Exception):
    """The corpus holds no article that could be loaded."""


class BuildError(Exception):
    """The build could not finish (a worker process died, ...); the index in use stays."""


@dataclass
class Built:
    """A finished build's parts (what `bot.store.save` and `Engine` need)."""

    articles: Any  # ArticleStore, or the ArticleWriter of a streamed build (then only its length counts)
    passages: PassageTable
    index: Index
    settings: SearchSettings
    skipped: list[Skipped]
    language_counts: Counter
    build_seconds: float
    built_at: float = field(default_factory=time.time)
    extras: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def languages(self) -> frozenset[str]:
        return frozenset(self.language_counts)

    @property
    def main_language(self) -> str | None:
        top = self.language_counts.most_common(1)
        return top[0][0] if top else None


# --- the sources -------------------------------------------------------------------------------------


def corpus_items(corpus: Path) -> Iterator[Article | Skipped]:
    """The corpus' articles and skipped parts, streamed in corpus order (`bot.articles.iter_corpus`).
    EmptyCorpus when it does not exist."""
    corpus = Path(corpus)
    if not corpus.exists():
        raise EmptyCorpus(f"corpus {corpus} does not exist")
    yield from iter_corpus(corpus)


def _items(source: Iterable[Article | Skipped] | LoadResult) -> Iterable[Article | Skipped]:
    if isinstance(source, LoadResult):
        return [*source.skipped, *source.articles]
    return source


# --- building ----------------------------------------------------------------------------------------


def build_parts(
    source: Iterable[Article | Skipped] | LoadResult,
    settings: SearchSettings | None = None,
    progress: Progress | None = None,
    *,
    workers: int | None = None,
) -> Built:
    """Build in memory (the article records in a bytearray): for small corpora, tests, evaluation."""
    settings = settings or SearchSettings()
    meta, texts = bytearray(), bytearray()
    built = _Pipeline(settings, meta.extend, texts.extend, progress, workers).run(_items(source))
    parts = built.articles.finish()
    parts["art_rec"] = np.frombuffer(meta, dtype=np.uint8)
    parts["p_rec"] = np.frombuffer(texts, dtype=np.uint8)
    built.articles = ArticleStore(parts)
    return built


def build_to(
    index_dir: Path,
    source: Iterable[Article | Skipped] | LoadResult,
    settings: SearchSettings | None = None,
    *,
    corpus_fp: dict | None = None,
    progress: Progress | None = None,
    workers: int | None = None,
) -> tuple[Path, Built]:
    """Build straight into a new generation of `index_dir` (article records written as they come) and
    publish it; the generation's folder and the build's facts. EmptyCorpus (nothing published) when no
    article could be loaded; OSError when the index cannot be written (the one in use stays)."""
    settings = settings or SearchSettings()
    t0 = time.perf_counter()
    with GenerationWriter(index_dir) as w:
        meta, texts = w.stream("art_rec"), w.stream("p_rec")
        big = bool(corpus_fp and corpus_fp.get("bytes", 0) >= PARALLEL_BYTES)
        built = _Pipeline(settings, meta.write, texts.write, progress, workers, big).run(_items(source))
        if not len(built.articles):
            reasons = "; ".join(f"{s.path}: {s.reason}" for s in built.skipped[:5])
            raise EmptyCorpus("no article could be loaded" + (f" ({reasons})" if reasons else ""))
        t1 = time.perf_counter()
        w.arrays(built.articles.finish())
        w.arrays({"p_" + c: a for c, a in built.passages.columns().items()})
        w.arrays(index_arrays(built.index))
        w.arrays({"x_" + name: a for name, a in built.extras.items()})  # as bot.store.save writes extras
        built.build_seconds = time.perf_counter() - t0
        gen = w.commit(manifest_fields(built, corpus_fp, None))
    log.info("index written in %.2f s", time.perf_counter() - t1)
    return gen, built


class _Pipeline:
    """One build: articles in; records, passages and term ids out, batch by batch."""

    def __init__(
        self,
        settings: SearchSettings,
        write_meta: Callable[[bytes], Any],
        write_text: Callable[[bytes], Any],
        progress: Progress | None,
        workers: int | None,
        big: bool = False,
    ):
        self.settings = settings
        self.writer = ArticleWriter(write_meta, write_text)
        self.table = PassageTableBuilder()
        self.index = IndexBuilder(settings.scoring)
        self.langs: Counter = Counter()
        self.skipped: list[Skipped] = []
        self.progress = progress
        self.analysis = _Analysis(settings.analysis, workers, big)
        self._remaps: dict[Any, array.array] = {}  # per analysis shard: its term ids -> self.index's
        self.grams = GramSketch()  # 4-gram statistics of a sample of the passages (bot.grams)

    def run(self, items: Iterable[Article | Skipped]) -> Built:
        t0 = time.perf_counter()
        pending: deque[tuple[_Batch, Any]] = deque()
        batch = _Batch()
        n = 0
        try:
            for item in items:
                if isinstance(item, Skipped):
                    self.skipped.append(item)
                    continue
                batch.add(item, split_article(item, n, self.settings.passage_chars))
                n += 1
                if batch.chars >= BATCH_CHARS:
                    pending.append((batch, self.analysis.submit(batch)))
                    batch = _Batch()
                    # store what is done, in order; wait only when too much is in flight
                    while pending and (self.analysis.ready(pending[0][1]) or len(pending) > self.analysis.in_flight):
                        self._complete(*pending.popleft())
            if batch.articles:
                pending.append((batch, self.analysis.submit(batch)))
            while pending:
                self._complete(*pending.popleft())
        finally:
            self.analysis.close()
        if self.progress:
            self.progress(len(self.table), len(self.table))
        t1 = time.perf_counter()
        index = self.index.build()
        t2 = time.perf_counter()
        log.info("articles read, stored and analysed in %.2f s; postings built in %.2f s", t1 - t0, t2 - t1)
        built = Built(self.writer, self.table.table(), index, self.settings, self.skipped, self.langs, t2 - t0)
        built.extras.update(self.grams.arrays())
        return built

    def _complete(self, batch: _Batch, handle: Any) -> None:
        """Store a batch whose analysis is done: records (with the languages found), passages, term ids."""
        langs, ids, lens, shard, new_terms = self.analysis.result(handle)
        for a, ps, lang in zip(batch.articles, batch.passages, langs):
            a.lang = lang
            self.writer.add(a, ps)
            if lang:
                self.langs[lang] += 1
        for a, lang, ps in zip(batch.articles, langs, batch.passages):
            pid = len(self.table)
            if any(self.grams.wants(pid + i) for i in range(len(ps))):
                text, analyzer = a.text, analyzer_for(lang, self.settings.analysis)
                for i, p in enumerate(ps):
                    self.grams.add(pid + i, analyzer, text[p.start : p.end])
            self.table.extend(ps)
        remap = self._remaps.setdefault(shard, array.array("i"))
        vocab = self.index.vocab
        remap.extend(map(vocab.__getitem__, new_terms))  # a new term gets the next id
        self.index.add_ids(np.frombuffer(remap, dtype=np.int32)[ids] if len(ids) else ids, lens)
        if self.progress:
            self.progress(len(self.table), None)


class _Batch:
    """Articles on their way through the pipeline, with their passages."""

    def __init__(self) -> None:
        self.articles: list[Article] = []
        self.passages: list[list[Passage]] = []
        self.chars = 0

    def add(self, a: Article, passages: list[Passage]) -> None:
        self.articles.append(a)
        self.passages.append(passages)
        self.chars += passages[-1].end if passages else 0

    def work(self) -> tuple[list[str], list[str | None], list[list[tuple[int, int]]]]:
        """What an analysis shard needs: texts, languages (None: to identify), passage spans."""
        return (
            [a.text for a in self.articles],
            [a.lang for a in self.articles],
            [[(p.start, p.end) for p in ps] for ps in self.passages],
        )


# --- analysis: in this process, or in worker processes --------------------------------------------------


class _Vocab(dict):
    """term -> id of one shard, remembering the terms it added since they were last collected."""

    def __init__(self) -> None:
        super().__init__()
        self.new: list[str] = []

    def __missing__(self, term: str) -> int:
        tid = self[term] = len(self)
        self.new.append(term)
        return tid


class Shard:
    """Analysis in one process: languages identified, passages turned into term ids of its own vocabulary.

    Words go to term ids through a memo per analyzer (word -> id, -1 for a dropped word): a token costs
    one dict look-up in C (`map`), a new word one call to `Analyzer.term`.
    """

    MEMO = 500_000  # words remembered per analyzer; past that the memo starts again (bounded memory)

    def __init__(self, settings: AnalysisSettings, key: Any = None):
        self.settings = settings
        self.key = key if key is not None else os.getpid()
        self.vocab = _Vocab()
        self._memo: dict[Analyzer, dict[str, int]] = {}

    def _resolve(self, analyzer: Analyzer, memo: dict[str, int], words: list[str], ids: list) -> None:
        """Fill in the ids of words the memo lacks (None in `ids`): each analysed once, then remembered."""
        vocab = self.vocab
        for i, tid in enumerate(ids):
            if tid is None:
                w = words[i]
                tid = memo.get(w)
                if tid is None:
                    term = analyzer.term(w)
                    tid = memo[w] = -1 if term is None else vocab[term]
                ids[i] = tid

    def run(self, texts: list[str], langs: list[str | None], spans: list[list[tuple[int, int]]]) -> tuple:
        """(languages, term ids, kept terms per passage, this shard's key, the terms new since last time)."""
        for analyzer, memo in self._memo.items():
            if len(memo) > self.MEMO:
                memo.clear()  # the common words come back within a batch or two
                cache = getattr(analyzer, "_cache", None)  # the analyzer's own word -> term cache: the same
                if isinstance(cache, dict) and len(cache) > self.MEMO:  # words, bounded the same way here
                    cache.clear()
        found: list[str | None] = []
        codes = array.array("i")
        lens = array.array("i")
        vocab = self.vocab
        for text, lang, sp in zip(texts, langs, spans):
            if lang is None and sp:
                lang = detect_article(text)
            found.append(lang)
            if not sp:
                continue
            analyzer = analyzer_for(lang, self.settings)
            memo = self._memo.setdefault(analyzer, {})
            get = memo.get
            for s, e in sp:
                piece = text[s:e] if s or e != len(text) else text
                words, nospace = analyzer.words(piece)
                if nospace:  # bigrams come from the whole chain
                    ids = [vocab[t] for t in analyzer.terms(piece)]
                else:
                    ids = list(map(get, words))
                    if None in ids:
                        self._resolve(analyzer, memo, words, ids)
                codes.extend(ids)
                lens.append(len(ids))
        every = np.frombuffer(codes, dtype=np.int32) if len(codes) else np.zeros(0, np.int32)
        raw = np.frombuffer(lens, dtype=np.int32) if len(lens) else np.zeros(0, np.int32)
        keep = every >= 0  # -1: a dropped word (a stop word, ...)
        if keep.all():
            kept, kept_lens = every.copy(), raw.copy()
        else:
            doc = np.repeat(np.arange(len(raw), dtype=np.int32), raw)
            kept, kept_lens = every[keep], np.bincount(doc[keep], minlength=len(raw)).astype(np.int32)
        new_terms, vocab.new = vocab.new, []
        return found, kept, kept_lens, self.key, new_terms


_worker_shard: Shard | None = None


def _worker_init(settings: AnalysisSettings) -> None:
    global _worker_shard
    _worker_shard = Shard(settings)


def _worker_run(work: tuple) -> tuple:
    assert _worker_shard is not None
    return _worker_shard.run(*work)


class _Analysis:
    """Runs batches' analysis: here, and in `workers` processes when the corpus is big (never with
    workers=0). A batch goes to a worker when one is free, else it is analysed here at once: the main
    process reads and stores the articles, and analyses what the workers cannot take, so both cores stay
    busy whatever the balance of the work. Results are taken in submission order."""

    def __init__(self, settings: AnalysisSettings, workers: int | None, big: bool = False):
        self.settings = settings
        self.big = big  # start the workers at once
        self.workers = default_workers() if workers is None else max(0, workers)
        self.local = Shard(settings, key="local")
        self.pool: concurrent.futures.ProcessPoolExecutor | None = None
        self.passages = 0
        self.in_flight = 0  # batches allowed to wait for their results
        self._outstanding: set[concurrent.futures.Future] = set()

    def submit(self, batch: _Batch) -> Any:
        self.passages += sum(len(ps) for ps in batch.passages)
        if self.pool is None and self.workers and (self.big or self.passages > PARALLEL_AFTER):
            ctx = multiprocessing.get_context("spawn")
            self.pool = concurrent.futures.ProcessPoolExecutor(
                self.workers, mp_context=ctx, initializer=_worker_init, initargs=(self.settings,)
            )
            self.in_flight = 4 * self.workers + 4
        if self.pool is not None:
            self._outstanding = {f for f in self._outstanding if not f.done()}
            if len(self._outstanding) <= self.workers:  # every worker busy, and one batch queued
                future = self.pool.submit(_worker_run, batch.work())
                self._outstanding.add(future)
                return future
        return self.local.run(*batch.work())

    @staticmethod
    def ready(handle: Any) -> bool:
        return not isinstance(handle, concurrent.futures.Future) or handle.done()

    def result(self, handle: Any) -> tuple:
        if not isinstance(handle, concurrent.futures.Future):
            return handle
        try:
            return handle.result()
        except concurrent.futures.process.BrokenProcessPool as e:
            raise BuildError(f"an analysis process died ({e}); out of memory?") from None

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)
            self.pool = None


def default_workers() -> int:
    """Worker processes for analysis: one per core this process may use, but the one it runs on."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:
        cores = os.cpu_count() or 1
    return max(cores - 1, 0)
