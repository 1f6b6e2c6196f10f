"""The analysis chain, filter by filter, in the scripts the corpus and the dev set use."""

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from bot.analysis import SEPARATORS, AnalysisSettings, Analyzer, bigrams, lowercase, normalize


def test_english_stop_words_and_stemming():
    assert Analyzer("en").terms("Who is the Belarusian ambassador to Russia?") == ["belarusian", "ambassador", "russia"]
    assert Analyzer("en").terms("negotiations negotiating") == ["negoti", "negoti"]


def test_devanagari_combining_marks_stay_inside_words():
    # Python's \w alone splits हिन्दी into ह, न, द
    words = Analyzer(None).terms("हिन्दी भाषा")
    assert words == ["हिन्दी", "भाषा"]


def test_turkish_dotted_and_dotless_i():
    assert lowercase("İSTANBUL Işık", "tr") == "istanbul ışık"
    # elsewhere İ folds to a plain i, never i + U+0307 that would split the word
    assert Analyzer(None).terms("İstanbul") == ["istanbul"]


def test_turkish_question_meets_passage():
    an = Analyzer("tr")
    assert set(an.terms("İSTANBUL nerede")) & set(an.terms("İstanbul'da yaşıyor"))


def test_bom_zero_width_and_nfkc():
    assert normalize("\ufeffＡＢＣ\u200b") == "ABC"
    assert Analyzer(None).terms("\ufeffword") == ["word"]


def test_chinese_becomes_bigrams():
    assert bigrams("北京大学") == ["北京", "京大", "大学"]
    assert bigrams("京") == ["京"]
    assert Analyzer("zh").terms("北京大学在哪里") == ["北京", "京大", "大学", "学在", "在哪", "哪里"]


@pytest.mark.parametrize(
    "lang,run,words",
    [
        ("th", "ภาษาไทยไม่มีช่องว่าง", ["ภาษา", "ไทย", "ไม่มี", "ช่อง", "ว่าง"]),
        ("lo", "ທ່ານສະບາຍດີບໍ່", ["ທ່ານ", "ສະບາຍດີ", "ບໍ່"]),
        ("km", "ខ្ញុំស្រឡាញ់ប្រទេសកម្ពុជា", ["ខ្ញុំ", "ស្រឡាញ់", "ប្រទេស", "កម្ពុជា"]),
    ],
)
def test_thai_lao_khmer_are_split_into_dictionary_words(lang, run, words):
    assert Analyzer(lang, AnalysisSettings(stop_words=False)).terms(run) == words


def test_myanmar_is_segmented_not_bigrammed():
    terms = Analyzer("my").terms("မြန်မာနိုင်ငံ")
    assert terms and all(len(t) > 2 for t in terms)


def test_thai_stop_words_are_dropped_and_question_meets_passage():
    an = Analyzer("th")
    assert an.terms("ภาษาไทยและภาษาลาว") == ["ภาษา", "ไทย", "ภาษา", "ลาว"]  # และ (and) is a function word
    question = an.terms("แม่น้ำโขงไหลผ่านประเทศอะไร")  # which countries does the Mekong flow through
    passage = an.terms("แม่น้ำโขงไหลผ่านประเทศจีน พม่า ลาว ไทย กัมพูชา และเวียดนาม")
    assert {"แม่น้ำ", "โขง", "ไหล", "ผ่าน", "ประเทศ"} <= set(question) & set(passage)


def test_a_run_mixing_thai_and_han_is_cut_where_the_script_changes():
    assert Analyzer(None).terms("ไทย中国") == ["ไทย", "中国"]
    assert Analyzer(None).terms("中国人ไทย") == ["中国", "国人", "ไทย"]


def test_thai_tokens_carry_their_spans():
    text = "ภาษาไทย คือ ภาษา"
    toks = Analyzer("th").tokens(text)
    assert [(t.term, text[t.start : t.end]) for t in toks] == [("ภาษา", "ภาษา"), ("ไทย", "ไทย"), ("ภาษา", "ภาษา")]


def test_mixed_scripts_split_at_script_changes():
    assert Analyzer(None).terms("iPhone发布会2019") == ["iphone", "发布", "布会", "2019"]


@pytest.mark.parametrize(
    "lang,question,passage",
    [
        ("ru", "Кто посол Беларуси в России?", "Посол Беларуси в России Владимир Семашко заявил"),
        ("uk", "Хто посол Білорусі в Росії?", "Посол Білорусі в Росії Володимир Семашко заявив"),
        ("be", "Хто пасол Беларусі ў Расіі?", "Пасол Беларусі ў Расіі Уладзімір Сямашка заявіў"),
        ("de", "Wer ist der Botschafter?", "Der Botschafter Weißrusslands sagte"),
        ("el", "Ποιος είναι ο πρέσβης;", "Ο πρέσβης της Λευκορωσίας δήλωσε"),
        ("ar", "من هو السفير؟", "قال السفير البيلاروسي"),
        ("hi", "राजदूत कौन है?", "बेलारूस के राजदूत ने कहा"),
    ],
)
def test_questions_meet_passages_in_each_language(lang, question, passage):
    an = Analyzer(lang)
    assert set(an.terms(question)) & set(an.terms(passage))
    assert not set(an.terms(question)) - set(an.terms(question + " " + passage))


