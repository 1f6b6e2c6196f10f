"""bot.lid computes fastText's lid.176 in numpy: its probabilities and the languages the build picks are
those of fastText's own predictor (fasttext-predict, a test dependency here: the oracle)."""

from __future__ import annotations

import fasttext
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot import language
from bot.bench.synthetic import SyntheticCorpus
from bot.lid import LanguageModel
from bot.settings import SAMPLE_CORPUS

MULTILINGUAL = [
    "The Belarusian ambassador to Russia spoke about gas prices and the oil supplies in Minsk.",
    "Посол Беларуси в России Владимир Семашко заявил о компенсации налоговых потерь за нефть.",
    "Посол Білорусі в Росії Володимир Семашко заявив про компенсацію податкових втрат.",
    "Am 5. November sprach der Botschafter über die Gaspreise und die Ölversorgung der Stadt.",
    "İstanbul'da IŞIK fiyatları ve DOĞALGAZ anlaşması hakkında konuştu, ırmaklar taştı.",
    "白俄罗斯驻俄罗斯大使谈到了税收损失的补偿问题以及石油供应。",
    "La Constitución española establece la división de poderes y la soberanía nacional.",
    "ประเทศไทยมีพระมหากษัตริย์เป็นประมุข",
    "Η Ελλάδα είναι χώρα της νοτιοανατολικής Ευρώπης.",
    "هذه جملة باللغة العربية عن الاقتصاد والنفط",
    "यह हिंदी में एक वाक्य है",
    "",
    "   ",
    "42",
    "!!!",
    "x",
    "a\0b c",
    "hello </s> world again",
    "__label__en tricky",
    "émoji 😀 ünïcödé",
]


@pytest.fixture(scope="module")
def oracle():
    return fasttext.load_model(language._model_path()).f.predict


@pytest.fixture(scope="module")
def model():
    with open(language._model_path(), "rb") as f:
        return LanguageModel(f.read())


def texts() -> list[str]:
    out = list(MULTILINGUAL)
    out += [p for f in sorted(SAMPLE_CORPUS.glob("*.txt")) for p in f.read_text().split("\n\n")]
    corpus = SyntheticCorpus(300, seed=3, shape="short")
    out += [p for chunk in corpus.articles() for art in chunk for p in art["paragraphs"]]
    return out


def _line(text: str) -> str:
    return " ".join(text.split()) + "\n"  # how bot.language handed texts to fastText's predictor


def agree(model: LanguageModel, oracle, text: str) -> None:
    want = oracle(_line(text), 5, 0.0, "replace")
    got = model.predict(text, 5)
    assert [label[len("__label__") :] for _, label in want] == [label for _, label in got], text
    assert [p for p, _ in want] == pytest.approx([p for p, _ in got], abs=1e-5), text


def test_probabilities_equal_fasttexts(model, oracle):
    for text in texts():
        agree(model, oracle, text)


@settings(max_examples=150, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("abcdefghij KLM.,'’—éüßжщ中文ئ\t\n0123</>_")), max_size=120))
def test_probabilities_equal_fasttexts_on_any_text(model, oracle, text):
    agree(model, oracle, text)


def test_articles_get_the_language_fasttext_gives_their_prefix(oracle):
    """detect_articles (many at once, the likeliest label found down one path of the tree) picks what the
    per-article logic over fastText's predictor picked: the 128-character prefix when it is sure, else the
    first supported of the 12 likeliest for the 400-character prefix."""
    allowed = language.supported()

    def old(text: str) -> str | None:
        head = _line(language._prefix(text, language.ARTICLE_PREFIX))
        if head == "\n":
            return None
        best = oracle(head, 1, 0.0, "replace")
        if best and best[0][0] >= language.SURE and best[0][1][9:] in allowed:
            return best[0][1][9:]
        if len(text) > language.ARTICLE_PREFIX:
            head = _line(language._prefix(text, language.ARTICLE_PREFIX_SLOW))
        return next((lb[9:] for _, lb in oracle(head, 12, 0.0, "replace") if lb[9:] in allowed), None)

    sample = texts()
    long_ones = ["\n\n".join(sample[i : i + 4]) for i in range(0, len(sample), 4)]
    for batch in (sample, long_ones):
        assert language.detect_articles(batch) == [old(t) for t in batch]
    assert language.detect_article(sample[0]) == old(sample[0])


def test_questions_get_the_likeliest_allowed_language(oracle):
    for text in MULTILINGUAL:
        among = {"en", "ru", "de"}
        labels = [lb[9:] for _, lb in oracle(_line(text), -1, 0.0, "replace")]
        want = next((lb for lb in labels if lb in among), None) if text.split() else None
        assert language.detect(text, among=among) == want


def test_the_likeliest_of_a_few_languages_is_the_first_of_them_in_the_full_ranking(model):
    """detect(text, among) sums only the paths of the allowed labels (query time): the same answer as
    walking every label's probability, best first, to the first allowed one."""
    everything = set(model.labels)
    for among in ({"en", "ru", "de"}, {"en", "eo", "es"}, {"zh"}, {"xx", "en"}, set(), everything):
        ids = model.label_indices(among)
        for text in texts():
            ranked = model.ranked(model.log_probs([text])[0], -1)
            assert model.likeliest_of(text, ids) == next((lb for _, lb in ranked if lb in among), None), text


@settings(max_examples=150, deadline=None)
@given(
    text=st.text(st.characters(codec="utf-8"), max_size=60) | st.sampled_from(MULTILINGUAL),
    among=st.sets(st.sampled_from(["en", "ru", "de", "fr", "es", "zh", "uk", "tr", "ar", "hi", "th", "xx"])),
)
def test_log_probs_of_a_few_labels_are_log_probs_bits(model, text, among):
    """The query-time path (only the nodes on the allowed labels' paths) gives the same floats as the full
    computation, bit for bit, so the question's language is the one the full ranking gives."""
    ids = model.label_indices(among)
    if len(ids):
        assert model.log_probs_of(text, ids).tolist() == model.log_probs([text])[0][ids].tolist()


@settings(max_examples=150, deadline=None)
@given(
    text=st.text(st.characters(codec="utf-8"), max_size=60) | st.sampled_from(MULTILINGUAL),
    other=st.sampled_from(MULTILINGUAL),
)
def test_one_texts_hidden_vector_is_the_batchs(model, text, other):
    """A question's hidden vector (one text: its words' rows gathered and summed on their own) has the bits the
    batch computation gives the same text among others."""
    assert model.hidden([text]).tolist() == model.hidden([other, text])[1:].tolist()
    assert model.hidden([text]).tolist() == model.hidden([text, other])[:1].tolist()


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.text(alphabet=st.sampled_from(list("abcdefghij KLM.,'’—éüßжщ中文\t\n0123</>_\0")), max_size=60)
        | st.sampled_from(["", " ", "a </s> b", "__label__en x", "a\0b", "zzqx unseen wordz"]),
        min_size=2,
        max_size=12,
    )
)
def test_hidden_vectors_of_a_batch_are_each_texts_bits(model, texts):
    """The batch path (a build's articles: all words looked up at once) gives, bit for bit, each text's
    hidden vector as the one-text path (a question's) computes it."""
    many = model.hidden(texts)
    one = np.vstack([model.hidden([t]) for t in texts])
    assert np.array_equal(many, one)
