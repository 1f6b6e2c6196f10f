"""The persisted index (bot.store), the fast build path, exact pruned top-k, and Library reloads."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import os
import pickle
import random
import shutil
import threading
from pathlib import Path

import numpy as np
import pytest

import bot.index as index_mod
from bot import generations, store
from bot.articles import Article, load_corpus
from bot.bench.synthetic import SyntheticCorpus
from bot.index import Index, ScoringSettings
from bot.passages import split_article
from bot.render import answer_json
from bot.search import Engine, SearchSettings
from bot.service import EmptyCorpus, Library, open_engine
from bot.settings import SAMPLE_CORPUS

ROOT = Path(__file__).resolve().parent.parent

QUESTIONS = [
    "Who signed the road maps?",
    "Belarus Russia integration",
    "What did Lukashenko say about gas prices?",
    "газ нефть интеграция",
    "news",
    "unknownword zzzz",
    "the the the",
]


def make_corpus(folder: Path, passages: int = 1200, seed: int = 3) -> tuple[Path, list[str]]:
    """Fixture articles, the sample article and a small synthetic corpus, as files."""
    folder.mkdir(parents=True, exist_ok=True)
    for f in (ROOT / "tests" / "fixtures" / "articles").iterdir():
        if f.is_file():
            shutil.copy(f, folder / f.name)
    for f in SAMPLE_CORPUS.iterdir():
        if f.is_file():
            shutil.copy(f, folder / f.name)
    synth = SyntheticCorpus(passages, seed)
    synth.write_jsonl(folder / "synthetic", per_file=40, questions=40)
    return folder, QUESTIONS + synth.questions


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    return make_corpus(tmp_path_factory.mktemp("corpus") / "corpus")


@pytest.fixture(scope="module")
def built(corpus):
    folder, questions = corpus
    return Engine.build(load_corpus(folder)), questions


def same_answers(a: Engine, b: Engine, questions: list[str], k: int = 5) -> None:
    for q in questions:
        ta = a.query_analyzer(q).terms(q)
        tb = b.query_analyzer(q).terms(q)
        assert ta == tb
        for k_, off in ((10, 0), (3, 2), (1, 0)):
            assert a.index.top(ta, k_, off) == b.index.top(tb, k_, off), q
        ans_a, ans_b = a.ask(q, k), b.ask(q, k)
        assert answer_json(ans_a) == answer_json(ans_b), q
        assert ans_a.hits == ans_b.hits
        assert ans_a.more == ans_b.more


# --- round trip ------------------------------------------------------------------------------------


def test_round_trip_gives_identical_results(built, tmp_path):
    engine, questions = built
    fp = store.corpus_fingerprint(SAMPLE_CORPUS)
    gen = engine.save(tmp_path / "idx", fp)
    assert gen.parent == tmp_path / "idx" and (gen / store.MANIFEST).exists()
    loaded = Engine.load(tmp_path / "idx")
    assert isinstance(loaded.index.vocab, store.SortedVocabulary)
    assert isinstance(loaded.articles, store.ArticleStore)
    s1, s2 = engine.stats(), loaded.stats()
    assert {k: v for k, v in s1.items()} == {k: v for k, v in s2.items()}
    assert loaded.languages == engine.languages and loaded.main_language == engine.main_language
    assert list(loaded.passages) == list(engine.passages)
    assert [a.title for a in loaded.articles] == [a.title for a in engine.articles]
    for name in ("indptr", "doc_ids", "weights", "doc_len", "idf", "max_w", "champ_terms", "champ_pos"):
        np.testing.assert_array_equal(getattr(loaded.index, name), getattr(engine.index, name))
    for term, tid in engine.index.vocab.items():
        assert loaded.index.vocab.get(term) == tid
    same_answers(engine, loaded, questions)


def test_round_trip_of_a_loaded_engine(built, tmp_path):
    engine, questions = built
    engine.save(tmp_path / "a")
    once = Engine.load(tmp_path / "a")
    once.save(tmp_path / "b")  # written again from memory-mapped parts
    twice = Engine.load(tmp_path / "b")
    same_answers(engine, twice, questions[:15])


def test_sorted_vocabulary_long_and_non_ascii_terms():
    terms = ["a", "ab", "abc", "b", "x" * 40, "x" * 40 + "y", "x" * 41, "дом", "домa", "日本", "ﬁ", "é", "e\u0301"]
    terms += [f"w{i}" for i in range(300)]
    vocab = {t: i for i, t in enumerate(terms)}
    parts = store.SortedVocabulary.encode(vocab)
    sv = store.SortedVocabulary(parts["vocab_keys"], parts["vocab_ids"], parts["vocab_blob"], parts["vocab_off"])
    assert len(sv) == len(vocab)
    for t, i in vocab.items():
        assert sv.get(t) == i and sv[t] == i and t in sv
    missing_terms = ["", "x" * 39, "x" * 42, "x" * 40 + "z", "дo", "w300", "abcd", "\0"]
    for missing in missing_terms:
        assert sv.get(missing) is None and missing not in sv
    assert sorted(sv) == sorted(vocab, key=lambda t: t.encode())
    asked = [*missing_terms, *terms, "x" * 40 + "yy"]
    assert sv.get_many(asked) == [vocab.get(t) for t in asked]
    assert sv.get_many([]) == []


def test_stored_articles_behave_like_articles(built, tmp_path):
    engine, _ = built
    engine.save(tmp_path / "idx")
    loaded = Engine.load(tmp_path / "idx")
    for i in (0, 1, len(engine.articles) - 1, -1):
        a, b = engine.articles[i], loaded.articles[i]
        assert a == b and b == a
        assert b.text == a.text and b.paragraphs == a.paragraphs
    b = loaded.articles[0]
    plain = pickle.loads(pickle.dumps(b))
    assert type(plain) is Article and plain == engine.articles[0]
    changed = dataclasses.replace(b, title="Other")
    assert changed.title == "Other" and changed.paragraphs == b.paragraphs
    assert loaded.articles[0:2] == engine.articles[0:2]
    with pytest.raises(IndexError):
        loaded.articles[len(engine.articles)]


def test_passage_table_is_a_sequence_of_passages(built):
    engine, _ = built
    expected = [p for no, a in enumerate(engine.articles) for p in split_article(a, no, engine.settings.passage_chars)]
    table = engine.passages
    assert len(table) == len(expected)
    assert list(table) == expected
    assert table[0] == expected[0] and table[-1] == expected[-1]
    assert table[2:5] == expected[2:5]
    assert table == expected
    with pytest.raises(IndexError):
        table[len(expected)]


# --- exact top-k with pruning ----------------------------------------------------------------------


def brute_top(idx: Index, query: list[str], k: int, offset: int) -> list[tuple[int, float]]:
    scores = idx.get_scores(query)
    touching = set()
    for t in query:
        touching |= set(idx.postings(t)[0].tolist())
    order = sorted(touching, key=lambda i: (-scores[i], i))
    return [(i, float(scores[i])) for i in order[offset : offset + k]]


@pytest.mark.parametrize("variant", ["plus", "okapi", "lucene", "l"])
@pytest.mark.parametrize("champions,seed_all", [(4, 8), (2, 3), (64, 2048)])
def test_pruned_top_is_exact(monkeypatch, variant, champions, seed_all):
    monkeypatch.setattr(index_mod, "CHAMPIONS", champions)
    monkeypatch.setattr(index_mod, "SEED_ALL", seed_all)
    rng = random.Random(hash((variant, champions)) % 1000)
    words = [f"w{i}" for i in range(400)]
    weights = [1.0 / (i + 1) for i in range(400)]
    docs = [rng.choices(words, weights, k=rng.randint(1, 30)) for _ in range(1500)]
    idx = Index.build(docs, ScoringSettings(variant=variant))
    for cost in (index_mod._DENSE_COST, 0.0, 1e12):  # the natural choice, always dense, always lookups
        monkeypatch.setattr(index_mod, "_DENSE_COST", cost)
        for _ in range(60):
            query = rng.choices(words[: rng.choice([8, 60, 400])], k=rng.randint(1, 6))
            query += ["zz"] if rng.random() < 0.2 else []  # an unknown word
            k, offset = rng.choice([1, 3, 10, 25]), rng.choice([0, 0, 5])
            assert idx.top(query, k, offset) == brute_top(idx, query, k, offset), (query, k, offset)


def test_top_is_thread_safe(built):
    engine, questions = built
    idx = engine.index
    queries = [engine.query_analyzer(q).terms(q) for q in questions]
    expected = [idx.top(q, 10) for q in queries]
    errors = []

    def work():
        for _ in range(20):
            for q, e in zip(queries, expected):
                if idx.top(q, 10) != e:
                    errors.append(q)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors


# --- freshness, corruption, crashes -----------------------------------------------------------------


@pytest.fixture
def small_corpus(tmp_path):
    folder, questions = make_corpus(tmp_path / "corpus", passages=150, seed=5)
    return folder, tmp_path / "index", questions


def generation(index_dir: Path) -> str:
    return store.current_generation(index_dir).name


def test_open_engine_persists_then_loads(small_corpus):
    folder, index_dir, questions = small_corpus
    first = open_engine(folder, index_dir=index_dir)
    gen = generation(index_dir)
    assert first.store_path == store.current_generation(index_dir)  # built into a generation, mapped from it
    second = open_engine(folder, index_dir=index_dir)
    assert second.manifest["counts"]["passages"] == len(first.passages)
    assert generation(index_dir) == gen  # loaded, not rebuilt
    same_answers(first, second, questions[:12])
    in_memory = open_engine(folder)
    same_answers(in_memory, second, questions[:12])


def test_touched_added_file_or_changed_settings_rebuild(small_corpus, caplog):
    folder, index_dir, _ = small_corpus
    open_engine(folder, index_dir=index_dir)
    gen = generation(index_dir)
    caplog.set_level(logging.INFO, logger="bot.service")

    target = next(folder.glob("*.txt"))
    st = target.stat()
    os.utime(target, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
    e = open_engine(folder, index_dir=index_dir)
    assert generation(index_dir) != gen and "corpus changed" in caplog.text
    gen = generation(index_dir)

    (folder / "extra.txt").write_text("An extra article\n\nIt talks about zebras crossing rivers.\n", encoding="utf-8")
    e = open_engine(folder, index_dir=index_dir)
    assert generation(index_dir) != gen
    assert e.ask("zebras").hits
    gen = generation(index_dir)

    assert getattr(open_engine(folder, index_dir=index_dir), "manifest", None) is not None
    assert generation(index_dir) == gen
    caplog.clear()
    e = open_engine(folder, SearchSettings(passage_chars=300), index_dir=index_dir)
    assert generation(index_dir) != gen and "search settings changed" in caplog.text
    assert e.settings.passage_chars == 300
    reloaded = open_engine(folder, SearchSettings(passage_chars=300), index_dir=index_dir)
    assert reloaded.settings == e.settings and reloaded.manifest is not None


def corrupt_truncate(gen: Path) -> None:
    path = gen / "doc_ids.npy"
    with open(path, "r+b") as f:
        f.truncate(path.stat().st_size // 2)


def corrupt_garbage_manifest(gen: Path) -> None:
    (gen / store.MANIFEST).write_bytes(b"\x00garbage{{{")


def corrupt_version(gen: Path) -> None:
    m = json.loads((gen / store.MANIFEST).read_text())
    m["version"] = store.VERSION + 1
    m["sha256"] = generations._manifest_digest(m)  # a well-formed manifest of another format version
    (gen / store.MANIFEST).write_text(json.dumps(m))


def corrupt_foreign(gen: Path) -> None:
    m = json.loads((gen / store.MANIFEST).read_text())
    m["format"] = "something-else"
    m["sha256"] = generations._manifest_digest(m)
    (gen / store.MANIFEST).write_text(json.dumps(m))


def corrupt_edited_manifest(gen: Path) -> None:
    m = json.loads((gen / store.MANIFEST).read_text())
    m["counts"]["passages"] += 1  # without fixing the checksum
    (gen / store.MANIFEST).write_text(json.dumps(m))


def corrupt_small_array(gen: Path) -> None:
    path = gen / "p_start.npy"
    data = bytearray(path.read_bytes())
    data[-1] ^= 0xFF  # same size, different content: the CRC catches it
    path.write_bytes(bytes(data))


def corrupt_current(gen: Path) -> None:
    (gen.parent / store.CURRENT).write_text("../../etc\n")


@pytest.mark.parametrize(
    "damage",
    [corrupt_truncate, corrupt_garbage_manifest, corrupt_version, corrupt_foreign, corrupt_edited_manifest,
     corrupt_small_array, corrupt_current],
)  # fmt: skip
def test_corrupt_or_foreign_index_is_reported_and_rebuilt(small_corpus, caplog, damage):
    folder, index_dir, questions = small_corpus
    reference = open_engine(folder)  # in memory: the damage below is to files a mapped engine would read
    open_engine(folder, index_dir=index_dir)
    gen = store.current_generation(index_dir)
    damage(gen)
    with caplog.at_level(logging.WARNING, logger="bot.service"):
        engine = open_engine(folder, index_dir=index_dir)
    assert "unusable" in caplog.text and "rebuilding" in caplog.text
    assert generation(index_dir) != gen.name
    same_answers(reference, engine, questions[:8])
    assert getattr(open_engine(folder, index_dir=index_dir), "manifest", None) is not None  # healthy again


def test_verify_reads_every_byte(small_corpus, monkeypatch):
    folder, index_dir, _ = small_corpus
    monkeypatch.setattr(generations, "_CRC_ON_LOAD", 1000)  # as if every array were big
    open_engine(folder, index_dir=index_dir)
    store.verify(index_dir)
    path = store.current_generation(index_dir) / "weights.npy"
    data = bytearray(path.read_bytes())
    data[-1] ^= 0x01
    path.write_bytes(bytes(data))
    Engine.load(index_dir)  # big arrays' CRCs are not read on a normal load (only their size and header)
    with pytest.raises(store.StoreError, match="CRC"):
        store.verify(index_dir)


def test_crash_mid_write_leaves_the_previous_index(small_corpus, monkeypatch):
    folder, index_dir, questions = small_corpus
    before = open_engine(folder, index_dir=index_dir)
    gen = generation(index_dir)
    written = []
    real = generations._write_array

    def failing(path, arr):
        if len(written) == 5:
            raise OSError(28, "No space left on device")
        written.append(path)
        return real(path, arr)

    monkeypatch.setattr(generations, "_write_array", failing)
    with pytest.raises(OSError):
        before.save(index_dir)
    assert generation(index_dir) == gen
    assert not [p for p in index_dir.iterdir() if p.name.startswith("tmp-")]
    same_answers(before, Engine.load(index_dir), questions[:8])

    # open_engine rebuilding over it: the write fails, the answers come from memory, the old index stays
    (folder / "new.txt").write_text("Brand new\n\nAbout quokkas and wallabies.\n", encoding="utf-8")
    written.clear()
    engine = open_engine(folder, index_dir=index_dir)
    assert engine.ask("quokkas").hits
    assert generation(index_dir) == gen


def test_a_killed_writer_leaves_the_previous_index(small_corpus):
    folder, index_dir, questions = small_corpus
    before = open_engine(folder, index_dir=index_dir)
    gen = generation(index_dir)
    # what a writer killed mid-way leaves: a tmp- folder of a process that no longer exists
    dead = index_dir / "tmp-999999999-abcdef"
    dead.mkdir()
    (dead / "doc_ids.npy").write_bytes(b"\x93NUMPY half")
    same_answers(before, Engine.load(index_dir), questions[:5])
    assert generation(index_dir) == gen
    before.save(index_dir)  # the next writer cleans it up
    assert not dead.exists()
    assert len([p for p in index_dir.iterdir() if p.name.startswith("gen-")]) == 1


# --- Library ---------------------------------------------------------------------------------------


def engine_of(n: int) -> Engine:
    arts = [
        Article(id=f"a{i}", title=f"T{i}", paragraphs=[f"Story {i} about ravens and owls number{i}."], lang="en")
        for i in range(n)
    ]
    return Engine.build(arts)


class SlowBuilds:
    """Stands in for open_engine in Library's thread mode: each build waits for `go`."""

    def __init__(self, results):
        self.results = list(results)
        self.calls = 0
        self.started = threading.Event()
        self.go = threading.Event()

    def __call__(self, corpus, settings, progress=False, *, index_dir=None, rebuild=False):
        self.calls += 1
        self.started.set()
        assert self.go.wait(10)
        r = self.results.pop(0)
        if isinstance(r, BaseException):
            raise r
        return r


