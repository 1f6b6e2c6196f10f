"""Analyzer.find looks up, in ASCII text, only the words that begin as a wanted term does (`_find_by_head`): right
only while every stemmer in HEAD_KEPT gives terms that begin with their word's first two characters (all of the
term when it is shorter; a second "y" may become "i"), and while the scan finds exactly the tokenizer's words."""

import itertools
import re
import string
from pathlib import Path

import Stemmer
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.analysis import HEAD_KEPT, IN_PLACE_SEPARATORS, Analyzer, analyzer_for

ASCII_WORD = string.ascii_lowercase + string.digits
# Every ending Porter2 (English) removes, replaces or adds, and the words its exceptions list
ENDINGS = """s ss us sses ied ies eed eedly ed edly ing ingly y tional enci anci abli entli izer ization ational ation
ator alism aliti alli fulness ousli ousness iveness iviti biliti bli ogi fulli lessli li alize icate iciti ical ful
ness ative al ance ence er ic able ible ant ement ment ent ism ate iti ous ive ize ion e l at bl iz bb dd ff gg mm nn
pp rr tt ly ying yings yed ie""".split()
EXCEPTIONS = "skis skies dying lying tying idly gently ugly early only singly sky news howe atlas cosmos bias andes"


def _real_words() -> list[str]:
    """English words of this repository's documents and code (a few thousand, with their inflections)."""
    root = Path(__file__).resolve().parent.parent
    words: set[str] = set(EXCEPTIONS.split())
    for path in [*root.glob("*.md"), *root.glob("docs/*.md"), *root.glob("bot/*.py"), *root.glob("tests/*.py")]:
        words.update(re.findall(r"[a-z0-9]+", path.read_text(encoding="utf-8", errors="replace").lower()))
    return sorted(words)


def _keeps_head(word: str, term: str | None) -> bool:
    if term is None:  # (a stop word)
        return True
    return term != "" and (word.startswith(term[:2]) or (term[1:2] == "i" and word[:2] == term[0] + "y"))


def test_the_listed_stemmers_keep_the_head_of_every_short_word_and_of_every_ending_after_a_short_start():
    for name in HEAD_KEPT:
        stemmer = Stemmer.Stemmer(name)
        words = ["".join(p) for n in (1, 2, 3) for p in itertools.product(ASCII_WORD, repeat=n)]
        starts = ["".join(p) for n in (1, 2) for p in itertools.product(ASCII_WORD, repeat=n)]
        words += [s + e for s in starts for e in ENDINGS]
        words += _real_words()
        assert len(words) > 100_000
        bad = [(w, t) for w, t in zip(words, stemmer.stemWords(words)) if not _keeps_head(w, t)]
        assert not bad, (name, bad[:20])


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(alphabet=ASCII_WORD + "aeiouyaeiouy", min_size=1, max_size=18), min_size=1, max_size=50))
def test_the_listed_stemmers_keep_the_head_of_any_ascii_word(words):
    for name in HEAD_KEPT:
        stemmer = Stemmer.Stemmer(name)
        for w, t in zip(words, stemmer.stemWords(words)):
            assert _keeps_head(w, t), (name, w, t)


def test_the_separators_find_replaces_by_spaces_fold_in_place():
    assert set("’—“”–") <= set(IN_PLACE_SEPARATORS)


def test_the_chains_that_take_the_head_path_are_the_listed_ones():
    assert analyzer_for("en")._by_head and analyzer_for(None)._by_head
    assert not analyzer_for("de")._by_head and not analyzer_for("tr")._by_head and not analyzer_for("ar")._by_head
    from bot.analysis import AnalysisSettings

    assert Analyzer("de", AnalysisSettings(stemming=False))._by_head  # no stemmer: a term is its word
    assert not Analyzer("tr", AnalysisSettings(stemming=False))._by_head  # (Turkish folds I to dotless ı)


# Words that share beginnings, give one term (stems) or are stop words; upper case; digits; one-letter terms
WORDS = """a ab abs aing aed oing bying bie lying lie i is it its cat cats catalog catalogue Cat CATS cat9 9cat
running runs run ran happy happiness happily skies sky dying die dies ties tie the The and x y yes ying
generous generally news 1 12 123 1st 2nd é café naïve""".split()
SEPARATORS = [" ", "  ", ", ", ". ", "-", "'", "_", "\n", "(", ")", '"', "…", "é", *IN_PLACE_SEPARATORS]


@settings(max_examples=400, deadline=None)
@given(
    st.lists(st.tuples(st.sampled_from(WORDS), st.sampled_from(SEPARATORS)), max_size=16),
    st.sampled_from(["en", None]),
    st.lists(st.sampled_from([w.lower() for w in WORDS] + ["", "a", "c", "ca", "catalog", "happi", "s"]), max_size=4),
    st.booleans(),
)
def test_find_by_head_gives_exactly_the_tokens_of_the_wanted_terms(parts, lang, extra, separator_last):
    """ASCII text (or ASCII but for in-place separators, which take the same path): the tokens tokens() gives,
    filtered by any wanted set (terms of the text, other words' terms, one-letter and empty terms)."""
    text = "".join(w + s for w, s in parts)
    if not separator_last and parts:
        text = text[: -len(parts[-1][1])]
    an = Analyzer(lang)
    every = an.tokens(text)
    terms = [t.term for t in every]
    for wanted in [set(terms), set(terms[::2]), set(terms[1::2]) | set(extra), {an.term(w) or "" for w in extra}]:
        for _ in range(2):  # the second time every word is remembered
            assert an.find(text, wanted) == [t for t in every if t.term in wanted], (text, wanted)
            assert an.find(text, wanted, an.words(text)) == [t for t in every if t.term in wanted], (text, wanted)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.lists(st.tuples(st.sampled_from(WORDS), st.sampled_from(SEPARATORS)), max_size=12), max_size=5),
    st.sampled_from(["en", None, "de", "ru"]),
    st.lists(st.sampled_from([w.lower() for w in WORDS] + ["", "a", "c", "ca", "catalog", "happi", "s"]), max_size=4),
)
def test_a_questions_finder_gives_what_find_gives_for_each_text(texts, lang, extra):
    """One finder for the hits of a question (its wanted terms' beginnings worked out once) finds in each text
    what find does, whichever text comes first (one that needs them or one that does not)."""
    texts = ["".join(w + s for w, s in parts) for parts in texts] + ["кот и cats", ""]
    an = Analyzer(lang)
    terms = [t.term for text in texts[:2] for t in an.tokens(text)]
    for wanted in [set(terms), set(terms[1::2]) | {an.term(w) or "" for w in extra}, set()]:
        find = an.finder(wanted)
        for text in texts:
            assert find(text, None) == an.find(text, wanted) == [t for t in an.tokens(text) if t.term in wanted]
            assert find(text, an.words(text)) == an.find(text, wanted, an.words(text))


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=8), st.integers(0, 2**40), st.integers(0, 2**40))
def test_find_makes_the_same_tokens_as_the_dataclass_does(term, start, end):
    from bot.analysis import Token, _token

    made, plain = _token(term, start, end), Token(term, start, end)
    assert made == plain and hash(made) == hash(plain) and repr(made) == repr(plain) and type(made) is Token
