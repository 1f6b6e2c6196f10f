"""The window a user reads: whole sentences around the question's words, within the budget."""

import pytest

from bot.analysis import Analyzer
from bot.sentences import sentence_spans
from bot.window import best_sentence, best_window


def window(text, question, lang="en", budget=200):
    an = Analyzer(lang)
    wanted = set(an.terms(question))
    matched = [t for t in an.tokens(text) if t.term in wanted]
    idf = {t: 1.0 for t in wanted}
    sentences = sentence_spans(text, lang=lang)
    lo, hi = best_window(text, sentences, matched, idf, budget)
    return text[lo:hi], best_sentence(sentences, matched, idf, lo, hi), (lo, hi)


FILLER = "Nothing of note happened on that quiet day in the village. "


@pytest.mark.parametrize(
    "lang,answer,question",
    [
        ("en", "The bridge over the Danube opened in 1937.", "When did the Danube bridge open?"),
        ("de", "Die Brücke über die Donau wurde 1937 eröffnet.", "Wann wurde die Brücke über die Donau eröffnet?"),
        ("ru", "Мост через Дунай открыли в 1937 году.", "Когда открыли мост через Дунай?"),
        ("el", "Η γέφυρα στον Δούναβη άνοιξε το 1937.", "Πότε άνοιξε η γέφυρα στον Δούναβη;"),
        ("ar", "افتتح الجسر على نهر الدانوب عام 1937.", "متى افتتح الجسر على نهر الدانوب؟"),
    ],
)
def test_the_window_holds_the_sentence_with_the_question_words(lang, answer, question):
    text = FILLER * 6 + answer + " " + FILLER * 6
    shown, sentence, (lo, hi) = window(text, question, lang)
    assert answer in shown
    assert len(shown) <= 200 and shown == text[lo:hi]
    assert text[sentence[0] : sentence[1]] == answer


def test_a_short_passage_is_shown_whole():
    text = "Short. Very short."
    assert window(text, "short")[0] == text


def test_the_window_covers_the_most_question_terms_not_just_one_sentence():
    text = FILLER * 4 + "Alpha met Beta. " + FILLER * 3 + "Gamma met Alpha and Beta at Delta. " + FILLER * 4
    shown, _, _ = window(text, "Where did Alpha, Beta and Gamma meet at Delta?", budget=150)
    assert "Gamma met Alpha and Beta at Delta." in shown


def test_a_sentence_longer_than_the_budget_is_cut_at_spaces_around_the_matches():
    text = " ".join(f"word{i}" for i in range(200)) + " target phrase here " + " ".join(f"more{i}" for i in range(200))
    shown, _, (lo, hi) = window(text, "target phrase", budget=120)
    assert "target phrase" in shown and len(shown) <= 120
    assert (lo == 0 or text[lo - 1] == " ") and (hi == len(text) or text[hi] == " ")


def test_thai_text_without_sentence_marks_is_cut_around_the_match():
    text = "ข้อความยาว " * 60 + "แม่น้ำโขงไหลผ่านประเทศลาว " + "ข้อความยาว " * 60
    shown, _, _ = window(text, "แม่น้ำโขงไหลผ่านประเทศอะไร", lang="th", budget=150)
    assert "แม่น้ำโขง" in shown and len(shown) <= 150


def test_among_windows_covering_the_same_terms_the_one_where_they_recur_wins():
    # Both runs of two sentences hold all three words; the later one holds them twice over.
    text = "Alpha and Beta met Gamma. " + FILLER * 3 + "Alpha saw Beta there. Gamma, Alpha and Beta met again. "
    shown, _, _ = window(text, "Did Alpha, Beta and Gamma meet?", budget=90)
    assert shown.startswith("Alpha saw Beta there.") and "met again" in shown
