"""Articles -> passages: chat-sized pieces that never cut a sentence.

Paragraphs are the natural unit of a news article. A paragraph longer than `max_chars` is split at
sentence boundaries into pieces near `target_chars`; consecutive short ones merge while the passage
is under half the target. Each passage knows its article, its position and its span in the text.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.articles import Article
from bot.sentences import sentence_spans  # also importable from here, its old home

DEFAULT_TARGET_CHARS = 800


@dataclass(frozen=True, slots=True)
class Passage:
    article: int  # index of the article in the corpus
    index: int  # 0-based position among the article's passages
    count: int  # how many passages the article has
    start: int  # character span in Article.text
    end: int


def paragraph_spans(article: Article) -> list[tuple[int, int]]:
    spans, pos = [], 0
    for p in article.paragraphs:
        spans.append((pos, pos + len(p)))
        pos += len(p) + 2  # the "\n\n" of Article.text
    return spans


def _pieces(
    text: str, start: int, end: int, target: int, max_chars: int, lang: str | None = None
) -> list[tuple[int, int]]:
    """One paragraph -> spans: itself, or sentence groups near `target` when it is too long."""
    if end - start <= max_chars:
        return [(start, end)]
    pieces: list[tuple[int, int]] = []
    cur: tuple[int, int] | None = None
    for s, e in sentence_spans(text, start, end, lang):
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


def split_article(article: Article, article_no: int, target_chars: int = DEFAULT_TARGET_CHARS) -> list[Passage]:
    text = article.text
    max_chars = target_chars * 2
    pieces = [
        p for s, e in paragraph_spans(article) for p in _pieces(text, s, e, target_chars, max_chars, article.lang)
    ]
    merged: list[tuple[int, int]] = []
    for s, e in pieces:
        if merged and merged[-1][1] - merged[-1][0] < target_chars // 2 and e - merged[-1][0] <= max_chars:
            merged[-1] = (merged[-1][0], e)
        else:
            merged.append((s, e))
    return [Passage(article_no, i, len(merged), s, e) for i, (s, e) in enumerate(merged)]
