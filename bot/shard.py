"""The analysis of a build, a batch of articles at a time: languages, passages, term ids.

A `Shard` takes a batch's texts (with the languages their metadata gives, and their paragraphs' lengths)
and returns each article's language (identified when not given, many at a time: `detect_articles`),
its passages (split with the sentence rules of that language), and the term ids of every passage in the
shard's own vocabulary, with the terms it added since last time. `Workers` runs batches in this process
or in worker processes (each with its own Shard); the build maps the shards' term ids to one vocabulary.

ASCII text (most news copy) goes to term ids through `bot.wordtable`, many passages per numpy operation;
other text word by word, each distinct word analysed once and remembered as a term id.
"""

from __future__ import annotations

import array
import concurrent.futures
import multiprocessing
import os
from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

from bot.analysis import Analyzer, analyzer_for
from bot.language import detect_articles
from bot.passages import passage_spans
from bot.records import Records, encode_records
from bot.search_settings import SearchSettings
from bot.sentence_table import encode_passages
from bot.wordtable import AsciiTerms


class Work(NamedTuple):
    """A batch, as a shard needs it: texts, languages (None: to identify), paragraph lengths; and for the
    article records, each article's `bot.records.meta_values` and the dictionaries to compress them with."""

    texts: list[str]
    langs: list[str | None]
    paragraphs: list[list[int]]
    metas: list[list[Any]]
    zdicts: tuple[bytes | None, bytes | None] = (None, None)


