"""Analyzer.find tests word boundaries in ASCII text with str.isalnum: right only while the tokenizer's word
characters among ASCII are exactly the letters and digits."""

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.analysis import _WORD_CHAR_RE, Analyzer


def test_the_ascii_word_characters_are_what_isalnum_accepts():
    for code in range(128):
        c = chr(code)
        assert (_WORD_CHAR_RE.match(c) is not None) == c.isalnum(), repr(c)


WORDS = ["a", "ab", "ab1", "1", "12", "b", "ba", "cat", "cats", "cat9", "9cat", "é", "éa", "Ab", "CAT"]
SEPARATORS = [" ", " ", ",", ".", "-", "'", "_", "—", "\u00a0", "’", "\n"]


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.tuples(st.sampled_from(WORDS), st.sampled_from(SEPARATORS)), max_size=12),
    st.sampled_from(["en", "de", "tr", None]),
    st.booleans(),
)
def test_find_tells_a_word_from_the_start_or_end_of_a_longer_one(parts, lang, separator_last):
    """Words that begin or end other words, with letters or digits: find gives exactly the tokens tokens()
    gives, whether the text ends with a word or a separator."""
    text = "".join(w + s for w, s in parts)
    if not separator_last and parts:
        text = text[: -len(parts[-1][1])]
    an = Analyzer(lang)
    every = an.tokens(text)
    for wanted in [{t.term for t in every}, {t.term for t in every[::2]}, {t.term for t in every[1::2]}]:
        for _ in range(2):  # the second time every word is known
            assert an.find(text, wanted) == [t for t in every if t.term in wanted], (text, wanted)
            assert an.find(text, wanted, an.words(text)) == [t for t in every if t.term in wanted], (text, wanted)
