"""The write side of the article records (bot/records.py): frames encoded in batches, compressed by a worker
process with the dictionary the main process chose, are the bytes the article-by-article path writes."""

from __future__ import annotations

import contextlib
import json
import os
import signal
from collections.abc import Iterator

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot import build, records, shard, store
from bot.articles import Article
from bot.bench.synthetic import SyntheticCorpus
from bot.columns import PassageTableBuilder, SortedVocabulary
from bot.grams import _level, levels
from bot.records import ArticleWriter, encode_records, meta_values

_text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=40)


@st.composite
def article_with_spans(draw) -> tuple[Article, list[tuple[int, int]]]:
    paragraphs = draw(st.lists(_text.filter(bool), min_size=1, max_size=3))
    a = Article(
        id=draw(_text),
        title=draw(_text),
        paragraphs=paragraphs,
        author=draw(st.none() | _text),
        url=draw(st.none() | _text),
        published=draw(st.none() | st.sampled_from(["2020-02-29", "2019-12", "not a date", "2001-01-01T10:00"])),
        lang=draw(st.none() | st.sampled_from(["en", "ru"])),
        path=draw(st.none() | _text),
    )
    n = len(a.text)
    cuts = sorted(draw(st.lists(st.integers(0, n), max_size=4)))
    spans = [(cuts[i], cuts[i + 1]) for i in range(0, len(cuts) - 1, 2)]
    if draw(st.booleans()):
        spans = spans[::-1]  # out of order: the meta frame keeps the whole text
    return a, spans


