"""Character 4-grams: what counts as a 4-gram, the sampled statistics, and BM25+ against a brute force."""

import math
import random
from collections import Counter

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from bot.analysis import Analyzer
from bot.grams import GramScorer, GramSketch, buckets, gram_hashes, gram_text


def grams_of(joined: str) -> list[str]:
    """The 4-grams `gram_hashes` keeps, as strings."""
    _, pos = gram_hashes(joined)
    return [joined[p : p + 4] for p in pos.tolist()]


def test_four_grams_stay_within_padded_words():
    text = gram_text(Analyzer("en"), "The Gewaltenteilung, a word.")
    assert text == " the gewaltenteilung a word "
    got = grams_of(text)
    assert " the" in got and "the " in got and " gew" in got and "ung " in got
    assert all(" " not in g[1:3] for g in got)  # never across two words
    assert "e ge" not in got and " a " not in got  # a one-letter word gives none


@pytest.mark.parametrize(
    "lang,text,expected",
    [
        ("de", "Gewaltenteilung", " gew"),
        ("ru", "Государство", " гос"),
        ("el", "Κυβέρνηση", " κυβ"),
        ("ar", "الحكومة", " الح"),
        ("hi", "सरकार", " सरक"),
        ("th", "รัฐบาล", " รัฐ"),
        ("tr", "IŞIK", " ışı"),  # Turkish dotless i when folded
    ],
)
def test_four_grams_in_each_script(lang, text, expected):
    assert expected in grams_of(gram_text(Analyzer(lang), text))


def test_han_and_kana_runs_are_left_to_the_word_field():
    assert gram_text(Analyzer("zh"), "北京大学 Peking University") == " peking university "
    assert gram_text(Analyzer("ja"), "東京タワー") == ""


def test_hashes_identify_four_grams():
    text = " abcd abce abcd "
    h, _ = gram_hashes(text)
    assert len(h) == 9 and len(set(h.tolist())) == 5  # " abc", "abcd", "bcd ", "abce", "bce "
    assert gram_hashes("")[0].size == 0 and gram_hashes(" a ")[0].size == 0


def brute_force(question: str, texts: list[str], corpus: list[str], k1=1.5, b=0.75, delta=1.0) -> list[float]:
    """BM25+ over 4-gram strings, df and mean length from `corpus` (plain Python)."""
    docs = [Counter(grams_of(t)) for t in corpus]
    df = Counter(g for d in docs for g in d)
    avg = sum(sum(d.values()) for d in docs) / len(docs)
    out = []
    for t in texts:
        d = Counter(grams_of(t))
        dl = sum(d.values())
        s = 0.0
        for g, m in Counter(grams_of(question)).items():
            if d[g]:
                idf = math.log((len(docs) + 1) / max(df[g], 1))
                s += m * idf * (d[g] * (k1 + 1) / (d[g] + k1 * (1 - b + b * dl / avg)) + delta)
        out.append(s)
    return out


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_scores_equal_bm25_plus_computed_by_hand(seed):
    rng = random.Random(seed)
    syllables = ["ka", "to", "ri", "men", "sa", "lo", "gen", "tu", "wa", "ber", "ist", "ung"]
    an = Analyzer(None)
    words = ["".join(rng.choices(syllables, k=rng.randint(1, 4))) for _ in range(60)]
    corpus = [gram_text(an, " ".join(rng.choices(words, k=rng.randint(3, 40)))) for _ in range(80)]
    sketch = GramSketch()
    for pid, text in enumerate(corpus):
        sketch.add(pid, an, text)
    arrays = sketch.arrays()
    assert arrays["gram_stats"][0] == len(corpus)
    if len(np.unique(buckets(np.unique(np.concatenate([gram_hashes(t)[0] for t in corpus]))))) < sum(
        1 for _ in set(g for t in corpus for g in grams_of(t))
    ):
        pytest.skip("a table collision in this draw")  # exact equality needs one slot per 4-gram
    scorer = GramScorer(arrays["gram_df"], arrays["gram_stats"])
    for _ in range(10):
        question = gram_text(an, " ".join(rng.choices(words, k=rng.randint(1, 6))))
        picked = rng.sample(corpus, 12)
        picked.insert(rng.randint(0, 12), "")  # a candidate without words: no 4-grams, score 0
        np.testing.assert_allclose(scorer.scores(question, picked), brute_force(question, picked, corpus), rtol=1e-9)