def test_belarusian_stop_words_are_dropped():
    assert "ў" not in Analyzer("be").terms("Хто пасол Беларусі ў Расіі?")


def test_tokens_carry_spans_in_the_original_text():
    text = "\ufeffThe Ambassador met Ｐutin in 北京."
    toks = Analyzer("en").tokens(text)
    found = {t.term: text[t.start : t.end] for t in toks}
    assert found["ambassador"] == "Ambassador"
    assert found["北京"] == "北京"
    assert "putin" in found and found["putin"].endswith("utin")


def test_settings_can_turn_filters_off():
    an = Analyzer("en", AnalysisSettings(stop_words=False, stemming=False))
    assert an.terms("The negotiations") == ["the", "negotiations"]


TRICKY = [
    "Plain ASCII text, with punctuation: (yes) -- 2024's numbers 3.14 and e-mail@example.com!",
    "Curly “quotes” and ‘apostrophes’ — dashes – ellipsis… «guillemets» • bullets · dots",
    "Non\u00a0breaking\u2009thin\u202fspaces and primes 5′ 6″",
    "Soft\u00adhyphen in co\u00adoperation and zero\u200bwidth join",
    "İstanbul’da IŞIK ılık Iğdır",
    "Ｆｕｌｌ－ｗｉｄｔｈ ＡＢＣ and ligatures ﬁne ﬂow",
    "Café naïve résumé façade e\u0301 composed",
    "Москва и Минск — переговоры о газе; Лукашенко сказал «нет».",
    "中国的经济发展很快。日本語のテキスト、カタカナ。",
    "ภาษาไทยไม่มีช่องว่าง และ ข้อความ",
    "हिन्दी भाषा में समाचार",
    "Emoji 🙂 and symbols ©®™ and math 𝐀𝐁𝐂 and 𝟙𝟚𝟛",
    "MIXED case WORDS Running runner runs under_score",
    "",
    "   ",
    "a" * 70 + " toolongword " + "b" * 64,
]


@pytest.mark.parametrize("lang", ["en", "tr", "az", "ru", "zh", "th", "hi", None])
def test_ascii_shortcut_gives_exactly_the_full_chain(lang):
    """Analyzer.words takes a bytes shortcut for ASCII text; it must equal normalize + lowercase + TOKEN_RE."""
    from bot.analysis import TOKEN_RE

    an = Analyzer(lang)
    for text in TRICKY + [t.upper() for t in TRICKY] + ["".join(chr(c) for c in range(128))]:
        words, _ = an.words(text)
        assert words == TOKEN_RE.findall(lowercase(normalize(text), lang)), text


def test_shortcut_separators_separate_words_in_the_full_chain_too():
    from bot.analysis import _SEPARATOR_RE, TOKEN_RE

    for c in _SEPARATOR_RE.pattern.strip("[]"):
        assert TOKEN_RE.findall(lowercase(normalize(f"a{c}b"))) == ["a", "b"], hex(ord(c))


def test_index_builder_add_text_equals_add_terms():
    from bot.index import IndexBuilder

    for lang in ["en", "tr", "zh", "th", "hi", None]:
        an = Analyzer(lang)
        fast, slow = IndexBuilder(), IndexBuilder()
        for text in TRICKY * 2:  # the second round hits remembered words
            fast.add_text(an, text)
            slow.add_terms(an.terms(text))
        a, b = fast.build(), slow.build()
        assert a.vocab == b.vocab
        assert (a.indptr == b.indptr).all() and (a.doc_ids == b.doc_ids).all() and (a.weights == b.weights).all()