class Done(NamedTuple):
    """A shard's result for a batch."""

    langs: list[str | None]  # each article's language
    spans: list[list[tuple[int, int]]]  # each article's passages in its text
    ids: np.ndarray  # int32 term ids of the shard's vocabulary, passage after passage (dropped words left out)
    lens: np.ndarray  # int32 terms per passage
    shard: Any  # which shard (its vocabulary) the ids belong to
    new_terms: list[str]  # the terms the shard's vocabulary gained with this batch, in id order
    records: Records  # the articles' frames (`bot.records.encode_records`), with the languages found
    sentences: tuple[np.ndarray, np.ndarray]  # the passages' sentence spans (`bot.sentence_table.encode_passages`)


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
    """Analysis in one process (see the module's docstring)."""

    MEMO = 500_000  # words remembered per analyzer on the word-by-word path; then it starts again

    def __init__(self, settings: SearchSettings, key: Any = None):
        self.settings = settings
        self.key = key if key is not None else os.getpid()
        self.vocab = _Vocab()
        self._ascii: dict[Analyzer, AsciiTerms] = {}
        self._memo: dict[Analyzer, dict[str, int]] = {}

    def run(self, work: Work) -> Done:
        texts, given, paragraphs, metas, zdicts = work
        langs = list(given)
        unknown = [i for i, lang in enumerate(given) if lang is None]
        if unknown:
            for i, lang in zip(unknown, detect_articles([texts[i] for i in unknown])):
                langs[i] = lang
        target = self.settings.passage_chars
        spans = [passage_spans(t, p, target, lang) for t, p, lang in zip(texts, paragraphs, langs)]
        pieces: list[str] = []
        piece_langs: list[str | None] = []
        by_analyzer: dict[Analyzer, list[int]] = {}
        for text, lang, sp in zip(texts, langs, spans):
            if not sp:
                continue
            group = by_analyzer.setdefault(analyzer_for(lang, self.settings.analysis), [])
            for s, e in sp:
                group.append(len(pieces))
                pieces.append(text[s:e] if s or e != len(text) else text)
            piece_langs.extend([lang] * len(sp))
        every, raw = self._ids(pieces, by_analyzer)
        keep = every >= 0  # -1: a dropped word (a stop word, ...)
        if keep.all():
            kept, kept_lens = every, raw
        else:
            doc = np.repeat(np.arange(len(raw), dtype=np.int32), raw)
            kept, kept_lens = every[keep], np.bincount(doc[keep], minlength=len(raw)).astype(np.int32)
        new_terms, self.vocab.new = self.vocab.new, []
        records = encode_records(metas, paragraphs, texts, spans, zdicts, langs)
        sentences = encode_passages(pieces, piece_langs)  # (kept with the index: Engine.ask needs them)
        return Done(langs, spans, kept, kept_lens, self.key, new_terms, records, sentences)

    def _ids(self, pieces: list[str], by_analyzer: dict[Analyzer, list[int]]) -> tuple[np.ndarray, np.ndarray]:
        """Term ids (-1: dropped) of every piece, in order, and how many each piece has."""
        parts: list[tuple[list[int], np.ndarray, np.ndarray]] = []  # (pieces, their ids, their counts)
        for analyzer, group in by_analyzer.items():
            slow = group
            if analyzer._ascii_shortcut:
                terms = self._ascii.get(analyzer)
                if terms is None:
                    terms = self._ascii[analyzer] = AsciiTerms(analyzer, self.vocab.__getitem__)
                ids, lens, slow_at = terms.ids([pieces[i] for i in group])
                if slow_at:
                    keep = np.ones(len(group), dtype=bool)
                    keep[slow_at] = False
                    lens = lens[keep]
                    slow = [group[i] for i in slow_at]
                    parts.append(([g for g, k in zip(group, keep.tolist()) if k], ids, lens))
                else:
                    parts.append((group, ids, lens))
                    slow = []
            if slow:
                parts.append(self._word_by_word(analyzer, [pieces[i] for i in slow], slow))
        if len(parts) == 1 and parts[0][0] == list(range(len(pieces))):
            return parts[0][1], parts[0][2].astype(np.int32)
        raw = np.zeros(len(pieces), dtype=np.int32)
        segments: list[np.ndarray] = [np.zeros(0, np.int32)] * len(pieces)
        for at, ids, lens in parts:
            raw[at] = lens
            for i, seg in zip(at, np.split(ids, np.cumsum(lens)[:-1]) if len(at) else []):
                segments[i] = seg
        return (np.concatenate(segments) if segments else np.zeros(0, np.int32)), raw

    def _word_by_word(self, analyzer: Analyzer, pieces: list[str], at: list[int]):
        """Term ids of pieces the ASCII path does not take: each distinct word analysed once (a memo), text
        in scripts without spaces through the whole chain (bigrams, dictionary words)."""
        memo = self._memo.setdefault(analyzer, {})
        if len(memo) > self.MEMO:
            memo.clear()  # the common words come back within a batch or two
            cache = getattr(analyzer, "_cache", None)  # the analyzer's own word -> term cache: the same
            if isinstance(cache, dict) and len(cache) > self.MEMO:  # words, bounded the same way here
                cache.clear()
        vocab = self.vocab
        get = memo.get
        codes = array.array("i")
        lens = array.array("i")
        for piece in pieces:
            words, nospace = analyzer.words(piece)
            if nospace:  # bigrams come from the whole chain
                ids = [vocab[t] for t in analyzer.terms(piece)]
            else:
                ids = list(map(get, words))
                if None in ids:
                    for i, tid in enumerate(ids):
                        if tid is None:
                            w = words[i]
                            tid = get(w)
                            if tid is None:
                                term = analyzer.term(w)
                                tid = memo[w] = -1 if term is None else vocab[term]
                            ids[i] = tid
            codes.extend(ids)
            lens.append(len(ids))
        return at, np.frombuffer(codes, dtype=np.int32).copy(), np.frombuffer(lens, dtype=np.int32).copy()


# --- worker processes -----------------------------------------------------------------------------------

_worker_shard: Shard | None = None


def _worker_init(settings: SearchSettings) -> None:
    global _worker_shard
    _worker_shard = Shard(settings)


def _worker_run(work: Work) -> Done:
    assert _worker_shard is not None
    return _worker_shard.run(work)


