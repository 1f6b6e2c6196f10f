"""The build pipeline (bot/build.py): the same index as the analysis chain gives passage by passage, in
one process or with analysis workers; languages from metadata or identified; a streamed generation."""

from __future__ import annotations

import json

import numpy as np
import pytest

from bot import build, store
from bot.analysis import analyzer_for
from bot.articles import Article, Skipped
from bot.bench.synthetic import SyntheticCorpus
from bot.index import Index
from bot.search import Engine, SearchSettings

TEXTS = {
    "en": "The Belarusian ambassador to Russia spoke about gas prices and the oil supplies in Minsk.",
    "ru": "Посол Беларуси в России Владимир Семашко заявил о компенсации налоговых потерь за нефть.",
    "uk": "Посол Білорусі в Росії Володимир Семашко заявив про компенсацію податкових втрат.",
    "de": "Am 5. November sprach der Botschafter über die Gaspreise und die Ölversorgung der Stadt.",
    "tr": "İstanbul'da IŞIK fiyatları ve DOĞALGAZ anlaşması hakkında konuştu, ırmaklar taştı.",
    "zh": "白俄罗斯驻俄罗斯大使谈到了税收损失的补偿问题以及石油供应。",
}


def articles(n: int = 60) -> list[Article]:
    """Articles in several languages, some saying it, some not; some of several passages."""
    out = []
    langs = list(TEXTS)
    for i in range(n):
        lang = langs[i % len(langs)]
        paras = [f"{TEXTS[lang]} {i} word{i % 7}"] + ([TEXTS[langs[(i + 1) % len(langs)]]] * (i % 3))
        out.append(Article(id=f"a{i}", title=f"T{i}", paragraphs=paras, lang=lang if i % 2 else None))
    return out


def reference_index(engine: Engine) -> Index:
    """The index of each passage's terms as the analysis chain gives them (no fast path, no workers)."""
    docs = []
    for p in engine.passages:
        a = engine.articles[p.article]
        docs.append(analyzer_for(a.lang, engine.settings.analysis).terms(a.text[p.start : p.end]))
    return Index.build(docs, engine.settings.scoring)


def postings_by_term(idx: Index) -> dict[str, tuple[list[int], list[float]]]:
    out = {}
    for term in idx.vocab:
        ids, w = idx.postings(term)
        out[term] = (ids.tolist(), np.round(w.astype(np.float64), 5).tolist())
    return out


def test_the_index_equals_the_analysis_chain_passage_by_passage():
    engine = Engine.build(articles(), workers=0)
    assert postings_by_term(engine.index) == postings_by_term(reference_index(engine))
    assert engine.index.doc_len.tolist() == reference_index(engine).doc_len.tolist()


def test_workers_build_the_same_index(monkeypatch):
    monkeypatch.setattr(build, "PARALLEL_AFTER", 10)  # workers from the second batch on
    monkeypatch.setattr(build, "BATCH_CHARS", 2000)
    arts = articles(150)
    alone = Engine.build([Article(**vars(a)) for a in arts], workers=0)
    together = Engine.build([Article(**vars(a)) for a in arts], workers=2)
    assert postings_by_term(together.index) == postings_by_term(alone.index)
    assert list(together.passages) == list(alone.passages)
    assert [a.lang for a in together.articles] == [a.lang for a in alone.articles]
    assert together.languages == alone.languages


def test_metadata_language_is_kept_and_missing_ones_are_identified():
    arts = articles(12)
    arts[1].lang = "xx"  # an unknown language the metadata says: kept (the chain treats it as none)
    engine = Engine.build(arts, workers=0)
    got = [a.lang for a in engine.articles]
    assert got[1] == "xx"
    for i, lang in enumerate(got):
        if i % 2 == 0:  # identified from the text
            assert lang == list(TEXTS)[i % len(TEXTS)], i


def test_skipped_parts_and_empty_articles_pass_through():
    items = [Skipped("bad.json", "invalid JSON"), *articles(3), Article(id="e", title="Empty", paragraphs=[])]
    engine = Engine.build(items, workers=0)
    assert [s.path for s in engine.skipped] == ["bad.json"]
    assert len(engine.articles) == 4 and engine.articles[3].paragraphs == []
    assert all(p.article != 3 for p in engine.passages)


def test_build_to_streams_a_generation_equal_to_the_in_memory_build(tmp_path):
    synth = SyntheticCorpus(400, seed=2, shape="short")
    path = tmp_path / "corpus.jsonl"
    synth.write_jsonl(path, questions=20)
    gen, built = build.build_to(tmp_path / "index", build.corpus_items(path), workers=0)
    assert store.current_generation(tmp_path / "index") == gen
    mapped = Engine.load(tmp_path / "index")
    memory = Engine.build(build.corpus_items(path), workers=0)
    assert len(mapped.articles) == built.articles.__len__() == 400
    assert postings_by_term(mapped.index) == postings_by_term(memory.index)
    for q in synth.questions:
        assert [(h.passage, h.text) for h in mapped.ask(q, k=5).hits] == [
            (h.passage, h.text) for h in memory.ask(q, k=5).hits
        ]
    # what was built alongside (bot.grams' statistics) is saved with the index, as Engine.save does
    assert set(mapped.extras) == set(memory.extras) and mapped.extras
    for name, arr in memory.extras.items():
        np.testing.assert_array_equal(mapped.extras[name], arr)
    # the records were compressed with a dictionary trained on the corpus
    assert mapped.articles.texts.zdict.size > 0 or len(mapped.articles) < 64
    assert [a.title for a in mapped.articles[:5]] == [
        json.loads(line)["title"] for line in path.read_text().splitlines()[:5]
    ]


def test_an_empty_corpus_publishes_nothing(tmp_path):
    (tmp_path / "c").mkdir()
    (tmp_path / "c" / "bad.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(build.EmptyCorpus, match=r"bad\.json"):
        build.build_to(tmp_path / "index", build.corpus_items(tmp_path / "c"))
    assert not list((tmp_path / "index").glob("gen-*")) and not list((tmp_path / "index").glob("tmp-*"))
    with pytest.raises(build.EmptyCorpus, match="does not exist"):
        list(build.corpus_items(tmp_path / "nowhere"))


def test_recent_uses_the_date_column():
    arts = [Article(id=str(i), title=str(i), paragraphs=["text"], published=d, lang="en")
            for i, d in enumerate(["2020-01-02", None, "2021-05-01", "2020-01-02", "not a date"])]  # fmt: skip
    engine = Engine.build(arts, SearchSettings(), workers=0)
    assert [i for i, _ in engine.recent(5)] == [2, 0, 3, 1, 4]
