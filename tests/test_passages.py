"""Passages: paragraph- and sentence-aware, never cutting a sentence, with exact spans."""

from itertools import pairwise

from bot.articles import Article
from bot.passages import sentence_spans, split_article


def article(paragraphs):
    return Article(id="a", title="T", paragraphs=paragraphs)


def test_sentences_respect_abbreviations_initials_and_cjk():
    text = "Mr. Smith met J. Doe in the U.S. on Monday. They talked! 他来了。她走了。 Was it good? Yes."
    got = [text[s:e] for s, e in sentence_spans(text)]
    assert got == [
        "Mr. Smith met J. Doe in the U.S. on Monday.",
        "They talked!",
        "他来了。",
        "她走了。",
        "Was it good?",
        "Yes.",
    ]


def test_short_paragraphs_merge_and_long_ones_split_at_sentences():
    short = ["One short line.", "Another short line.", "A third."]
    sentence = "This sentence is about forty-eight chars long. "
    long = (sentence * 60).strip()  # ~2,800 characters
    a = article([*short, long])
    ps = split_article(a, 0, target_chars=400)
    text = a.text
    # the three short paragraphs merged into the first passage
    assert text[ps[0].start : ps[0].end].startswith("\n\n".join(short))
    # the long paragraph split, each piece whole sentences within the size bounds
    pieces = [text[p.start : p.end] for p in ps[1:]]
    assert len(pieces) >= 4
    for piece in pieces:
        assert piece.startswith("This sentence") and piece.endswith("long.")
        assert len(piece) <= 800
    assert [p.index for p in ps] == list(range(len(ps)))
    assert all(p.count == len(ps) for p in ps)


def test_a_sentence_longer_than_the_limit_is_never_cut():
    huge = "word " * 500 + "end."
    ps = split_article(article([huge.strip()]), 0, target_chars=100)
    assert len(ps) == 1 and ps[0].end - ps[0].start == len(huge.strip())


def test_spans_cover_the_text_in_order():
    paras = [f"Paragraph {i}. " + "Some more words here. " * (i * 7) for i in range(12)]
    a = article([p.strip() for p in paras])
    ps = split_article(a, 3, target_chars=300)
    assert all(p.article == 3 for p in ps)
    for prev, cur in pairwise(ps):
        assert prev.end <= cur.start
        assert a.text[prev.end : cur.start].strip() == ""
    covered = "".join(a.text[p.start : p.end] for p in ps)
    assert covered.replace(" ", "").replace("\n", "") == a.text.replace(" ", "").replace("\n", "")