@contextlib.contextmanager
def _small_training() -> Iterator[None]:
    """Dictionaries trained after a few frames (else a test would need thousands of articles)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(records, "_TRAIN_FRAMES", 8)
        mp.setattr(records, "_TRAIN_MIN_BYTES", 100)
        yield


def _written(writer: ArticleWriter, meta: bytearray, texts: bytearray) -> dict[str, bytes]:
    out = {k: np.asarray(v).tobytes() for k, v in writer.finish().items()}
    return out | {"art_rec": bytes(meta), "p_rec": bytes(texts)}


@given(st.lists(article_with_spans(), max_size=60), st.integers(1, 7), st.integers(0, 3), st.booleans())
@settings(max_examples=60, deadline=None)
def test_batches_encoded_elsewhere_write_the_same_bytes(arts, size, lag, langs_later):
    """Batches encoded with the dictionaries the writer had `lag` batches earlier (as a worker process gets
    them), some compressed there and some raw, give the bytes of adding the articles one by one."""
    with _small_training():
        _check_batches(arts, size, lag, langs_later)


def _check_batches(arts, size, lag, langs_later) -> None:
    one_meta, one_texts = bytearray(), bytearray()
    one = ArticleWriter(one_meta.extend, one_texts.extend)
    for a, spans in arts:
        one.add(a, spans)
    meta, texts = bytearray(), bytearray()
    batched = ArticleWriter(meta.extend, texts.extend)
    states = []
    for k in range(0, len(arts), size):
        states.append(batched.zdicts)
        batch = arts[k : k + size]
        metas = [meta_values(a) for a, _ in batch]
        langs = None
        if langs_later:  # the languages given apart (identified by the worker)
            langs = [a.lang for a, _ in batch]
            metas = [[*m[:6], "xx", *m[7:]] for m in metas]
        encoded = encode_records(
            metas,
            [[len(p) for p in a.paragraphs] for a, _ in batch],
            [a.text for a, _ in batch],
            [spans for _, spans in batch],
            states[max(0, len(states) - 1 - lag)],
            langs,
        )
        batched.add_records(encoded)
    assert _written(batched, meta, texts) == _written(one, one_meta, one_texts)


def test_some_batches_come_compressed(monkeypatch):
    """(The case above is exercised: once the dictionaries are chosen, batches come compressed.)"""
    monkeypatch.setattr(records, "_TRAIN_FRAMES", 8)
    monkeypatch.setattr(records, "_TRAIN_MIN_BYTES", 100)
    arts = [Article(id=f"a{i}", title="t", paragraphs=[f"text number {i} " * 3]) for i in range(40)]
    writer = ArticleWriter(bytearray().extend, bytearray().extend)
    packed = []
    for a in arts:
        r = encode_records([meta_values(a)], [[len(a.paragraphs[0])]], [a.text], [[(0, len(a.text))]], writer.zdicts)
        packed.append(r.meta[2])
        writer.add_records(r)
    assert not packed[0] and packed[-1]
    assert writer.zdicts[0] is not None


@given(
    st.recursive(
        st.none() | st.integers(-(10**20), 10**20) | _text,
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_text, inner, max_size=3),
        max_leaves=12,
    )
)
@settings(max_examples=300, deadline=None)
def test_metadata_json_is_json_dumps(value):
    assert records._json(value) == json.dumps(value, ensure_ascii=False)


@given(st.integers(0, 2**64 - 5000), st.integers(0, 3000))
@settings(max_examples=100, deadline=None)
def test_sample_levels_in_numpy_are_the_levels(first, n):
    assert levels(first, n).tolist() == [_level(p) for p in range(first, first + n)]


@given(st.lists(st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 10**6)), max_size=5), max_size=30))
@settings(max_examples=100, deadline=None)
def test_passage_columns_added_many_at_once_are_the_ones_added_one_by_one(spans):
    one, many = PassageTableBuilder(), PassageTableBuilder()
    one.add(0, [(1, 2)])
    many.add(0, [(1, 2)])
    for k, sp in enumerate(spans, start=1):
        one.add(k, sp)
    many.add_many(1, spans)
    assert [c.tobytes() for c in many.cols] == [c.tobytes() for c in one.cols]


def test_a_build_with_workers_writes_the_same_records(monkeypatch):
    """Workers compress the records once the main process has trained the dictionaries, and another process
    sorts the vocabulary at the end: the same arrays."""
    monkeypatch.setattr(build, "PARALLEL_AFTER", 10)
    monkeypatch.setattr(build, "BATCH_CHARS", 1500)
    monkeypatch.setattr(records, "_TRAIN_FRAMES", 200)
    monkeypatch.setattr(records, "_DICT_BYTES", 8 << 10)
    monkeypatch.setattr(records, "_TRAIN_MIN_BYTES", 1000)
    arts = [Article(**d) for chunk in SyntheticCorpus(600, seed=3, shape="short").articles() for d in chunk]
    for a in arts[::3]:
        a.lang = None  # (identified by the workers)
    alone = build.build_parts([Article(**vars(a)) for a in arts], workers=0)
    together = build.build_parts([Article(**vars(a)) for a in arts], workers=1)
    assert len(alone.articles.arrays()["art_zdict"])  # (a dictionary was trained)
    for name, a in alone.articles.arrays().items():
        assert np.array_equal(together.articles.arrays()[name], a), name
    # and the vocabulary's arrays, sorted by another process while the main process built the postings
    assert isinstance(together.index.vocab, SortedVocabulary) and isinstance(alone.index.vocab, dict)
    index_arrays = store.index_arrays(alone.index)
    for name, a in store.index_arrays(together.index).items():
        assert np.array_equal(index_arrays[name], a), name


def _synthetic(n: int) -> list[Article]:
    return [Article(**d) for chunk in SyntheticCorpus(n, seed=5, shape="short").articles() for d in chunk]


@pytest.mark.parametrize("when", ["analysing", "sorting the vocabulary"])
def test_a_process_that_dies_fails_the_build_and_publishes_nothing(tmp_path, monkeypatch, when):
    """A worker killed mid-build (or the process sorting the vocabulary at the end): BuildError, and the
    index in use stays the one it was."""
    monkeypatch.setattr(build, "PARALLEL_AFTER", 0)
    monkeypatch.setattr(build, "BATCH_CHARS", 3000)
    gen, _ = build.build_to(tmp_path / "index", _synthetic(50), workers=0)
    killed: list[int] = []

    def kill(pool) -> None:
        for p in list(pool._processes.values()):
            os.kill(p.pid, signal.SIGKILL)
            killed.append(p.pid)

    if when == "analysing":
        submit = shard.Workers.submit

        def submit_and_kill(self, work):
            handle = submit(self, work)
            if self.pool is not None and not killed:
                kill(self.pool)
            return handle

        monkeypatch.setattr(shard.Workers, "submit", submit_and_kill)
    else:
        call_apart = shard.Workers.call_apart

        def call_and_kill(self, fn, *args):
            handle = call_apart(self, fn, *args)
            if handle is not None:
                kill(self._apart)
            return handle

        monkeypatch.setattr(shard.Workers, "call_apart", call_and_kill)
    with pytest.raises(build.BuildError, match="died"):
        build.build_to(tmp_path / "index", _synthetic(600), workers=1)
    assert killed
    assert store.current_generation(tmp_path / "index") == gen
    assert [p.name for p in (tmp_path / "index").iterdir() if p.name.startswith("gen-")] == [gen.name]
