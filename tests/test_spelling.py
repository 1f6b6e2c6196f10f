"""Question terms the corpus lacks find the corpus's spelling one edit away (`bot.spelling`)."""

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.articles import Article
from bot.search import Engine
from bot.spelling import Speller, edits


def damerau_1(a: str, b: str) -> bool:
    """a and b one deletion, insertion, replacement or adjacent swap apart (brute force)."""
    if a == b:
        return False
    if len(a) > len(b):
        a, b = b, a
    if len(b) - len(a) > 1:
        return False
    if len(a) < len(b):
        return any(b[:i] + b[i + 1 :] == a for i in range(len(b)))
    diff = [i for i in range(len(a)) if a[i] != b[i]]
    if len(diff) == 1:
        return True
    return len(diff) == 2 and diff[1] == diff[0] + 1 and (a[diff[0]], a[diff[1]]) == (b[diff[1]], b[diff[0]])


@settings(max_examples=60, deadline=None)
@given(st.text(alphabet="abcd", min_size=1, max_size=6))
def test_edits_are_exactly_the_strings_one_edit_away(word):
    letters = "abcd"
    found = set(edits(word, letters)) - {word}
    every = {
        "".join(p)
        for n in (len(word) - 1, len(word), len(word) + 1)
        if n >= 0
        for p in itertools.product(letters, repeat=n)
    }
    assert found == {s for s in every if damerau_1(word, s)}


def articles(lang, paragraphs):
    return [Article(id=f"a{i}", title=f"T{i}", paragraphs=[p], lang=lang) for i, p in enumerate(paragraphs)]


FILLER = {
    "en": ["The harbour was busy with fishing boats all week.", "Local elections are held every four years."],
    "de": ["Der Hafen war die ganze Woche voller Fischerboote.", "Die Wahlen finden alle vier Jahre statt."],
    "ru": ["Гавань всю неделю была полна рыбацких лодок.", "Выборы проходят каждые четыре года."],
}


@pytest.mark.parametrize(
    "lang,passage,question",
    [
        ("en", "Septicaemia is a type of blood poisoning caused by bacteria.", "What is septicemia?"),
        ("de", "Die Blutvergiftung entsteht, wenn Bakterien ins Blut gelangen.", "Was ist eine Blutvergfitung?"),
        ("ru", "Норманны построили этот замок на холме над рекой.", "Что такое замак?"),
    ],
)
def test_a_misspelled_question_word_finds_the_passage(lang, passage, question):
    engine = Engine.build(articles(lang, [*FILLER[lang], passage]))
    assert engine.index.top(engine.query_analyzer(question).terms(question), 3) == []  # no word in common
    hits = engine.ask(question).hits
    assert hits and hits[0].text == passage
    assert hits[0].highlights  # the corpus's spelling is highlighted


def test_only_terms_missing_from_the_vocabulary_are_corrected():
    engine = Engine.build(articles("en", ["The bridge opened in 1907.", "A bridges museum.", "Bridge tolls rose."]))
    speller, terms = engine.speller, engine.query_analyzer("x").terms
    assert speller.corrections(terms("When did the bridge open?")) == []  # all known
    assert speller.corrections(terms("When did the bridgr open?")) == ["bridg"]
    assert speller.corrections(terms("in 1901")) == []  # numbers are exact
    assert speller.corrections(terms("the brdg")) == []  # too short to guess


def test_the_most_frequent_neighbour_wins():
    # "tower" is in two passages, "towel" in one: "towet" is one edit from both
    engine = Engine.build(articles("en", ["The tower fell.", "A tower stood.", "A towel hung.", "Rain."]))
    assert engine.speller.corrections(["towet"]) == ["tower"]


def test_a_loaded_index_corrects_as_the_built_one(tmp_path):
    texts = ["Septicaemia is blood poisoning.", "Mount Kazbek observatory.", "Замок на холме.", "Ελληνική γλώσσα."]
    engine = Engine.build(articles(None, texts))
    engine.save(tmp_path / "idx")
    loaded = Engine.load(tmp_path / "idx")
    for words in (["septicemia"], ["kazbeck"], ["замак"], ["γλωσα"], ["nothing", "close"]):
        assert loaded.speller.corrections(words) == engine.speller.corrections(words)
    assert loaded.speller.corrections(["septicemia"]) == ["septicaemia"]


def test_an_empty_vocabulary_corrects_nothing():
    assert Speller({}, np.zeros(0)).corrections(["anything"]) == []
