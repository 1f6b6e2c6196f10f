"""Stop lists hold function words only: content words stay searchable, in every language with a list."""

import pytest

from bot.analysis import Analyzer
from bot.articles import Article
from bot.search import Engine
from bot.settings import SAMPLE_CORPUS
from bot.stoplists import LISTS
from bot.stopwords import stop_words_for

# Content words that stopwords-iso's lists dropped (and so could not be searched for), per language.
CONTENT = {
    "en": "world year next round state million system known",
    "de": "Welt Jahr nächste Runde Staat Million System alleine allein bekannt",
    "ru": "мир год следующий раунд государство миллион система известный",
    "es": "mundo año próximo ronda estado millón",
    "fr": "monde année prochain tour état million",
}
FUNCTION = {
    "en": "the of and is was which who",
    "de": "der die das und ist wurde welche",
    "ru": "и в на что который был это",
    "es": "el la de que y es fue",
    "fr": "le la de et est qui",
}


@pytest.mark.parametrize("lang", sorted(CONTENT))
def test_content_words_are_terms_and_function_words_are_not(lang):
    an = Analyzer(lang)
    for word in CONTENT[lang].split():
        assert an.terms(word), f"{lang}: {word!r} was dropped"
    for word in FUNCTION[lang].split():
        assert an.terms(word) == [], f"{lang}: {word!r} was kept"


def test_lists_are_function_word_sized_and_case_folded():
    for lang, words in LISTS.items():
        listed = words.split()
        assert 50 <= len(set(listed)) <= 300, lang
        assert all(w == w.lower() for w in listed), lang  # as the chain folds case
    assert stop_words_for(None) == frozenset() and stop_words_for("xx") == frozenset()
    assert stop_words_for("nb") == stop_words_for("no")
    assert "ў" in stop_words_for("be")


def article(lang, title, paragraphs):
    return Article(id=f"{lang}-{title}", title=title, paragraphs=paragraphs, lang=lang)


@pytest.mark.parametrize(
    "lang,paragraphs,question,expected",
    [
        (
            "en",
            [
                "The talks ended without a deal.",
                "The next round of the talks is set for December.",
                "Analysts call it a failure in the modern world.",
            ],
            ["world", "next round"],
            ["modern world", "next round"],
        ),
        (
            "de",
            [
                "Die Gespräche endeten ohne Einigung.",
                "Die nächste Runde ist für Dezember geplant.",
                "Analysten sprechen von einem Misserfolg in der modernen Welt.",
                "Er war alleine im Saal.",
            ],
            ["Welt", "nächste Runde", "alleine"],
            ["modernen Welt", "nächste Runde", "alleine"],
        ),
        (
            "ru",
            [
                "Переговоры закончились без соглашения.",
                "Следующий раунд переговоров назначен на декабрь.",
                "Аналитики называют это провалом в современном мире.",
            ],
            ["мир", "следующий раунд"],
            ["современном мире", "Следующий раунд"],
        ),
    ],
)
def test_asking_for_a_content_word_finds_the_passage_that_has_it(lang, paragraphs, question, expected):
    # one paragraph per article: each is its own passage
    engine = Engine.build([article(lang, f"t{i}", [p]) for i, p in enumerate(paragraphs)])
    for q, want in zip(question, expected):
        hits = engine.ask(q).hits
        assert hits, f"{lang}: nothing for {q!r}"
        assert want in hits[0].text, (q, hits[0].text)


def test_ask_world_and_next_round_on_the_bundled_corpus(tmp_path):
    """As a new user would try it: `python -m bot ask "world"` on the sample article."""
    import json
    import os
    import subprocess
    import sys

    env = {**os.environ, "BOT_INDEX_DIR": str(tmp_path / "idx"), "NO_COLOR": "1"}
    env.pop("BOT_CORPUS_DIR", None)
    env.pop("BOT_TOKEN", None)
    for question, phrase in [("world", "modern world"), ("next round", "next round")]:
        out = subprocess.run(
            [sys.executable, "-m", "bot", "ask", "--json", "--corpus", str(SAMPLE_CORPUS), question],
            capture_output=True,
            text=True,
            timeout=120,
            env=env,
            check=False,
        )
        assert out.returncode == 0, out.stderr
        hits = json.loads(out.stdout)["hits"]
        assert hits and phrase in hits[0]["text"], (question, hits[:1])
