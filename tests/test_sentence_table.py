"""Sentence spans kept with the index (bot/sentence_table.py): read back from a saved generation they equal
`sentence_spans` of each passage's text; answers are the same with and without them; an index of the
format before them is rebuilt, not misread."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot import generations, sentence_table, store
from bot.articles import Article
from bot.search import Engine, SearchSettings
from bot.sentence_table import FULL, LIMIT, NOT_KEPT, SentenceTable, SentenceTableBuilder, encode
from bot.sentences import sentence_spans
from bot.service import open_engine

# Pieces that exercise the sentence rules: stops, abbreviations, initials, quotes, numbers, odd white space.
PIECES = [
    "The ambassador spoke.", "Dr. Smith arrived", "e.g. this", "J. Doe said so!", "“Really?” she asked.",
    "No. 5 won", "Am 5. November sprach er.", "Это был я.", "г. Минск", "etc. Then", "(see p. 4.) Next",
    "3.5 percent", "白俄罗斯。石油", "Why?", "...", "  ", "\n", "Sure.  Two spaces", "end.\tTab", "ok", "«Да?» — нет.",
]  # fmt: skip
LANGS = ["en", "de", "ru", "zh", "tr", None]

paragraph = st.lists(st.sampled_from(PIECES), min_size=1, max_size=12).map(" ".join).filter(str.strip)
article = st.tuples(st.lists(paragraph, min_size=1, max_size=4), st.sampled_from(LANGS))


def kept_spans_equal_sentence_spans(engine: Engine) -> None:
    table = SentenceTable.of(engine.extras, len(engine.passages))
    assert table is not None
    for pid, p in enumerate(engine.passages):
        a = engine.articles[p.article]
        text = engine.passage_text(pid)
        assert text == a.text[p.start : p.end]
        assert table.spans(pid, text) == sentence_spans(text, lang=a.lang), (pid, text, a.lang)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(article, min_size=1, max_size=12))
def test_spans_read_from_a_saved_generation_equal_sentence_spans(tmp_path_factory, arts):
    articles = [Article(id=f"a{i}", title=f"T{i}", paragraphs=paras, lang=lang) for i, (paras, lang) in enumerate(arts)]
    built = Engine.build(articles, SearchSettings(passage_chars=80), workers=0)
    kept_spans_equal_sentence_spans(built)  # in memory
    index_dir = tmp_path_factory.mktemp("idx")
    built.save(index_dir)
    kept_spans_equal_sentence_spans(Engine.load(index_dir))  # memory-mapped


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(PIECES), max_size=10).map(" ".join), st.sampled_from(LANGS))
def test_every_entry_form_decodes_to_the_spans(text, lang):
    spans = sentence_spans(text, lang=lang)
    b = SentenceTableBuilder()
    b.add(*sentence_table.encode_passages([text], [lang]))
    a = b.arrays()
    assert SentenceTable(a["sent_values"], a["sent_off"]).spans(0, text) == spans


def test_the_three_forms():
    assert encode("One. Two. Three", [(0, 4), (5, 9), (10, 15)]) == [4, 9]
    assert encode("One  ", [(0, 3)]) == []
    assert encode("One.  Two", [(0, 4), (6, 9)]) == [FULL, 0, 4, 6, 9]  # two spaces apart
    assert encode("  ", []) == [FULL]
    long = "word " * (LIMIT // 5 + 1)
    assert encode(long, sentence_spans(long)) == [NOT_KEPT]
    t = SentenceTable(np.array([NOT_KEPT], np.uint16), np.array([0, 1], np.uint32))
    assert t.spans(0, long) is None


def test_a_long_passage_is_split_at_query_time(tmp_path):
    text = "A sentence without end " * (LIMIT // 20)  # one paragraph: its passages are split at words
    e = Engine.build([Article(id="x", title="X", paragraphs=[text, "Short one. Two."], lang="en")], workers=0)
    e.save(tmp_path)
    loaded = Engine.load(tmp_path)
    table = SentenceTable.of(loaded.extras, len(loaded.passages))
    assert table is not None
    assert [table.spans(pid, loaded.passage_text(pid)) is None for pid in range(len(loaded.passages))].count(False)
    plain = Engine(loaded.articles, loaded.passages, loaded.index, loaded.settings)  # no kept spans
    for q in ("sentence without", "short one"):
        assert loaded.ask(q, k=5) == plain.ask(q, k=5)


def test_answers_are_the_same_with_and_without_kept_spans(tmp_path):
    from tests.test_build import articles

    built = Engine.build(articles(60), SearchSettings(passage_chars=60), workers=0)
    built.save(tmp_path)
    loaded = Engine.load(tmp_path)
    assert loaded._sentence_table is not None
    plain = Engine(loaded.articles, loaded.passages, loaded.index, loaded.settings, extras={})
    assert plain._sentence_table is None
    for q in ("ambassador gas prices", "Посол Беларуси нефть", "November Botschafter", "大使 石油", "word3"):
        assert loaded.ask(q, k=10) == plain.ask(q, k=10)


def test_an_index_of_the_previous_format_is_rebuilt_not_misread(tmp_path):
    corpus = tmp_path / "corpus.jsonl"
    rows = [{"id": f"a{i}", "title": "T", "paragraphs": [f"One {i}. Two {i}."]} for i in range(5)]
    corpus.write_text("".join(json.dumps(r) + "\n" for r in rows))
    index_dir = tmp_path / "idx"
    first = open_engine(corpus, index_dir=index_dir)
    gen = first.store_path
    assert gen is not None
    m = json.loads((gen / store.MANIFEST).read_text())
    m["version"] = 3  # the format before the spans were kept
    m["files"] = {f: v for f, v in m["files"].items() if not f.startswith("x_sent")}
    m["sha256"] = generations._manifest_digest(m)
    (gen / store.MANIFEST).write_text(json.dumps(m))
    for f in gen.glob("x_sent*.npy"):
        f.unlink()
    with pytest.raises(store.StoreError, match="version 3"):
        store.open_index(index_dir)
    again = open_engine(corpus, index_dir=index_dir)
    assert again.store_path != gen and again.manifest is not None and again.manifest["version"] == store.VERSION
    assert again._sentence_table is not None
    kept_spans_equal_sentence_spans(again)
