"""The build pipeline: article files -> articles -> passages -> terms -> BM25 index -> a saved generation.

Articles stream through it in batches: each batch's analysis (`bot.shard`: languages identified where the
metadata does not give them, passages split with that language's sentence rules, term ids) runs in a
worker process when the corpus is big (`PARALLEL_BYTES` of files, or once `PARALLEL_AFTER` articles have
come), while the main process reads the next batches; then the main process stores the batch's articles
as compressed records and adds its term ids to the index. Only a few batches are in flight, so memory is
bounded by the index being built (term ids, then the postings), never by the corpus files.

Each shard keeps its own vocabulary and sends back term ids with the terms it saw first; the main process
maps them to one vocabulary, in batch order, so the index is the same whatever the number of workers.
"""

from __future__ import annotations

import array
import logging
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from bot.analysis import analyzer_for
from bot.articles import Article, LoadResult, Skipped, iter_corpus
from bot.columns import PassageTable, PassageTableBuilder, SortedVocabulary
from bot.grams import GramSketch
from bot.index import Index, IndexBuilder
from bot.records import ArticleStore, ArticleWriter, meta_values
from bot.search_settings import SearchSettings
from bot.sentence_table import SentenceTableBuilder
from bot.shard import Work, WorkerDied, Workers, default_workers  # noqa: F401 (default_workers: its old home)
from bot.store import GenerationWriter, index_arrays, manifest_fields

log = logging.getLogger(__name__)

PARALLEL_AFTER = 20_000  # articles analysed in this process before workers start (small corpora never pay)
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
        self.sentences = SentenceTableBuilder()  # each passage's sentence spans (bot.sentence_table)
        self.index = IndexBuilder(settings.scoring)
        self.langs: Counter = Counter()
        self.skipped: list[Skipped] = []
        self.progress = progress
        self.analysis = Workers(settings, workers, PARALLEL_AFTER, big)
        self._remaps: dict[Any, array.array] = {}  # per analysis shard: its term ids -> self.index's
        self.grams = GramSketch()  # 4-gram statistics of a sample of the passages (bot.grams)
        self.articles = 0

    def run(self, items: Iterable[Article | Skipped]) -> Built:
        t0 = time.perf_counter()
        pending: deque[tuple[_Batch, Any]] = deque()
        batch = _Batch()
        try:
            for item in items:
                if isinstance(item, Skipped):
                    self.skipped.append(item)
                    continue
                batch.add(item)
                if batch.chars >= BATCH_CHARS:
                    pending.append((batch, self.analysis.submit(batch.work(self.writer.zdicts))))
                    batch = _Batch()
                    # store what is done, in order; wait only when too much is in flight
                    while pending and (self.analysis.ready(pending[0][1]) or len(pending) > self.analysis.in_flight):
                        self._complete(*pending.popleft())
            if batch.texts:
                pending.append((batch, self.analysis.submit(batch.work(self.writer.zdicts))))
            while pending:
                self._complete(*pending.popleft())
            if self.progress:
                self.progress(len(self.table), len(self.table))
            t1 = time.perf_counter()
            # the vocabulary's sorted arrays made by another process (the second core is idle by now) while
            # this one builds the postings, if the build had workers
            terms = self.analysis.call_apart(SortedVocabulary.encode_terms, list(self.index.vocab))
            index = self.index.build()
            if terms is not None:
                index.vocab = SortedVocabulary.from_arrays(self.analysis.result(terms))
        except WorkerDied as e:
            raise BuildError(str(e)) from None
        finally:
            self.analysis.close()
        t2 = time.perf_counter()
        log.info("articles read, stored and analysed in %.2f s; postings built in %.2f s", t1 - t0, t2 - t1)
        built = Built(self.writer, self.table.table(), index, self.settings, self.skipped, self.langs, t2 - t0)
        built.extras.update(self.grams.arrays())
        built.extras.update(self.sentences.arrays())
        return built

    def _complete(self, batch: _Batch, handle: Any) -> None:
        """Store a batch whose analysis is done: records (with the languages found), passages, term ids."""
        done = self.analysis.result(handle)
        self.writer.add_records(done.records)
        self.langs.update(filter(None, done.langs))
        first = len(self.table)
        self.table.add_many(self.articles, done.spans)
        self.sentences.add(*done.sentences)
        self.articles += len(done.spans)
        wanted = self.grams.wanted(first, len(self.table) - first).tolist()  # passages for the 4-gram sample
        if wanted:
            where = [(k, i) for k, spans in enumerate(done.spans) for i in range(len(spans))]
            pids, analyzers, texts = [], [], []
            for n in wanted:
                k, i = where[n]
                start, end = done.spans[k][i]
                pids.append(first + n)
                analyzers.append(analyzer_for(done.langs[k], self.settings.analysis))
                texts.append(batch.texts[k][start:end])
            self.grams.add_many(pids, analyzers, texts)
        remap = self._remaps.setdefault(done.shard, array.array("i"))
        vocab = self.index.vocab
        remap.extend(map(vocab.__getitem__, done.new_terms))  # a new term gets the next id
        ids = done.ids
        self.index.add_ids(np.frombuffer(remap, dtype=np.int32)[ids] if len(ids) else ids, done.lens)
        if self.progress:
            self.progress(len(self.table), None)


class _Batch:
    """Articles on their way through the pipeline: their texts and what their records keep."""

    def __init__(self) -> None:
        self.texts: list[str] = []
        self.langs: list[str | None] = []
        self.paragraphs: list[list[int]] = []
        self.metas: list[list[Any]] = []
        self.chars = 0

    def add(self, a: Article) -> None:
        text = a.text
        self.texts.append(text)
        self.langs.append(a.lang)
        self.paragraphs.append([len(p) for p in a.paragraphs])
        self.metas.append(meta_values(a))
        self.chars += len(text)

    def work(self, zdicts: tuple[bytes | None, bytes | None]) -> Work:
        return Work(self.texts, self.langs, self.paragraphs, self.metas, zdicts)