def test_library_answers_from_the_old_engine_until_the_swap(monkeypatch, tmp_path):
    old, new = engine_of(2), engine_of(5)
    builds = SlowBuilds([new])
    monkeypatch.setattr("bot.service.open_engine", builds)
    lib = Library(tmp_path, isolate=False, engine=old)
    fut = lib.request_reload()
    assert builds.started.wait(5)
    for _ in range(20):  # answers keep flowing, from the old engine
        assert lib.engine is old and lib.engine.ask("ravens").hits
    assert lib.reloading and not fut.done()
    builds.go.set()
    summary = fut.result(10)
    assert summary.ok and not summary.coalesced and summary.error is None
    assert (summary.before_articles, summary.after_articles) == (2, 5)
    assert lib.engine is new and not lib.reloading


def test_library_coalesces_concurrent_reloads(monkeypatch, tmp_path):
    e1, e2, e3 = engine_of(1), engine_of(2), engine_of(3)
    builds = SlowBuilds([e2, e3])
    monkeypatch.setattr("bot.service.open_engine", builds)
    lib = Library(tmp_path, isolate=False, engine=e1)
    first = lib.request_reload()
    assert builds.started.wait(5)
    later = [lib.request_reload() for _ in range(4)]  # while the first one runs
    builds.go.set()
    s1 = first.result(10)
    rest = [f.result(10) for f in later]
    assert builds.calls == 2  # one run, plus one more for everything asked meanwhile
    assert s1.ok and s1.after_articles == 2 and not s1.coalesced
    assert all(s.ok and s.after_articles == 3 for s in rest)
    assert [s.coalesced for s in rest] == [False, True, True, True]
    assert lib.engine is e3


