"""Word segmentation for scripts written without spaces between words: Thai, Lao, Khmer, Myanmar.

ICU's word BreakIterator (dictionary-based; PyICU from the `pyicu-wheels` wheel, which bundles ICU and
its dictionaries) finds the words of a run such as "ภาษาไทยไม่มีช่องว่าง". Dictionary words beat character
bigrams for these scripts: a Thai syllable is several characters, so bigrams are fragments that match
across unrelated words (Thai answer hit@1 on the dev set: +4.6, see docs/quality.md).

BreakIterator objects are not thread-safe: each thread gets its own.
"""

from __future__ import annotations

import threading

import icu

# Scripts ICU segments with a dictionary (the rest of the no-space scripts, Han and kana, get bigrams).
SEGMENTED_RANGES = [
    (0x0E00, 0x0E7F),  # Thai
    (0x0E80, 0x0EFF),  # Lao
    (0x1000, 0x109F),  # Myanmar
    (0x1780, 0x17FF),  # Khmer
]

_local = threading.local()


def is_segmented(ch: str) -> bool:
    """Whether a character belongs to a script this module segments."""
    cp = ord(ch)
    return any(lo <= cp <= hi for lo, hi in SEGMENTED_RANGES)


def _iterator():
    it = getattr(_local, "it", None)
    if it is None:
        it = _local.it = icu.BreakIterator.createWordInstance(icu.Locale.getRoot())
    return it


def word_spans(run: str) -> list[tuple[int, int]]:
    """Spans of the words of `run` (pieces without a letter or digit, such as lone marks, left out)."""
    it = _iterator()
    it.setText(run)
    out: list[tuple[int, int]] = []
    start = it.first()
    for end in it:
        if any(c.isalnum() for c in run[start:end]):
            out.append((start, end))
        start = end
    return out


def words(run: str) -> list[str]:
    return [run[s:e] for s, e in word_spans(run)]
