"""The analysis chain: text -> index terms, the same for passages and for questions.

Lucene-style: a tokenizer followed by small filters, each one a plain function:

    normalize (NFKC, BOM/zero-width removal) -> lowercase (language-aware: Turkish dotted I)
    -> tokenize (letters, digits and combining marks stay inside a word)
    -> split runs of scripts written without spaces into words: Thai, Lao, Khmer and Myanmar by ICU's
       dictionary (`bot.segment`), Han and kana into character bigrams (as Lucene's CJKBigramFilter)
    -> drop stop words (function words, `bot.stopwords`) -> Snowball stem (PyStemmer)

Every token carries its character span in the *original* text, so hits can highlight the words
that matched. `Analyzer.terms()` is the fast path used for indexing; `Analyzer.tokens()` keeps spans.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache, lru_cache
from operator import attrgetter

import Stemmer

from bot.segment import SEGMENTED_RANGES, is_segmented, word_spans
from bot.stopwords import stop_words_for
from bot.wordchars import NOSPACE_RANGES, word_ranges

# --- the tokenizer's character classes -------------------------------------------------------


def _class(ranges: list[tuple[int, int]]) -> str:
    return "".join(re.escape(chr(a)) if a == b else f"{re.escape(chr(a))}-{re.escape(chr(b))}" for a, b in ranges)


def _token_re() -> re.Pattern:
    """A token: a run of no-space-script characters (marks included), or a run of other word chars.

    The word class is split at the end of the BMP: `re` compiles the BMP part to a bitmap, while a
    class that also holds astral ranges is a linear list of ~750 ranges, several times slower. The
    astral part is tried only for astral characters.
    """
    words = word_ranges()
    bmp = [(lo, min(hi, 0xFFFF)) for lo, hi in words if lo <= 0xFFFF]
    astral = [(max(lo, 0x10000), hi) for lo, hi in words if hi > 0xFFFF]
    return re.compile(rf"[{_NOSPACE}]+|(?:[{_class(bmp)}]|(?=[^\x00-\uffff])[{_class(astral)}])+")


_NOSPACE = _class(NOSPACE_RANGES)
TOKEN_RE = _token_re()
_NOSPACE_RE = re.compile(rf"[{_NOSPACE}]")
_WORD_CHAR_RE = re.compile(TOKEN_RE.pattern.split("|", 1)[1][3:-2])  # one character of a (spaced) word
_SEGMENTED = _class(SEGMENTED_RANGES)
_SEGMENTED_RE = re.compile(rf"[{_SEGMENTED}]+|[^{_SEGMENTED}]+")  # a run cut where segmented scripts start/end
_START = attrgetter("start")  # a Token's start


def _is_word_char(c: str) -> bool:
    return _WORD_CHAR_RE.match(c) is not None


_INVISIBLE = dict.fromkeys(map(ord, "\ufeff\u200b\u200c\u200d\u2060\u00ad"), None)

# ASCII bytes: letters and digits kept (upper case folded), everything else a separator.
_ASCII_FOLD = bytes(
    (c + 32 if 65 <= c <= 90 else c) if (48 <= c <= 57 or 65 <= c <= 90 or 97 <= c <= 122) else 32 for c in range(256)
)
# Punctuation and spaces of news copy that separate words before and after normalization alike.
SEPARATORS = "‘’‚‛“”„–—―…«»•·\u00a0\u2009\u202f′″"
_SEPARATOR_RE = re.compile(f"[{SEPARATORS}]")  # (re.sub is ~10x str.translate)
_MISSING = "\x00"  # a cache sentinel no word can be (typed as a str so look-ups stay `str | None`)


def _space_usual_separators(text: str) -> str:
    """`text` with the separators news copy uses most (’ — “ ” –) turned into spaces by str.replace: a fast
    scan each, nothing copied when one is absent (`_SEPARATOR_RE.sub` is slower for text that has few)."""
    return text.replace("’", " ").replace("—", " ").replace("“", " ").replace("”", " ").replace("–", " ")


MAX_TERM_CHARS = 64  # longer "words" are junk (base64, URLs); Lucene caps at 255


# --- the filters -------------------------------------------------------------------------------


def normalize(text: str) -> str:
    """NFKC (full-width forms, ligatures, composed accents) without invisible characters.

    NFKC splits Thai and Lao SARA AM (ำ, ຳ) into NIKHAHIT + SARA AA; they are put back together, as
    dictionaries and users write them (otherwise every word with it, such as น้ำ "water", breaks apart).
    """
    text = unicodedata.normalize("NFKC", text.translate(_INVISIBLE))
    if "\u0e4d\u0e32" in text or "\u0ecd\u0eb2" in text:
        text = text.replace("\u0e4d\u0e32", "\u0e33").replace("\u0ecd\u0eb2", "\u0eb3")
    return text


def lowercase(text: str, lang: str | None = None) -> str:
    """Case folding that keeps one character per character where it can.

    Turkish and Azeri fold I to dotless ı and İ to i (Lucene's TurkishLowerCaseFilter); elsewhere
    İ folds to i rather than to i + combining dot, which would split or distort the word.
    """
    if lang in ("tr", "az"):
        text = text.replace("I", "ı").replace("İ", "i")
    else:
        text = text.replace("İ", "i")
    return text.lower()


def bigrams(run: str) -> list[str]:
    """Overlapping character bigrams (CJKBigramFilter); a one-character run stays a unigram."""
    if len(run) < 2:
        return [run]
    return [run[i : i + 2] for i in range(len(run) - 1)]


# Languages with a Snowball stemmer in PyStemmer, by ISO 639-1 code.
# fmt: off
SNOWBALL = {
    "ar": "arabic", "hy": "armenian", "eu": "basque", "ca": "catalan", "cs": "czech", "da": "danish",
    "nl": "dutch", "en": "english", "eo": "esperanto", "et": "estonian", "fi": "finnish",
    "fr": "french", "de": "german", "el": "greek", "hi": "hindi", "hu": "hungarian",
    "id": "indonesian", "ga": "irish", "it": "italian", "lt": "lithuanian", "ne": "nepali",
    "no": "norwegian", "nb": "norwegian", "fa": "persian", "pl": "polish", "pt": "portuguese",
    "ro": "romanian", "ru": "russian", "sr": "serbian", "es": "spanish", "sv": "swedish",
    "ta": "tamil", "tr": "turkish", "yi": "yiddish",
}
# fmt: on


# Snowball stemmers whose term of a word begins with the word's first two characters (all of the term when it is
# shorter), but for a second "y" that may become "i" (dying -> die): `Analyzer.find` then looks up only the words
# that begin as a wanted term does. Porter2 (English) changes endings: it drops a leading apostrophe (the tokenizer
# keeps none), marks y as Y and back, turns y into i only after a second letter (and in "Cying" -> "Cie"), "ies"
# into "i" only after two letters, and its other exceptions keep two letters. tests/test_find_head.py checks every
# stemmer listed on many words. Not for stemmers that strip prefixes (Arabic, Indonesian, Irish) or fold
# letters (German umlauts, accents).
HEAD_KEPT = frozenset({"english"})


@cache
def _stemmer(lang: str | None):
    name = SNOWBALL.get(lang or "")
    if not name:
        return None
    stemmer = Stemmer.Stemmer(name)
    stemmer.maxCacheSize = 0  # Analyzer caches terms itself; PyStemmer's own cache makes new words 3x slower
    return stemmer


# --- the chain -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Token:
    term: str
    start: int  # character span in the original text
    end: int


_SET_TERM, _SET_START, _SET_END = (Token.__dict__[f].__set__ for f in ("term", "start", "end"))  # (Token's slots)


def _token(term: str, start: int, end: int) -> Token:
    """Token(term, start, end) made by setting its slots (~0.3 us) instead of through the frozen dataclass's
    __init__, which sets each field through object.__setattr__ (~1.3 us): `find` makes a few a hit."""
    token = object.__new__(Token)
    _SET_TERM(token, term)
    _SET_START(token, start)
    _SET_END(token, end)
    return token


@dataclass(frozen=True)
class AnalysisSettings:
    stop_words: bool = True
    stemming: bool = True

    def fingerprint(self) -> str:
        return f"analysis-v1 stop={int(self.stop_words)} stem={int(self.stemming)}"


class Analyzer:
    """The analysis chain for one language (None: no stop words, no stemming)."""

    FORMS = 100_000  # words `find` remembers by term before it starts again (~35 MB at most)

    def __init__(self, lang: str | None, settings: AnalysisSettings = AnalysisSettings()):
        self.lang = lang
        self.stop = stop_words_for(lang) if settings.stop_words else frozenset()
        self.stemmer = _stemmer(lang) if settings.stemming else None
        # word -> term (None for a dropped word); bounded so a huge corpus cannot grow it forever
        self._cache: dict[str, str | None] = {}
        self._runs: dict[str, list[tuple[int, int, str]]] = {}  # segmented run -> its terms
        # For `find`: the words it has met, and per term those of them that give it (query time only)
        self._forms: tuple[set[str], dict[str, set[str]]] = (set(), {})
        # The ASCII shortcut folds case as str.lower does: not for Turkish and Azeri (I -> ı).
        self._ascii_shortcut = lowercase("I", lang) == "i"
        # In ASCII text `find` looks up only the words that begin as a wanted term does when every term begins as
        # its word does (no stemming, or a stemmer in HEAD_KEPT)
        self._by_head = self._ascii_shortcut and (self.stemmer is None or SNOWBALL.get(lang or "") in HEAD_KEPT)

    def term(self, word: str) -> str | None:
        """The term of one folded word outside scripts without spaces (None: a dropped word)."""
        term = self._cache.get(word, _MISSING)
        return self._term(word) if term is _MISSING else term

    def term_many(self, words: list[str]) -> list[str | None]:
        """`term` of many folded words, none of them remembered (for callers that keep their own table,
        e.g. `bot.wordtable`): one call to the stemmer for all of them."""
        stop = self.stop
        kept = [w for w in words if w not in stop and len(w) <= MAX_TERM_CHARS]
        stems = iter(self.stemmer.stemWords(kept) if self.stemmer is not None and kept else kept)
        return [None if w in stop or len(w) > MAX_TERM_CHARS else next(stems) for w in words]

    def _term(self, word: str) -> str | None:
        if word in self.stop or len(word) > MAX_TERM_CHARS:
            term = None
        elif self.stemmer is not None:
            term = self.stemmer.stemWord(word)
        else:
            term = word
        if len(self._cache) < 2_000_000:
            self._cache[word] = term
        return term

    def _nospace_terms(self, run: str) -> list[tuple[int, int, str]]:
        """(start, end, term) of a run of scripts without spaces: dictionary words less stop words for
        Thai, Lao, Khmer and Myanmar; character bigrams for Han and kana."""
        found = self._runs.get(run)
        if found is not None:
            return found
        found = []
        for m in _SEGMENTED_RE.finditer(run):
            part, at = m.group(), m.start()
            if is_segmented(part[0]):
                for a, b in word_spans(part):
                    word = part[a:b]
                    if word not in self.stop and len(word) <= MAX_TERM_CHARS:
                        found.append((at + a, at + b, word))
            else:
                found.extend((at + i, at + i + len(bg), bg) for i, bg in enumerate(bigrams(part)))
        if len(self._runs) < 200_000:
            self._runs[run] = found
        return found

    def words(self, text: str) -> tuple[list[str], bool]:
        """The folded words of a text, and whether any of them is in a script without spaces.

        ASCII text (most news copy once typographic quotes and dashes, which separate words either
        way, become spaces) takes a shortcut through bytes.translate/split that gives exactly what
        normalize + lowercase + TOKEN_RE give, several times faster.
        """
        if self._ascii_shortcut:
            if not text.isascii():
                text = _space_usual_separators(text)  # then the regular expression only if others are left
                if not text.isascii():
                    text = _SEPARATOR_RE.sub(" ", text)
            if text.isascii():
                return text.encode("ascii").translate(_ASCII_FOLD).decode("ascii").split(), False
        folded = lowercase(normalize(text), self.lang)
        return TOKEN_RE.findall(folded), _NOSPACE_RE.search(folded) is not None

    def terms(self, text: str) -> list[str]:
        """The index terms of a text, in order (duplicates kept)."""
        words, nospace = self.words(text)
        out: list[str] = []
        get, miss = self._cache.get, _MISSING
        for word in words:
            if nospace and _NOSPACE_RE.match(word):
                out.extend(t for _, _, t in self._nospace_terms(word))
                continue
            term = get(word, miss)
            if term is miss:
                term = self._term(word)
            if term is not None:
                out.append(term)
        return out

    def tokens(self, text: str) -> list[Token]:
        """Terms with their character spans in `text` itself, for highlighting matched words.

        When normalization keeps the length (almost always) spans are exact; otherwise the chain runs
        word by word over the original, and each term gets the span of the word it came from.
        """
        folded = lowercase(normalize(text), self.lang)
        if len(folded) == len(text):
            return self._tokens(folded, 0, None)
        out: list[Token] = []
        for m in _RAW_WORD_RE.finditer(text):
            out.extend(self._tokens(lowercase(normalize(m.group()), self.lang), m.start(), m.end()))
        return out

    def find(
        self, text: str, wanted: set[str] | frozenset[str], words: tuple[list[str], bool] | None = None
    ) -> list[Token]:
        """The tokens of `text` whose terms are in `wanted`, in order: `tokens()` filtered, but without
        walking every word of the text in Python. ASCII text, for a chain whose terms begin as their words
        do: `_find_by_head`. Otherwise the words met are remembered by term (a hit's words are mostly known:
        set operations), and only those that give a wanted term are looked for, with `str.find` and a check of
        the characters on either side; text in scripts without spaces, or whose folding changes its length,
        takes `tokens`. `words`: `self.words(text)`, when the caller has it.
        """
        return self._find(text, wanted, words, None)

    def finder(self, wanted: set[str] | frozenset[str]) -> Callable[[str, tuple[list[str], bool] | None], list[Token]]:
        """`find(text, wanted, words)` as a function of `text` and `words`, for the hits of one question: what
        depends on the question alone (the wanted terms' beginnings, for `_find_by_head`) is worked out once
        (~1.3 us a hit less), on the first text that needs it."""
        heads: list[set[str]] = []

        def find(text: str, words: tuple[list[str], bool] | None = None) -> list[Token]:
            return self._find(text, wanted, words, heads)

        return find

    def _find(
        self,
        text: str,
        wanted: set[str] | frozenset[str],
        words: tuple[list[str], bool] | None,
        heads: list[set[str]] | None,
    ) -> list[Token]:
        """`find`; `heads`: a list that keeps `_heads(wanted)` once worked out (None: work it out here)."""
        if self._by_head:
            flat = text
            if not flat.isascii():  # (the usual separators all fold in place)
                flat = _space_usual_separators(flat)
            if flat.isascii():
                data = flat.encode("ascii")
            elif _NOT_IN_PLACE_RE.search(flat) is None:  # ASCII but for other in-place separators: "?" for them
                data = flat.encode("ascii", "replace")
            else:
                data = None
            if data is not None:
                if heads is None:
                    return self._find_by_head(data, wanted, _heads(wanted))
                if not heads:
                    heads.append(_heads(wanted))
                return self._find_by_head(data, wanted, heads[0])
        plain = self._plain(text)
        if plain is not None:  # words() and the folding at once
            folded = plain.lower()
            if words is None:
                words = plain.encode("ascii").translate(_ASCII_FOLD).decode("ascii").split(), False
        else:
            if words is None:
                words = self.words(text)
            folded = lowercase(normalize(text), self.lang)
            if words[1] or len(folded) != len(text):
                return [t for t in self.tokens(text) if t.term in wanted]
        distinct = set(words[0])
        known, forms = self._forms
        new = distinct.difference(known)
        if new:
            if len(known) > self.FORMS:  # start again (a new pair: a concurrent call keeps using the old one)
                known, forms = self._forms = (set(), {})
                new = distinct
            for word in new:
                term = self.term(word)
                if term is not None:
                    forms.setdefault(term, set()).add(word)
            known.update(new)
        # each word's places in `folded` as a whole word: no word character on either side (in ASCII text the
        # word characters are exactly those str.isalnum accepts)
        is_word = str.isalnum if plain is not None else _is_word_char
        n = len(folded)
        out: list[Token] = []
        for term in wanted:
            ws = forms.get(term)
            if not ws:
                continue
            for word in distinct.intersection(ws):  # (one C call: safe beside other threads)
                at = folded.find(word)
                while at != -1:
                    end = at + len(word)
                    if not (at and is_word(folded[at - 1])) and not (end < n and is_word(folded[end])):
                        out.append(_token(term, at, end))
                    at = folded.find(word, end)
        out.sort(key=_START)
        return out

    def _find_by_head(self, data: bytes, wanted: set[str] | frozenset[str], heads: set[str]) -> list[Token]:
        """`find` in ASCII text (`data`: a byte a character, a non-word one for each separator) for a chain whose
        terms begin as their words do (HEAD_KEPT): only the words that begin as a wanted term does are
        looked up (a few of a hit's ~80), found with `str.find` of a space and that beginning in the text folded
        to lower-case letters, digits and spaces (the tokenizer's words, at the same places). `heads`:
        `_heads(wanted)`."""
        if not heads:
            return []
        folded = " " + data.translate(_ASCII_FOLD).decode("ascii") + " "
        get = self._cache.get
        out: list[Token] = []
        for head in heads:
            key = " " + head
            at = folded.find(key)
            while at != -1:
                end = folded.find(" ", at + 1)
                word = folded[at + 1 : end]
                term = get(word, _MISSING)
                if term is _MISSING:
                    term = self._term(word)
                if term is not None and term in wanted:
                    out.append(_token(term, at, end - 1))  # (`folded` has one character more before the text)
                at = folded.find(key, end)
        if len(out) > 1 and len(heads) > 1:
            out.sort(key=_START)
        return out

    def _plain(self, text: str) -> str | None:
        """For `find`: ASCII `text`, or ASCII but for separators that fold to one non-word character (then
        spaces in their place), when the chain folds such text as str.lower does; else None. A word is
        found at the same places in it as in the chain's folding of `text` (a non-word character either
        way beside it), and its words are `words(text)`."""
        if not self._ascii_shortcut:
            return None
        if text.isascii():
            return text
        plain = _IN_PLACE_SEPARATOR_RE.sub(" ", text)
        return plain if plain.isascii() else None

    def _tokens(self, folded: str, offset: int, word_end: int | None) -> list[Token]:
        out: list[Token] = []
        for m in TOKEN_RE.finditer(folded):
            word = m.group()
            s = offset if word_end is not None else offset + m.start()
            if _NOSPACE_RE.match(word):
                for a, b, t in self._nospace_terms(word):
                    if word_end is None:
                        out.append(Token(t, s + a, s + b))
                    else:
                        out.append(Token(t, s, word_end))
                continue
            term = self._cache[word] if word in self._cache else self._term(word)
            if term is not None:
                out.append(Token(term, s, word_end if word_end is not None else offset + m.end()))
        return out


def _heads(wanted: set[str] | frozenset[str]) -> set[str]:
    """The beginnings `Analyzer._find_by_head` looks for: each wanted term's first two letters (or its one), and
    its first letter and "y" when its second is "i" (dying -> die); none that begins another one (it would find
    the other's words again)."""
    heads = {t[:2] for t in wanted}
    if not heads:
        return heads
    heads.update([t[0] + "y" for t in wanted if t[1:2] == "i"])  # (dying -> die)
    if min(map(len, heads)) < 2:
        heads = {h for h in heads if len(h) == 1 or (len(h) == 2 and h[0] not in heads)}
    return heads


# The separators that normalization and case folding leave one non-word character long (not "…" -> "...").
IN_PLACE_SEPARATORS = "".join(
    c for c in SEPARATORS if len(f := lowercase(normalize(c))) == 1 and not _WORD_CHAR_RE.match(f)
)
_IN_PLACE_SEPARATOR_RE = re.compile(f"[{IN_PLACE_SEPARATORS}]")
_NOT_IN_PLACE_RE = re.compile(rf"[^\x00-\x7f{IN_PLACE_SEPARATORS}]")  # a character that keeps a text from `_plain`

# Words of the original text, before normalization: runs of anything but space and punctuation.
_RAW_WORD_RE = re.compile(r"[^\s!-/:-@\[-`{-~\u2000-\u206f\u3000-\u303f\uff01-\uff0f«»]+")


@lru_cache(maxsize=64)
def analyzer_for(lang: str | None, settings: AnalysisSettings = AnalysisSettings()) -> Analyzer:
    return Analyzer(lang, settings)
