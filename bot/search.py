"""The search core: a corpus of articles -> passages -> BM25 index -> ranked hits with attribution.

`Engine` is immutable once built; reloading builds a new one and swaps it in (see `bot.service`).
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Callable, Iterable, Sequence

import numpy as np

from bot.analysis import AnalysisSettings, Analyzer, analyzer_for
from bot.articles import Article, LoadResult, Skipped
from bot.index import Index, ScoringSettings
from bot.language import detect
from bot.passages import DEFAULT_TARGET_CHARS, Passage, sentence_spans, split_article

log = logging.getLogger(__name__)

# The default BM25 variant and parameters: BM25+ as its paper defines it scored best on the
# XQuAD dev set (docs/quality.md), ahead of rank-bm25's BM25Okapi defaults.
DEFAULT_SCORING = ScoringSettings(variant="plus", k1=1.5, b=0.75, delta=1.0)


@dataclass(frozen=True)
class SearchSettings:
    passage_chars: int = DEFAULT_TARGET_CHARS
    analysis: AnalysisSettings = AnalysisSettings()
    scoring: ScoringSettings = DEFAULT_SCORING

    def fingerprint(self) -> str:
        return f"passages={self.passage_chars} {self.analysis.fingerprint()} {self.scoring.fingerprint()}"


@dataclass(frozen=True)
class Hit:
    rank: int  # 1-based
    score: float
    passage: Passage
    article: Article
    text: str  # the passage text
    sentence: tuple[int, int]  # span of the best-matching sentence within `text`
    highlights: list[tuple[int, int]]  # spans of matched words within `text`

    @property
    def sentence_text(self) -> str:
        return self.text[self.sentence[0] : self.sentence[1]]


@dataclass(frozen=True)
class Answer:
    query: str
    hits: list[Hit]
    offset: int = 0
    more: bool = False  # further hits exist beyond these
    terms: list[str] = field(default_factory=list)  # the analyzed query


class Engine:
    """Articles, their passages and the index over them; answers questions."""

    def __init__(
        self,
        articles: Sequence[Article],
        passages: Sequence[Passage],
        index: Index,
        settings: SearchSettings,
        skipped: list[Skipped] | None = None,
        build_seconds: float = 0.0,
        *,
        built_at: float | None = None,
        languages: Iterable[str] | None = None,
        main_language: str | None = None,
    ):
        """`languages` and `main_language` are derived from the articles unless given (a persisted
        index gives them, so opening it needs no pass over the articles)."""
        self.articles = articles
        self.passages = passages
        self.index = index
        self.settings = settings
        self.skipped = skipped or []
        self.build_seconds = build_seconds
        self.built_at = built_at or time.time()
        if languages is None:
            counts = Counter(a.lang for a in articles if a.lang)
            languages = counts
            main_language = counts.most_common(1)[0][0] if counts else None
        self.languages = frozenset(languages)
        self.main_language = main_language
        self.manifest: dict | None = None  # set when loaded from a persisted index (bot.store)
        self.store_path: Path | None = None

    # -- building ---------------------------------------------------------------------------------

    @classmethod
    def build(
        cls,
        loaded: LoadResult | list[Article],
        settings: SearchSettings = SearchSettings(),
        progress: Callable[[int, int], None] | None = None,
    ) -> "Engine":
        """Split the articles into passages, analyze them and index them.

        Passages are kept as int32 columns (`bot.store.PassageTable`, a Sequence of Passage).
        """
        from bot.index import IndexBuilder
        from bot.store import PassageTableBuilder

        t0 = time.perf_counter()
        if isinstance(loaded, LoadResult):
            articles, skipped = loaded.articles, loaded.skipped
        else:
            articles, skipped = list(loaded), []
        for a in articles:
            if not a.lang:
                a.lang = detect(a.text)
        table = PassageTableBuilder()
        for no, a in enumerate(articles):
            table.extend(split_article(a, no, settings.passage_chars))
        passages = table.table()
        total = len(passages)
        starts, ends = passages.start, passages.end
        first = np.searchsorted(passages.article, np.arange(len(articles) + 1))  # each article's passages

        builder = IndexBuilder(settings.scoring)
        done = 0
        for no, a in enumerate(articles):
            lo, hi = int(first[no]), int(first[no + 1])
            if lo == hi:
                continue
            analyzer = analyzer_for(a.lang, settings.analysis)
            text = a.text
            for s, e in zip(starts[lo:hi].tolist(), ends[lo:hi].tolist()):
                if progress and done % 1000 == 0:
                    progress(done, total)
                builder.add_text(analyzer, text[s:e])
                done += 1
        if progress:
            progress(total, total)
        idx = builder.build()
        return cls(articles, passages, idx, settings, skipped, time.perf_counter() - t0)

    def save(self, index_dir: Path, corpus_fingerprint: dict | None = None) -> Path:
        """Persist this engine in `index_dir` (atomically; see `bot.store`)."""
        from bot import store

        return store.save(self, Path(index_dir), corpus_fingerprint)

    @classmethod
    def load(cls, index_dir: Path, verify: bool = False) -> "Engine":
        """The engine persisted in `index_dir`, memory-mapped; `bot.store.StoreError` if unusable."""
        from bot import store

        return store.load(Path(index_dir), verify=verify)

    # -- answering ----------------------------------------------------------------------------------

    def query_analyzer(self, question: str) -> Analyzer:
        """The chain for a question: the corpus language, or the likeliest of its languages."""
        lang = self.main_language
        if len(self.languages) > 1:
            lang = detect(question, among=self.languages) or lang
        return analyzer_for(lang, self.settings.analysis)

    def ask(self, question: str, k: int = 3, offset: int = 0) -> Answer:
        """The best `k` passages (after `offset`) sharing at least one term with the question."""
        analyzer = self.query_analyzer(question)
        terms = analyzer.terms(question)
        ranked = self.index.top(terms, k + 1, offset)
        hits = []
        wanted = set(terms)
        for rank, (pid, score) in enumerate(ranked[:k], start=offset + 1):
            p = self.passages[pid]
            a = self.articles[p.article]
            text = a.text[p.start : p.end]
            p_analyzer = analyzer_for(a.lang, self.settings.analysis)
            matched = [t for t in p_analyzer.tokens(text) if t.term in wanted]
            hits.append(
                Hit(
                    rank=rank,
                    score=score,
                    passage=p,
                    article=a,
                    text=text,
                    sentence=self._best_sentence(text, matched),
                    highlights=_merge_spans([(t.start, t.end) for t in matched]),
                )
            )
        return Answer(question, hits, offset, more=len(ranked) > k, terms=terms)

    def _best_sentence(self, text: str, matched) -> tuple[int, int]:
        """The sentence holding the rarest query terms (sum of idf of distinct matched terms)."""
        spans = sentence_spans(text)
        if not spans:
            return (0, len(text))
        best, best_score = spans[0], -1.0
        for s, e in spans:
            found = {t.term for t in matched if s <= t.start < e}
            score = sum(self.index.idf_of(t) for t in found)
            if score > best_score:
                best, best_score = (s, e), score
        return best

    # -- facts ----------------------------------------------------------------------------------------

    def recent(self, n: int) -> list[tuple[int, Article]]:
        """The `n` newest articles with their numbers (undated ones last, in corpus order)."""
        return [(i, self.articles[i]) for i in self._newest_first[:n]]

    @cached_property
    def _newest_first(self) -> list[int]:
        # once per engine: an engine never changes, and sorting 100k articles per /start would show
        dated = sorted(
            ((a.published, i) for i, a in enumerate(self.articles) if a.published), key=lambda x: (x[0], -x[1]), reverse=True
        )
        undated = [i for i, a in enumerate(self.articles) if not a.published]
        return [i for _, i in dated] + undated

    def stats(self) -> dict:
        return {
            "articles": len(self.articles),
            "passages": len(self.passages),
            "vocabulary": self.index.vocabulary_size,
            "languages": sorted(self.languages),
            "skipped": len(self.skipped),
            "build_seconds": round(self.build_seconds, 3),
            "built_at": self.built_at,
        }


def _merge_spans(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for s, e in sorted(spans):
        if out and s <= out[-1][1]:
            out[-1] = (out[-1][0], max(e, out[-1][1]))
        else:
            out.append((s, e))
    return out
