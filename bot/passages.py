"""Articles -> passages: chat-sized pieces that never cut a sentence.

Paragraphs are the natural unit of a news article. A paragraph longer than `max_chars` is split at
sentence boundaries into pieces near `target_chars`; consecutive short ones merge while the passage
is under half the target. Each passage knows its article, its position and its span in the text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.articles import Article

DEFAULT_TARGET_CHARS = 800


@dataclass(frozen=True, slots=True)
class Passage:
    article: int  # index of the article in the corpus
    index: int  # 0-based position among the article's passages
    count: int  # how many passages the article has
    start: int  # character span in Article.text
    end: int


# A sentence ends at . ! ? … (and their CJK/Arabic/Devanagari forms) plus closing quotes/brackets,
# before white space; CJK full stops need no space after them.
_SENTENCE_END = re.compile(
    r"""(?:[.!?…؟।॥]+["'”’»)\]]*(?=\s+)|[。！？]+["'”’」』)]*)\s*"""
)
# Words after which a full stop rarely ends a sentence.
_ABBREVIATIONS = frozenset(
    "mr mrs ms dr prof st jr sr vs etc e.g i.e inc ltd co no fig al gen col lt sgt rev mt jan feb mar"
    " apr jun jul aug sep sept oct nov dec u.s u.k".split()
)


def sentence_spans(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """Spans of the sentences of text[start:end] (whitespace between sentences excluded)."""
    end = len(text) if end is None else end
    spans: list[tuple[int, int]] = []
    s = start
    for m in _SENTENCE_END.finditer(text, start, end):
        cut = m.end()
        if text[m.start()] == ".":
            word = re.search(r"([\w.]+)\.$", text[max(s, m.start() - 12) : m.start() + 1])
            w = word.group(1).lower() if word else ""
            if w in _ABBREVIATIONS or (len(w) == 1 and w.isalpha()):
                continue  # "Mr. Smith", "J. Doe"
            nxt = text[cut : cut + 1]
            if nxt.islower():
                continue  # "approx. three" - lower case does not start a sentence
        if cut >= end:
            break
        spans.append((s, m.end() - len(m.group()) + len(m.group().rstrip())))
        s = cut
    if s < end:
        stripped_end = len(text[:end].rstrip())
        if stripped_end > s:
            spans.append((s, stripped_end))
    return spans


def paragraph_spans(article: Article) -> list[tuple[int, int]]:
    spans, pos = [], 0
    for p in article.paragraphs:
        spans.append((pos, pos + len(p)))
        pos += len(p) + 2  # the "\n\n" of Article.text
    return spans


def _pieces(text: str, start: int, end: int, target: int, max_chars: int) -> list[tuple[int, int]]:
    """One paragraph -> spans: itself, or sentence groups near `target` when it is too long."""
    if end - start <= max_chars:
        return [(start, end)]
    pieces: list[tuple[int, int]] = []
    cur: tuple[int, int] | None = None
    for s, e in sentence_spans(text, start, end):
        if cur is None:
            cur = (s, e)
        elif e - cur[0] <= target or (cur[1] - cur[0]) < target // 3:
            cur = (cur[0], e)
        else:
            pieces.append(cur)
            cur = (s, e)
    if cur is not None:
        pieces.append(cur)
    return pieces


def split_article(
    article: Article, article_no: int, target_chars: int = DEFAULT_TARGET_CHARS
) -> list[Passage]:
    text = article.text
    max_chars = target_chars * 2
    pieces = [p for s, e in paragraph_spans(article) for p in _pieces(text, s, e, target_chars, max_chars)]
    merged: list[tuple[int, int]] = []
    for s, e in pieces:
        if merged and merged[-1][1] - merged[-1][0] < target_chars // 2 and e - merged[-1][0] <= max_chars:
            merged[-1] = (merged[-1][0], e)
        else:
            merged.append((s, e))
    return [Passage(article_no, i, len(merged), s, e) for i, (s, e) in enumerate(merged)]
