"""The engine over real article files: answers, attribution, highlights, empty answers."""

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.articles import Article, load_corpus
from bot.search import ARTICLE_PRIOR, GRAM_WEIGHT, RERANK_DEPTH, WINDOW_FACTOR, Engine, best_of_article, fuse
from bot.settings import SAMPLE_CORPUS

CORPUS = SAMPLE_CORPUS


@pytest.fixture(scope="module")
def engine() -> Engine:
    return Engine.build(load_corpus(CORPUS))


def test_ambassador_question_names_syamashka_with_attribution(engine):
    answer = engine.ask("Who is the Belarusian ambassador to Russia?")
    top = answer.hits[0]
    assert "Uladzimir Syamashka" in top.text
    assert "Syamashka" in top.sentence_text
    assert top.article.title == "Russia’s failure? Integration road maps still not signed"
    assert (top.article.author, top.article.source) == ("Vitaut Siuchyk", "Belsat TV")
    assert 1 <= top.passage.index + 1 <= top.passage.count
    assert top.text == top.article.text[top.start : top.end]
    assert top.passage.start <= top.start < top.end <= top.passage.end
    words = {top.text[s:e].lower() for s, e in top.highlights}
    assert {"belarusian", "ambassador", "russia"} <= words


def test_hits_only_share_terms_and_are_ranked(engine):
    answer = engine.ask("gas price")
    assert answer.hits
    assert all(h.highlights for h in answer.hits)
    scores = [h.score for h in answer.hits]
    assert scores == sorted(scores, reverse=True)
    assert [h.rank for h in answer.hits] == list(range(1, len(answer.hits) + 1))


def test_nothing_matches_gives_an_explicit_empty_answer(engine):
    answer = engine.ask("quantum chromodynamics zeolites")
    assert answer.hits == [] and answer.more is False
    assert engine.ask("").hits == []
    assert engine.ask("??? !!!").hits == []


def test_paging_continues_where_the_first_page_ended(engine):
    first = engine.ask("Russia Lukashenka Putin", k=2)
    second = engine.ask("Russia Lukashenka Putin", k=2, offset=2)
    assert first.more
    assert [h.rank for h in second.hits] == [3, 4][: len(second.hits)]
    assert not {h.passage for h in first.hits} & {h.passage for h in second.hits}


def test_multilingual_corpus_routes_questions_by_language(tmp_path):
    docs = [
        {
            "id": "ru",
            "title": "Посол",
            "lang": "ru",
            "text": "Посол Беларуси в России Владимир Семашко заявил о компенсации налоговых потерь.",
        },
        {
            "id": "uk",
            "title": "Посол",
            "lang": "uk",
            "text": "Посол Білорусі в Росії Володимир Семашко заявив про компенсацію податкових втрат.",
        },
        {
            "id": "be",
            "title": "Пасол",
            "lang": "be",
            "text": "Пасол Беларусі ў Расіі Уладзімір Сямашка заявіў пра кампенсацыю падатковых страт.",
        },
        {
            "id": "en",
            "title": "Ambassador",
            "lang": "en",
            "text": "The Belarusian ambassador to Russia spoke about tax losses.",
        },
        {"id": "zh", "title": "大使", "lang": "zh", "text": "白俄罗斯驻俄罗斯大使谈到了税收损失的补偿问题。"},
    ]
    (tmp_path / "a.json").write_text(json.dumps(docs, ensure_ascii=False), encoding="utf-8")
    engine = Engine.build(load_corpus(tmp_path))
    for question, expected in [
        ("Хто пасол Беларусі ў Расіі?", "be"),
        ("Кто посол Беларуси в России?", "ru"),
        ("Хто посол Білорусі в Росії?", "uk"),
        ("Who is the ambassador of Belarus?", "en"),
        ("白俄罗斯大使是谁？", "zh"),
    ]:
        assert engine.ask(question).hits[0].article.id == expected, question


def one_paragraph_articles(lang, paragraphs):
    return [Article(id=f"a{i}", title=f"T{i}", paragraphs=[p], lang=lang) for i, p in enumerate(paragraphs)]


def test_four_grams_lift_the_passage_that_words_alone_miss():
    # the question's compound "Gewaltenteilung" is not a word of the right passage; only "Staat" is shared
    engine = Engine.build(
        one_paragraph_articles(
            "de",
            [
                "Der Staat erhebt Steuern, und der Staat baut Straßen im ganzen Land.",
                "Die Teilung der Gewalten in Legislative, Exekutive und Judikative schützt den Staat.",
                "Das Wetter im Norden bleibt morgen regnerisch und kühl.",
            ],
        )
    )
    words_only = engine.index.top(engine.query_analyzer("x").terms("Was bedeutet Gewaltenteilung im Staat?"), 2)
    assert words_only[0][0] == 0  # the word field alone prefers the passage that says "Staat" twice
    hits = engine.ask("Was bedeutet Gewaltenteilung im Staat?").hits
    assert "Teilung der Gewalten" in hits[0].text
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)