def test_library_keeps_the_old_engine_on_failure_or_empty_result(monkeypatch, tmp_path):
    old = engine_of(2)
    empty = Engine.build([])
    builds = SlowBuilds(
        [EmptyCorpus("no article could be loaded from x (a.txt: bad)"), RuntimeError("disk on fire"), empty]
    )
    builds.go.set()
    monkeypatch.setattr("bot.service.open_engine", builds)
    lib = Library(tmp_path, isolate=False, engine=old)
    s = lib.reload_blocking(10)
    assert not s.ok and "no article could be loaded" in s.error and lib.engine is old
    assert (s.after_articles, s.after_passages) == (s.before_articles, s.before_passages) == (2, 2)
    s = lib.reload_blocking(10)
    assert not s.ok and "disk on fire" in s.error and lib.engine is old
    s = lib.reload_blocking(10)
    assert not s.ok and "no passages" in s.error and lib.engine is old
    assert lib.engine.ask("owls").hits


def test_library_async_reload(monkeypatch, tmp_path):
    old, new = engine_of(1), engine_of(4)
    builds = SlowBuilds([new])
    builds.go.set()
    monkeypatch.setattr("bot.service.open_engine", builds)
    lib = Library(tmp_path, isolate=False, engine=old)

    async def main():
        summary, _ = await asyncio.gather(lib.reload(), asyncio.sleep(0))
        return summary

    s = asyncio.run(main())
    assert s.ok and lib.engine is new


def test_library_rebuilds_in_a_child_process(small_corpus):
    folder, index_dir, questions = small_corpus
    lib = Library(folder, index_dir=index_dir)
    assert lib.isolate
    first = lib.open()
    assert first.manifest is not None  # built in the child, mapped in here
    assert lib.changed() is None
    (folder / "more.txt").write_text("More news\n\nThe harbour seals returned to the bay.\n", encoding="utf-8")
    assert "corpus changed" in lib.changed()
    summary = asyncio.run(lib.reload_if_changed())
    assert summary is not None and summary.ok, summary
    assert summary.after_articles == summary.before_articles + 1
    assert lib.engine is not first and lib.engine.ask("harbour seals").hits
    assert lib.changed() is None
    same_answers(open_engine(folder), lib.engine, questions[:8])
    # a corpus that gives nothing: the child reports it, the engine stays
    empty = folder.parent / "empty"
    empty.mkdir()
    lib2 = Library(empty, index_dir=folder.parent / "index2", engine=lib.engine)
    s = lib2.reload_blocking(120)
    assert not s.ok and "no article" in s.error and lib2.engine is lib.engine
