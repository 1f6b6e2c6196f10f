"""bot.wordtable gives exactly the analysis chain's terms, many passages at a time."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.analysis import analyzer_for
from bot.bench.synthetic import SyntheticCorpus
from bot.wordtable import MISSING, AsciiTerms, WordTable


def check(pieces: list[str], lang: str = "en", terms: AsciiTerms | None = None) -> AsciiTerms:
    """The ids of every piece the table path takes are the analyzer's terms; the others are reported."""
    analyzer = analyzer_for(lang)
    if terms is None:
        vocab: dict[str, int] = {}
        terms = AsciiTerms(analyzer, lambda t: vocab.setdefault(t, len(vocab)))
    term_id = terms.term_id
    ids, lens, slow = terms.ids(pieces)
    assert len(lens) == len(pieces) and int(lens.sum()) == len(ids)
    at = np.concatenate(([0], np.cumsum(lens)))
    for i, piece in enumerate(pieces):
        if i in slow:
            assert lens[i] == 0
            assert not piece.isascii() or "\0" in piece  # only text with other characters leaves the path
            continue
        got = [t for t in ids[at[i] : at[i + 1]].tolist() if t >= 0]
        assert got == [term_id(t) for t in analyzer.terms(piece)], piece
    return terms


def test_synthetic_news_copy():
    corpus = SyntheticCorpus(400, seed=5, shape="short")
    pieces = [p for chunk in corpus.articles() for art in chunk for p in art["paragraphs"]]
    terms = check(pieces)
    check(pieces[::-1], terms=terms)  # now from the table


def test_separators_long_words_and_other_text():
    pieces = [
        "",
        "a",
        "Hello, World! It's 2024 — the “best” year… «quoted» · dotted • bullet",
        "x" * 15 + " " + "y" * 16 + " " + "z" * 17 + " " + "w" * 70,  # key lengths around 16, one over 64
        "UPPER lower MiXeD 123abc abc123 the THE The",
        "a–b—c―d",
        "\u00a0lead and tail\u202f",
        "′quote″",
        "naïve café",
        "Straße",
        "İstanbul",
        "emoji 😀 here",
        "\ud800 lone surrogate",
    ]
    terms = check(pieces)
    assert terms.ids(["naïve café"])[2] == [0]
    assert terms.ids(["plain", "ab\0cd"])[2] == [0, 1]  # a NUL: piece by piece


def test_a_small_table_grows_and_starts_again():
    corpus = SyntheticCorpus(300, seed=9, shape="short")
    pieces = [p for chunk in corpus.articles() for art in chunk for p in art["paragraphs"]]
    vocab: dict[str, int] = {}
    terms = AsciiTerms(analyzer_for("en"), lambda t: vocab.setdefault(t, len(vocab)))
    terms.table = WordTable(bits=4, max_bits=9)  # full after a few hundred words: emptied, then refilled
    for i in range(0, len(pieces), 37):
        check(pieces[i : i + 37], terms=terms)
    assert len(terms.table) <= 1 << 8


def test_table_keys():
    table = WordTable(bits=3, max_bits=12)
    k1 = np.arange(1, 200, dtype=np.uint64) * np.uint64(7919)
    k2 = np.arange(200, 1, -1, dtype=np.uint64)[: len(k1)]
    table.put(k1, k2, np.arange(len(k1), dtype=np.int32))
    assert table.get(k1, k2).tolist() == list(range(len(k1)))
    assert (table.get(k1, k2 + np.uint64(1)) == MISSING).all()


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(alphabet=st.sampled_from(list("abcXYZ019 .,'’—“”…\u00a0\t\né")), max_size=60), max_size=8))
def test_any_text(pieces):
    check(pieces)
    check(pieces, lang="de")