def test_paging_continues_past_the_reranked_head():
    topics = ["river", "bridge", "river bridge", "bridge toll", "river boat", "old bridge over the river"]
    paragraphs = [
        f"Story {i}: the {topics[i % len(topics)]} of town {i} was in the news {'again ' * (i % 4)}."
        for i in range(3 * RERANK_DEPTH)
    ]
    engine = Engine.build(one_paragraph_articles("en", paragraphs))
    whole = engine.ask("river bridge news", k=2 * RERANK_DEPTH)
    pages = [engine.ask("river bridge news", k=4, offset=o) for o in range(0, 2 * RERANK_DEPTH, 4)]
    assert [h.passage for p in pages for h in p.hits] == [h.passage for h in whole.hits]
    assert [h.rank for p in pages for h in p.hits] == list(range(1, 2 * RERANK_DEPTH + 1))
    assert all(p.more for p in pages)


def test_a_long_paragraph_is_scored_whole_and_shown_as_a_window():
    filler = "The weather in the valley was mild for the season and nothing else happened. "
    answer = "The observatory on Mount Kazbek was founded by Irakli Abashidze in 1932."
    paragraph = filler * 20 + answer + " " + filler * 20  # ~3,300 characters: one passage
    engine = Engine.build(one_paragraph_articles("en", [paragraph, "Mount Kazbek is a mountain.", filler]))
    assert len(engine.passages) == 3
    top = engine.ask("Who founded the observatory on Mount Kazbek?").hits[0]
    assert answer in top.text and top.sentence_text == answer
    assert len(top.text) <= WINDOW_FACTOR * engine.settings.passage_chars
    assert top.text == top.article.text[top.start : top.end]
    assert {top.text[s:e].lower() for s, e in top.highlights} >= {"observatory", "mount", "kazbek", "founded"}


def test_article_prior_is_the_best_score_of_each_candidates_article():
    scores = [1.0, 0.9, 0.95, 0.3]
    articles = [7, 2, 7, 2]
    assert best_of_article(scores, articles) == [1.0, 0.9, 1.0, 0.9]
    # weighted in, it lifts the runner-up of the best article over a lone passage of another
    fused = fuse(scores, 1.0, np.zeros(4), articles)
    assert fused[2] > fused[1]


def _fused_by_arrays(word: np.ndarray, grams: np.ndarray, articles: np.ndarray) -> np.ndarray:
    """The re-ranking's scores as numpy computed them before `fuse` (the reference for its bits)."""
    top = float(word.max()) or 1.0
    fused = word / top
    if grams.max() > 0:
        fused = fused + GRAM_WEIGHT * grams / grams.max()
    same = articles[:, None] == articles[None, :]
    best = np.where(same, fused[None, :], -np.inf).max(axis=1)
    return fused + ARTICLE_PRIOR * best


_score = st.floats(min_value=0.0, max_value=1e6, allow_nan=False, allow_subnormal=False)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(_score, _score, st.integers(0, 4)), min_size=1, max_size=RERANK_DEPTH))
def test_fuse_gives_the_array_expressions_bits(rows):
    word = [w for w, _, _ in rows]
    grams = np.array([g for _, g, _ in rows])
    articles = [a for _, _, a in rows]
    expected = _fused_by_arrays(np.array(word), grams, np.array(articles))
    got = fuse(word, max(word) or 1.0, grams, articles)
    assert got == expected.tolist()  # bit for bit
    # ... and the order rank gives them is the array sort's (ties by word order)
    assert sorted(range(len(got)), key=lambda i: -got[i]) == np.lexsort((np.arange(len(got)), -expected)).tolist()


def test_articles_of_passages_from_the_loaded_column_equal_the_passages_own(engine, tmp_path):
    """rank's article numbers of its head: read from a loaded index's article column (a memoryview), they
    are each passage's own `article`, as an engine whose passages are a list (no column) gives them."""
    engine.save(tmp_path / "idx")
    loaded = Engine.load(tmp_path / "idx")
    listed = Engine(engine.articles, list(engine.passages), engine.index, engine.settings)  # (no column)
    assert loaded._article_column is not None and listed._article_column is None
    n = len(engine.passages)
    rng = np.random.default_rng(0)
    for pids in [list(range(n)), rng.permutation(n).tolist(), rng.integers(0, n, 25).tolist(), []]:
        want = [engine.passages[p].article for p in pids]
        assert loaded._articles_of(pids) == want and listed._articles_of(pids) == want
        assert all(type(a) is int for a in loaded._articles_of(pids))


def test_hits_are_what_the_dataclass_constructor_makes(engine):
    """Engine.ask fills each Hit's __dict__ at once (cheaper than the frozen dataclass's __init__): the hits equal,
    field for field and in the same order, those Hit(...) makes, and stay frozen."""
    import dataclasses

    from bot.search import Hit

    for question in ["Who is the Belarusian ambassador to Russia?", "gas price", "zzzz"]:
        for hit in engine.ask(question, k=5).hits:
            made = Hit(**{f.name: getattr(hit, f.name) for f in dataclasses.fields(Hit)})
            assert hit == made and vars(hit) == vars(made) and list(vars(hit)) == list(vars(made))
            assert repr(hit) == repr(made) and dataclasses.asdict(hit) == dataclasses.asdict(made)
            with pytest.raises(dataclasses.FrozenInstanceError):
                hit.rank = 0  # type: ignore[misc]
