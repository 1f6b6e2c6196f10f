"""Sentence splitting in the corpus's languages: abbreviations, initials, ordinals, quotes, and exact spans."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.sentences import sentence_spans


def sentences(text: str, lang: str | None) -> list[str]:
    return [text[s:e] for s, e in sentence_spans(text, lang=lang)]


CASES = [
    # English stays right
    (
        "en",
        ["Mr. Smith met J. Doe in the U.S. on Monday.", "They talked!", "他来了。", "她走了。", "Was it good?", "Yes."],
    ),
    ("en", ["The talks were set for Dec. 20.", "Prof. Brown disagreed, e.g. on gas."]),
    ("en", ["He paid $5.50 for it.", "It cost approx. three dollars in 2019.", "Then prices rose."]),
    ("en", ["“We won,” he said.", "“Really?” she asked.", "The score was 3–1."]),
    ("en", ["He said no.", "Then No. 5 won the race in Dec.", "The End."]),
    ("en", ["The condenser runs at 30 °C.", "This gives an efficiency of 40%."]),
    ("en", ["It left on a separate rocket (Saturn IB.)", "The crew stayed."]),
    # German: ordinals, abbreviations, but a number may still end a sentence
    ("de", ["Am 5. November trafen sich die Präsidenten.", "Die Gespräche dauerten fünf Stunden."]),
    ("de", ["Das ist z. B. ein Beispiel, d. h. eine Erklärung.", "Dr. Müller kam am 1. Januar 2020 an."]),
    ("de", ["Der 2. Weltkrieg begann 1939.", "Im 19. Jahrhundert wuchs die Stadt."]),
    ("de", ["Die Firma verkaufte ca. 300 Autos bzw. Lastwagen im Jahr.", "Das war gut."]),
    ("de", ["Die Zahl der Toten stieg auf 17.", "Die Polizei ermittelt."]),
    (
        "de",
        ["Sie wohnt in der Goethestr. 5 in Berlin.", "Nr. 7 gewann.", "Er kaufte Äpfel, Birnen usw.", "Dann ging er."],
    ),
    ("de", ["Sie spielen in der vierten Liga (5. Rang in Polen) weiter.", "Pons Aelius hatte 2.000.", "Danach nicht."]),
    ("de", ["Hadrian gründete sie im 2. Jahrhundert n. Chr.", "Später verfiel sie."]),
    # Russian: initials, abbreviations, direct speech; "я" is a word
    ("ru", ["Это сказал А. С. Пушкин.", "Он жил в XIX в. и писал стихи."]),
    ("ru", ["Переговоры, т. е. встреча президентов, длились пять часов.", "Итогов нет."]),
    (
        "ru",
        [
            "Цена выросла на 5 млн. руб.",
            "Об этом сообщил проф. Иванов.",
            "Кто это сделал?",
            "Это был я.",
            "Потом все ушли.",
        ],
    ),
    ("ru", ["В г. Минске, т.е. в столице, прошли встречи и т. д.", "Потом всё стихло."]),
    ("ru", ["«Мы победили», — сказал он.", "«Правда?» — спросила она.", "Счёт 3:1."]),
    ("ru", ["Ротор вращается со скоростью 1500 об/мин.", "Это стандарт."]),
    ("uk", ["Це сказав Т. Г. Шевченко.", "Він жив у ХІХ ст. і писав вірші."]),
    ("es", ["El Sr. García llegó el 5 de nov. a Madrid.", "La Dra. López no vino.", "Fue en EE. UU. el año pasado."]),
    ("es", ["Lo fundó en el siglo II d.C.", "Este honor es raro."]),
    ("el", ["Πού είσαι;", "Είμαι εδώ, π.χ. στο σπίτι.", "Καλά."]),
    ("tr", ["Toplantı 5. gün yapıldı.", "Sonuç açıklanmadı.", "Dr. Yılmaz konuştu."]),
]


@pytest.mark.parametrize("lang, expected", CASES)
def test_sentences_in_the_corpus_languages(lang, expected):
    assert sentences(" ".join(expected), lang) == expected


def test_language_codes_are_read_loosely_and_unknown_ones_get_the_default_rules():
    text = "Am 5. November kam er. Dann ging er."
    assert sentences(text, "de-AT") == sentences(text, "de_DE") == sentences(text, "DE") == sentences(text, "de")
    assert sentences(text, "de") == ["Am 5. November kam er.", "Dann ging er."]
    assert sentences(text, None) == sentences(text, "xx") == ["Am 5.", "November kam er.", "Dann ging er."]


def test_the_old_name_still_works():
    from bot.passages import sentence_spans as old_name

    assert old_name is sentence_spans


LANGS = ["en", "de", "ru", "uk", "es", "el", "tr", "zh", "ar", None]
pieces = st.sampled_from(
    ["Mr.", "Dr", "z. B.", "т. е.", "и т. д.", "5.", "1990.", "Am", "А.", "я.", "«", "»", "“", "”", "(", ")", "—",
     "?", "!", "…", "...", "。", "；", ";", "\n\n", "  ", "November", "он", "the", "Die", "e.g.", "2.000.", "°C."]
)  # fmt: skip
texts = st.lists(pieces | st.text(max_size=6), max_size=40).map(" ".join)


@given(texts, st.sampled_from(LANGS), st.data())
@settings(max_examples=300, deadline=None)
def test_spans_tile_the_range_in_order_and_never_look_outside_it(text, lang, data):
    start = data.draw(st.integers(0, len(text)))
    end = data.draw(st.integers(start, len(text)))
    spans = sentence_spans(text, start, end, lang=lang)
    pos = start
    for s, e in spans:
        assert pos <= s < e <= end
        assert not text[pos:s].strip()  # only white space between sentences
        pos = e
    assert not text[pos:end].strip()  # nothing after the last sentence but white space
    assert all(text[s:e] == text[s:e].rstrip() for s, e in spans)
    # the text outside [start, end) makes no difference
    assert spans == [(s + start, e + start) for s, e in sentence_spans(text[start:end], lang=lang)]


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from([*"ab. -_1(\u00a0\t", "é", "ж", "\u0301"]), max_size=24))
def test_the_word_before_a_stop_is_looked_for_after_the_last_space_only(window):
    """_ends_sentence searches the word before a full stop from the window's last space on: the same match
    as searching the whole window (the word holds no space)."""
    from bot.sentences import _WORD

    whole, tail = _WORD.search(window), _WORD.search(window, window.rfind(" ") + 1)
    assert (whole and (whole.start(), whole.end())) == (tail and (tail.start(), tail.end()))
