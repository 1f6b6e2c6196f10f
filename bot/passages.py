"""Articles -> passages: the units the index scores, each a paragraph (or a few short ones).

Paragraphs are the natural unit of a news article, and splitting one separates a question's words from
the answer (docs/quality.md): a paragraph is scored whole, and what a user reads is a window of it around
the best sentences (`bot.window`). Only a paragraph over `SPLIT_FACTOR` times the target (a text file
without blank lines, say) is split at sentence boundaries, into pieces near twice the target.
Consecutive short paragraphs merge while the passage is under half the target. Each passage knows its
article, its position and its span in the text.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.articles import Article
from bot.sentences import sentence_spans  # also importable from here, its old home

DEFAULT_TARGET_CHARS = 800
SPLIT_FACTOR = 6  # paragraphs longer than this many targets are split


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
    spans = passage_spans(article.text, [len(p) for p in article.paragraphs], target_chars, article.lang)
    return [Passage(article_no, i, len(spans), s, e) for i, (s, e) in enumerate(spans)]


def passage_spans(
    text: str, paragraph_lengths: list[int], target_chars: int = DEFAULT_TARGET_CHARS, lang: str | None = None
) -> list[tuple[int, int]]:
    """The passages of an article's text (its paragraphs joined by blank lines) as spans; the sentence rules
    of long paragraphs are those of `lang`, so its language is known first."""
    max_chars = target_chars * 2
    split_above = target_chars * SPLIT_FACTOR
    if len(paragraph_lengths) == 1 and paragraph_lengths[0] <= split_above:
        return [(0, paragraph_lengths[0])]  # one paragraph that stays whole (most short articles)
    pieces = []
    pos = 0
    for n in paragraph_lengths:
        pieces += _pieces(text, pos, pos + n, max_chars, split_above, lang)
        pos += n + 2  # the "\n\n" of Article.text
    merged: list[tuple[int, int]] = []
    for s, e in pieces:
        if merged and merged[-1][1] - merged[-1][0] < target_chars // 2 and e - merged[-1][0] <= max_chars:
            merged[-1] = (merged[-1][0], e)
        else:
            merged.append((s, e))
    return merged
