"""Sentence boundaries that know the corpus's languages, at the cost of a regular expression.

A sentence ends at . ! ? … (and the Arabic, Devanagari, Armenian, Ethiopic, Burmese, Urdu and CJK stops, and
per language more, e.g. the Greek ";") with any closing quotes or brackets, before white space (CJK stops
need none). A candidate is not a boundary when the next word starts in lower case ("“Really?” she asked",
"«Правда?» — спросила она"), nor, for a full stop, after:

- an initial or a one-letter abbreviation ("J. Doe", "А. С. Пушкин", "г."), unless the letter is a word
  that may end a sentence (Russian "я");
- a dotted abbreviation ("e.g.", "U.S.", "т.е.", "z.B.") or one in the language's list ("Dr.", "bzw.",
  "проф."), or one that needs a number and has one ("No. 5", "Dec. 20");
- in German and Turkish, an ordinal number: a month follows or a word that calls for an ordinal precedes
  ("Am 5. November", "der 2. Weltkrieg"), while "stieg auf 17. Die ..." still ends there.

"etc.", "usw.", "и т. д." end a sentence when a capital follows. The lists are in bot.abbreviations.
It runs at query time on every hit (the best sentence) and at build time on long paragraphs: one regex scan
plus a few string tests per full stop, the per-language rules compiled once and cached.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from bot.abbreviations import LANGUAGES

_STOPS = ".!?…؟।॥։።။۔"
_CJK_STOPS = "。！？"  # end a sentence without a space after them
_CLOSE = "\"'”’»)\\]」』"
# What may stand between a stop and the first letter of the next sentence: space, opening quotes, dashes.
# (Not brackets: "... cycle. [citation needed]" and "... end. (See below.)" start anew.)
_OPENERS = frozenset(" \t\n\r\u00a0\"'“‘„«‹—–-¿¡")
# The word before a full stop: letters, digits and inner dots/hyphens ("e.g", "т.е", "р-н", "5").
_WORD = re.compile(r"(?:\w[\w-]*\.)*\w[\w-]*$")
# A unit's abbreviation right after a number or a slash ends a sentence like any word: "30 °C.", "об/мин."
_UNIT_BEFORE = frozenset("/°")


@dataclass(frozen=True)
class _Rules:
    candidates: re.Pattern[str]
    plain: frozenset[str]
    numeric: frozenset[str]
    enders: re.Pattern[str] | None
    ender_words: frozenset[str]  # the last word of each ender: the regex runs only after one of them
    words1: frozenset[str]
    ordinal: bool
    ordinal_after: frozenset[str]
    months: frozenset[str]
    suffixes: tuple[str, ...]
    listed: frozenset[str]  # plain | numeric | ender_words: a word before a full stop that needs the full rules


@cache
def _rules(lang: str | None) -> _Rules:
    code = (lang or "en").lower().replace("_", "-").split("-")[0]
    data = LANGUAGES.get(code) or LANGUAGES["en"]
    # One plain character class first: the regex engine then skips ahead to the next stop quickly (an
    # alternation of two classes made the scan three times slower, and so does "[...]+": written "[...][...]*"
    # the scan takes half the time). Latin-style stops need white space after them: sentence_spans drops the
    # candidates without it. The group is the white space after the stop and its closing marks.
    stops = re.escape(_STOPS + _CJK_STOPS + data.get("terminators", ""))
    candidates = re.compile(rf"[{stops}][{stops}]*[{re.escape(_CLOSE)}]*(\s*)")
    enders = data.get("enders", "")
    ender_words = frozenset(m.group().lower() for alt in enders.split("|") if (m := re.search(r"\w+$", alt)))
    plain = frozenset(data.get("plain", "").split())
    numeric = frozenset(data.get("numeric", "").split())
    return _Rules(
        candidates=candidates,
        plain=plain,
        numeric=numeric,
        enders=re.compile(rf"(?:^|[^\w.])(?:{enders})$", re.IGNORECASE) if enders else None,
        ender_words=ender_words,
        words1=frozenset(data.get("words1", "").split()),
        ordinal=bool(data.get("ordinal")),
        ordinal_after=frozenset(data.get("ordinal_after", "").split()),
        months=frozenset(data.get("months", "").split()),
        suffixes=tuple(data.get("suffixes", "").split()),
        listed=plain | numeric | ender_words,
    )


def sentence_spans(text: str, start: int = 0, end: int | None = None, lang: str | None = None) -> list[tuple[int, int]]:
    """Spans of the sentences of text[start:end] (white space between sentences excluded), using the
    abbreviation and number rules of `lang` (an ISO 639-1 code; None or unknown: English)."""
    return _spans(text, start, len(text) if end is None else end, _rules(lang))


def _spans(text: str, start: int, end: int, rules: _Rules, quick: bool = True) -> list[tuple[int, int]]:
    """sentence_spans. `quick`: a full stop after a plain word (most of them) is judged here, without
    `_ends_sentence` (the same verdict: tests/test_sentences_quick.py compares the two)."""
    spans: list[tuple[int, int]] = []
    s = start
    brackets = "(" in text  # (no "(" at all: no full stop is inside brackets; checked once, not per stop)
    quick = quick and not brackets
    listed, suffixes = rules.listed, rules.suffixes
    for m in rules.candidates.finditer(text, start, end):
        cut = m.end()
        if cut >= end:
            break
        close = m.start(1)  # after the stop and its closing quotes and brackets
        if close == cut and not any(c in _CJK_STOPS for c in m.group()):
            continue  # "3.5", "e.g", "example.com": a stop inside a word
        nxt = text[cut]
        if nxt in _OPENERS:
            nxt = _next_letter(text, cut, end)
        if nxt.islower():
            continue  # "approx. three", "“Really?” she asked": lower case does not start a sentence
        stop = m.start()
        if text[stop] == "." and text[stop + 1 : stop + 2] != ".":
            if quick:
                # _ends_sentence's verdict on a word of letters that no list holds: a sentence ends, unless
                # the word has an abbreviated ending ("Goethestr."). (Its word: after the window's last space.)
                lo = stop - 24 if stop - 24 > s else s
                word = text[text.rfind(" ", lo, stop) + 1 or lo : stop]
                if word.isalpha() and len(word) > 1 and (low := word.lower()) not in listed:
                    if suffixes and len(low) > 4 and low.endswith(suffixes):
                        continue
                    spans.append((s, close))
                    s = cut
                    continue
            if not _ends_sentence(text, s, stop, close, end, nxt, rules, brackets):
                continue
        spans.append((s, close))
        s = cut
    if s < end:
        stripped_end = len(text[:end].rstrip())
        if stripped_end > s:
            spans.append((s, stripped_end))
    return spans


def _next_letter(text: str, pos: int, end: int) -> str:
    """The first character after the openers (quotes, dashes, brackets, spaces) that follow `pos`."""
    for i in range(pos, min(end, pos + 8)):
        if text[i] not in _OPENERS:
            return text[i]
    return ""


def _ends_sentence(
    text: str, s: int, dot: int, close: int, end: int, nxt: str, rules: _Rules, brackets: bool = True
) -> bool:
    """Whether the full stop at `dot` (one dot, not an ellipsis; its closing marks end at `close`) ends the
    sentence that began at `s`. Nothing before `s` or from `end` on is looked at. `brackets`: False when
    the text holds no "(" at all."""
    lo = max(s, dot - 80)
    if brackets and text.count("(", lo, close) > text.count(")", lo, close):
        return False  # inside brackets: "(5. Rang in Polen)", but "(... Saturn IB.) The"
    window = text[max(s, dot - 24) : dot]
    m = _WORD.search(window, window.rfind(" ") + 1)  # (the word starts after the last space: same match)
    if m is None:
        return True  # after a bracket, a quote, a symbol
    word = m.group().lower()
    last = word[word.rfind(".") + 1 :]
    if last in rules.ender_words and rules.enders is not None and rules.enders.search(window):
        return nxt.isupper() or not nxt.isalnum()  # "etc. The", "и т. д. Потом"
    if word.isdigit():  # "auf 17." ends a sentence, "am 17. Mai" does not
        return not (
            rules.ordinal
            and len(word) <= 3
            and _is_ordinal(window[: m.start()], text[dot + 1 : min(end, dot + 16)], rules)
        )
    if m.start() > 0 and window[m.start() - 1] in _UNIT_BEFORE:
        return True  # a unit: "30 °C.", "1500 об/мин."
    if len(word) == 1:
        return word in rules.words1  # "J. Doe", "г. Минск"; but "Это был я."
    if word.replace(".", "").replace(",", "").isdigit():
        return True  # a number with separators: "bei 2.000."
    if "." in word or word in rules.plain:
        return False  # "e.g.", "U.S.", "т.е.", "Dr."
    if word in rules.numeric:
        return not nxt.isdigit()  # "No. 5" but "I said no. Then"
    return not (rules.suffixes and len(word) > 4 and word.endswith(rules.suffixes))  # "Goethestr. 5"


def _is_ordinal(before: str, after: str, rules: _Rules) -> bool:
    """German/Turkish "5.": an ordinal when a month follows or a word calling for one precedes."""
    following = after.split(maxsplit=1)
    if following and following[0].strip(".,;:").lower() in rules.months:
        return True
    preceding = before.split()
    return bool(preceding) and preceding[-1].lower() in rules.ordinal_after