class WorkerDied(Exception):
    """A worker process died (out of memory?)."""


class Workers:
    """Runs batches' analysis: here, and in `workers` processes when the corpus is big (never with
    workers=0). A batch goes to the workers unless they already have QUEUED batches each, else it is
    analysed here at once: the main process reads and stores the articles, and analyses what the workers
    cannot take, so both cores stay busy whatever the balance of the work. Results are taken in submission order."""

    QUEUED = 3  # batches a worker may have waiting before the main process analyses one itself

    def __init__(self, settings: SearchSettings, workers: int | None, start_after: int, big: bool = False):
        self.settings = settings
        self.big = big  # start the workers at once
        self.start_after = start_after  # else once this many passages' worth of text came
        self.workers = default_workers() if workers is None else max(0, workers)
        self.local: Shard | None = Shard(settings, key="local")  # (None once closed: its memory freed)
        self.pool: concurrent.futures.ProcessPoolExecutor | None = None
        self._apart: concurrent.futures.ProcessPoolExecutor | None = None  # (call_apart's)
        self.articles = 0
        self.in_flight = 0  # batches allowed to wait for their results
        self._outstanding: set[concurrent.futures.Future] = set()

    def submit(self, work: Work) -> Any:
        self.articles += len(work.texts)
        if self.pool is None and self.workers and (self.big or self.articles > self.start_after):
            ctx = multiprocessing.get_context("spawn")
            self.pool = concurrent.futures.ProcessPoolExecutor(
                self.workers, mp_context=ctx, initializer=_worker_init, initargs=(self.settings,)
            )
            self.in_flight = 4 * self.workers + 4
        if self.pool is not None:
            self._outstanding = {f for f in self._outstanding if not f.done()}
            # Up to QUEUED batches wait per worker: the main process (reading, storing) is the busier one, and
            # a worker's finished batch counts as outstanding until this process's result thread gets the GIL;
            # with one queued batch the main process analysed ~20% of the batches itself (100k short articles)
            # and, at 1M, ran flat out while its worker was idle half the time.
            if len(self._outstanding) <= self.QUEUED * self.workers:
                future = self.pool.submit(_worker_run, work)
                self._outstanding.add(future)
                return future
        if self.local is None:
            raise RuntimeError("no batches after close()")
        return self.local.run(work)

    @staticmethod
    def ready(handle: Any) -> bool:
        return not isinstance(handle, concurrent.futures.Future) or handle.done()

    def result(self, handle: Any) -> Any:
        if not isinstance(handle, concurrent.futures.Future):
            return handle
        try:
            return handle.result()
        except concurrent.futures.process.BrokenProcessPool as e:
            raise WorkerDied(f"an analysis process died ({e}); out of memory?") from None

    def call_apart(self, fn: Callable[..., Any], *args: Any) -> concurrent.futures.Future | None:
        """`fn(*args)` started in a process of its own (`result` gives its value) when this build has worker
        processes, which end first (their memory, a vocabulary and caches each, is not kept for the rest of
        the build); None when it has none (a small corpus pays for no process)."""
        if self.pool is None:
            return None
        self.close()
        ctx = multiprocessing.get_context("spawn")
        self._apart = concurrent.futures.ProcessPoolExecutor(1, mp_context=ctx)
        return self._apart.submit(fn, *args)

    def close(self) -> None:
        """End the worker processes, and free this process's shard (a vocabulary, tables and memos: a few
        hundred MB at 1M articles, which the postings' build that follows should not have to share)."""
        self.local = None
        for pool in (self.pool, self._apart):
            if pool is not None:
                pool.shutdown(wait=True, cancel_futures=True)
        self.pool = self._apart = None


def default_workers() -> int:
    """Worker processes for analysis: one per core this process may use, but the one it runs on."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:
        cores = os.cpu_count() or 1
    return max(cores - 1, 0)