def test_partial_word_matches_score_and_unrelated_text_does_not():
    an = Analyzer("de")
    corpus = [
        gram_text(an, t)
        for t in ["Die Gewaltenteilung ist ein Grundsatz.", "Der Fluss fließt ins Meer.", "Teilung der Macht"]
    ]
    sketch = GramSketch()
    for pid, text in enumerate(corpus):
        sketch.add(pid, an, text)
    a = sketch.arrays()
    scores = GramScorer(a["gram_df"], a["gram_stats"]).scores(gram_text(an, "Dreiteilung der Gewalt"), corpus)
    assert scores[0] > scores[1] and scores[2] > scores[1]


def test_the_sample_is_bounded_deterministic_and_order_free():
    an = Analyzer("en")
    texts = {
        pid: gram_text(an, f"passage number {pid} about topic{pid % 97} and word{pid % 13}") for pid in range(3000)
    }
    forward, backward = GramSketch(sample=200), GramSketch(sample=200)
    for pid in range(3000):
        forward.add(pid, an, texts[pid])
    for pid in reversed(range(3000)):
        backward.add(pid, an, texts[pid])
    a, b = forward.arrays(), backward.arrays()
    assert 200 <= a["gram_stats"][0] <= 400 and forward.floor > 0
    assert (a["gram_df"] == b["gram_df"]).all() and (a["gram_stats"] == b["gram_stats"]).all()
    # common 4-grams are in about every sampled passage, rare ones in few
    df = a["gram_df"]
    common, _ = gram_hashes(" passage ")
    assert df[buckets(common[:1])][0] == a["gram_stats"][0]


def test_the_statistics_are_saved_with_the_index_and_answers_match(tmp_path):
    from bot.articles import Article
    from bot.build import build_to
    from bot.search import Engine

    paragraphs = [
        f"Report {i}: the council of town{i % 7} discussed the budget{'s' * (i % 2)} and roads." for i in range(40)
    ]
    articles = [Article(id=f"a{i}", title=f"T{i}", paragraphs=[p], lang="en") for i, p in enumerate(paragraphs)]
    build_to(tmp_path / "idx", articles)
    loaded = Engine.load(tmp_path / "idx")
    assert {"gram_df", "gram_stats"} <= set(loaded.extras) and loaded.extras["gram_stats"][0] == 40
    fresh = Engine.build([Article(id=a.id, title=a.title, paragraphs=a.paragraphs, lang="en") for a in articles])
    for q in ["council budget", "roads of town3", "budgets discussed"]:
        assert loaded.rank(q, 5).hits == fresh.rank(q, 5).hits


def test_a_batch_adds_what_passages_added_one_by_one_add():
    """add_many (the build's batches) keeps the same sample with the same 4-grams as add, also when the
    sample's floor rises in the middle of a batch; texts without any word included."""
    ans = [Analyzer("en"), Analyzer("de"), Analyzer(None)]
    rng = random.Random(5)
    words = ["Haus", "house", "a", "teilung", "x1", "über", "the", "ï"]
    texts = [" ".join(rng.choices(words, k=rng.randint(0, 12))) for _ in range(4000)]
    one, many = GramSketch(sample=150), GramSketch(sample=150)
    for pid, text in enumerate(texts):
        one.add(pid, ans[pid % 3], text)
    at = 0
    while at < len(texts):
        n = rng.randint(1, 400)
        pids = list(range(at, min(at + n, len(texts))))
        many.add_many(pids, [ans[p % 3] for p in pids], [texts[p] for p in pids])
        at += n
    assert one.floor == many.floor > 0
    assert list(one._kept) == list(many._kept)
    for pid, (level, slots, n) in one._kept.items():
        h, _ = gram_hashes(gram_text(ans[pid % 3], texts[pid]))  # a passage's 4-grams on their own
        want = np.unique(buckets(h)).astype(np.uint32)
        assert n == len(h) and slots.dtype == want.dtype and (slots == want).all()
        assert many._kept[pid][0] == level and many._kept[pid][2] == n
        assert many._kept[pid][1].dtype == slots.dtype and (many._kept[pid][1] == slots).all()
    a, b = one.arrays(), many.arrays()
    assert (a["gram_df"] == b["gram_df"]).all() and (a["gram_stats"] == b["gram_stats"]).all()