@pytest.mark.parametrize("lang", ["en", "tr", "de", "ru", "hi", "ar", "zh", "th", None])
def test_find_gives_the_wanted_tokens_exactly_as_tokens_does(lang):
    an = Analyzer(lang)
    texts = [
        *TRICKY,
        *(t.upper() for t in TRICKY),
        "Istanbul IŞIK ışık Iğdır istanbul",
        "the cat, the cats; catalogue cat-like CAT",
        "हिन्दी भाषा में समाचार हिन्दी",
        "Москва и Минск: переговоры, Москва.",
    ]
    for text in texts:
        every = an.tokens(text)
        for wanted in [{t.term for t in every}, {t.term for t in every[::2]}, {"cat", "istanbul", "москв"}, set()]:
            assert an.find(text, wanted) == [t for t in every if t.term in wanted], (text, wanted)
            # given the text's words (as Engine.ask passes those Engine.rank folded): the same tokens
            assert an.find(text, wanted, an.words(text)) == [t for t in every if t.term in wanted], (text, wanted)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.text(alphabet=st.sampled_from([*"aAbBcs eEiI.,'_-019", *SEPARATORS, "é", "İ", "ß", "ﬁ"]), max_size=40),
        min_size=1,
        max_size=4,
    ),
    st.sampled_from(["en", "tr", "de", None]),
    st.integers(0, 3),
)
def test_find_equals_tokens_on_any_text_whatever_it_remembers(texts, lang, forms):
    """find folds ASCII-but-separators text in place and remembers the words it met by term (started again
    past FORMS words): the tokens stay those of tokens(), call after call."""
    an = Analyzer(lang)
    an.FORMS = forms
    for text in texts * 2:
        every = an.tokens(text)
        for wanted in [{t.term for t in every}, {t.term for t in every[1::2]}]:
            assert an.find(text, wanted) == [t for t in every if t.term in wanted], (text, wanted)
            assert an.find(text, wanted, an.words(text)) == [t for t in every if t.term in wanted], (text, wanted)


def test_the_shipped_word_table_is_what_unicodedata_says(monkeypatch):
    """bot/wordchars_table.py is generated by `python -m bot.wordchars`: when this fails, run that and commit it."""
    import unicodedata

    from bot import wordchars
    from bot import wordchars_table as table

    ranges = wordchars.compute_word_ranges()
    inside = {"a", "Z", "é", "\u0301", "\u093f", "\u0663", "ß", "Ω", "\U0001d400"}  # letters, marks, digits
    outside = {" ", "_", "-", ".", "\u00a0", "ก", "中", "\u30a2", "😀"}  # spaces, punctuation, no-space scripts
    assert all(any(lo <= ord(c) <= hi for lo, hi in ranges) for c in inside)
    assert not any(lo <= ord(c) <= hi for lo, hi in ranges for c in outside)
    if unicodedata.unidata_version != table.UNIDATA_VERSION:
        pytest.skip(f"the table is of Unicode {table.UNIDATA_VERSION}, not {unicodedata.unidata_version}")
    assert wordchars.word_ranges() == ranges
    assert wordchars.TABLE_PATH.read_text(encoding="utf-8") == wordchars.table_source(ranges, table.UNIDATA_VERSION)
    # another Unicode version: computed, not the table
    monkeypatch.setattr(table, "UNIDATA_VERSION", "0.0.0")
    monkeypatch.setattr(table, "TABLE", "")
    assert wordchars.word_ranges() == ranges


_SHORTCUT_PIECES = st.lists(
    st.one_of(
        st.sampled_from(["ab", "Z9", "x", " ", "_", "-", ".", "'", "\n", "\x00"]),  # ASCII words and others
        st.text(st.sampled_from(SEPARATORS), min_size=1, max_size=3),  # runs of separators
    ),
    max_size=12,
)
_NEITHER = st.sampled_from(["é", "İ", "ı", "ß", "\u0301", "中", "ก", "\ud800", "\U0001f642", "\u00e9\u2014"])


@settings(max_examples=300, deadline=None)
@example(["ab", "\u2014", "x"], None, "en")  # one separator between two words
@example(["ab", "\u2019", "Z9", "\u00ab", "x"], None, "en")  # a usual separator and another one
@example(["ab", "\u2019\u201d", "Z9", " ", "x"], ("é", 3), "de")
@given(_SHORTCUT_PIECES, st.none() | st.tuples(_NEITHER, st.integers(0, 12)), st.sampled_from(["en", "tr", "de", None]))
def test_words_shortcut_gives_what_replacing_every_separator_by_the_regular_expression_gave(pieces, other, lang):
    """Analyzer.words replaces the usual separators with str.replace and the others with _SEPARATOR_RE only when
    some remain: the same words as _SEPARATOR_RE.sub(" ", text) first, then the shortcut when the result is
    ASCII, else the full chain on the replaced text."""
    from bot.analysis import _ASCII_FOLD, _NOSPACE_RE, _SEPARATOR_RE, TOKEN_RE

    if other is not None:  # a character that is neither ASCII nor a separator somewhere
        pieces.insert(min(other[1], len(pieces)), other[0])
    text = "".join(pieces)
    an = Analyzer(lang)
    want_text = _SEPARATOR_RE.sub(" ", text) if an._ascii_shortcut else text
    if an._ascii_shortcut and want_text.isascii():
        want = want_text.encode("ascii").translate(_ASCII_FOLD).decode("ascii").split(), False
    else:
        folded = lowercase(normalize(want_text), lang)
        want = TOKEN_RE.findall(folded), _NOSPACE_RE.search(folded) is not None
    assert an.words(text) == want