_WORD = st.text(st.sampled_from("abcdeéßıİ ΣσςЖж\u0301xyz"), min_size=0, max_size=7)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(_WORD, max_size=8), min_size=1, max_size=4), st.integers(0, 2))
def test_question_grams_from_remembered_words_are_the_hashed_ones(questions, pad):
    """The question's 4-grams from each word's remembered 4-grams and their idf: the same hashes and idf (times
    the counts) as hashing the whole question (words repeated, remembered by an earlier question, or new; and a
    text that is not a gram_text)."""
    from bot.grams import _counted

    rng = np.random.default_rng(len(questions))
    scorer = GramScorer(rng.integers(0, 50, 1 << 10).astype(np.uint16), np.array([100.0, 40.0]))
    for words in questions:
        q = " " * pad + " ".join(words) + " " * pad
        got = scorer._question_grams(q)
        h, _ = gram_hashes(q)
        if not len(h):
            assert got is None
            continue
        qg, mult = _counted(h)
        assert got is not None
        assert got[0].tolist() == qg.tolist()
        # the idf of each 4-gram times how often it occurs, as the whole question's arrays give them, bit for bit
        idf = np.log((scorer.n + 1.0) / np.maximum(scorer.df[buckets(qg, scorer.bits)].astype(np.float64), 1.0))
        assert got[1].tolist() == (idf * mult).tolist()


def test_remembered_question_words_are_bounded(monkeypatch):
    from bot.grams import _counted

    monkeypatch.setattr(GramScorer, "WORDS", 6)
    scorer = GramScorer(np.arange(1 << 10, dtype=np.uint16), np.array([100.0, 40.0]))
    for i in range(50):
        q = f" word{i} other{i % 7} shared "
        got = scorer._question_grams(q)
        assert len(scorer._words) <= GramScorer.WORDS + 3  # (a question's new words join after a reset)
        qg, mult = _counted(gram_hashes(q)[0])
        idf = scorer._idf(scorer.df[buckets(qg, scorer.bits)].astype(np.float64)) * mult
        assert got is not None and got[0].tolist() == qg.tolist() and got[1].tolist() == idf.tolist()


@settings(max_examples=200, deadline=None)
@example(" plain ascii words ")  # (ASCII text is read a byte a character)
@example(" ascii and é ")
@given(st.text(st.sampled_from("ab zé\u0301ΣЖ\U0001f600\U0010ffff\x00\x7f"), max_size=40))
def test_four_gram_hashes_are_the_polynomial_of_their_code_points(text):
    """_hashes_at's hash of each 4-gram is c0*P^3 + c1*P^2 + c2*P + c3 modulo 2^64 (FNV prime P), and a
    4-gram is kept when its two middle characters are not spaces."""
    from bot.grams import _hashes_at

    p, mod = 0x100000001B3, 1 << 64
    h, keep = _hashes_at(text)
    want = [
        ((((ord(a) * p + ord(b)) * p + ord(c)) * p) + ord(d)) % mod
        for a, b, c, d in zip(text, text[1:], text[2:], text[3:])
    ]
    assert h.tolist() == want
    assert keep.tolist() == [text[i + 1] != " " and text[i + 2] != " " for i in range(len(want))]


@pytest.mark.parametrize("n", [1.0, 37.0, 10_000.0, 19_999.0])
def test_the_idf_of_a_count_is_the_same_in_any_array(n):
    """A question's 4-grams take the idf remembered with each word (computed among that batch's 4-grams): numpy's
    log of a value must not depend on the array around it (its length, its place in it). Every table count a
    sketch can hold (uint16), alone, in the whole range, reversed and at odd offsets."""
    scorer = GramScorer(np.zeros(1 << 10, dtype=np.uint16), np.array([n, 40.0]))
    df = np.arange(1 << 16, dtype=np.float64)
    whole = scorer._idf(df)
    assert scorer._idf(df[::-1]).tolist() == whole[::-1].tolist()
    for start in (1, 3, 7):
        assert scorer._idf(df[start:]).tolist() == whole[start:].tolist()
    rng = np.random.default_rng(int(n))
    for size in range(1, 40):
        some = rng.integers(0, 1 << 16, size)
        assert scorer._idf(df[some]).tolist() == whole[some].tolist()
    assert [scorer._idf(df[i : i + 1])[0] for i in range(0, 1 << 16, 97)] == whole[::97].tolist()
