"""The search core: a corpus of articles -> passages -> BM25 index -> ranked hits with attribution.

`Engine` is immutable once built; reloading builds a new one and swaps it in (see `bot.service`).
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np

from bot import store
from bot.analysis import Analyzer, analyzer_for
from bot.articles import Article, LoadResult, Skipped
from bot.index import Index
from bot.language import detect
from bot.passages import Passage
from bot.records import date_ordinal
from bot.search_settings import DEFAULT_SCORING, SearchSettings  # noqa: F401 (their home until callers move)
from bot.sentences import sentence_spans

log = logging.getLogger(__name__)


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
        extras: dict[str, np.ndarray] | None = None,
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
        self.extras = extras if extras is not None else {}  # per-passage arrays persisted with the index
        self.manifest: dict | None = None  # set when loaded from a persisted index (bot.store)
        self.store_path: Path | None = None

    # -- building and persisting -------------------------------------------------------------------

    @classmethod
    def build(
        cls,
        loaded: LoadResult | Iterable[Article | Skipped],
        settings: SearchSettings | None = None,
        progress: Callable[[int, int | None], None] | None = None,
        *,
        workers: int | None = None,
    ) -> Engine:
        """An engine built in memory from articles (see `bot.build`, which does the work)."""
        from bot.build import build_parts

        return cls.from_built(build_parts(loaded, settings, progress, workers=workers))

    @classmethod
    def from_built(cls, b) -> Engine:
        """The engine of a finished build (`bot.build.Built`)."""
        return cls(
            b.articles, b.passages, b.index, b.settings, b.skipped, b.build_seconds,
            built_at=b.built_at, languages=b.languages, main_language=b.main_language, extras=b.extras,
        )  # fmt: skip

    @classmethod
    def from_stored(cls, s: store.Stored) -> Engine:
        """The engine of a persisted index's parts (`bot.store.open_index`)."""
        m = s.manifest
        try:
            settings = SearchSettings.from_dict(s.settings)
        except (KeyError, TypeError, ValueError) as e:
            raise store.StoreError(f"{store.MANIFEST} in {s.generation} has unusable settings: {e}") from None
        engine = cls(
            s.articles, s.passages, s.index, settings,
            skipped=s.skipped,
            build_seconds=float(m.get("build_seconds", 0.0)),
            built_at=float(m.get("built_at", m.get("created", 0.0))),
            languages=m.get("languages", []),
            main_language=m.get("main_language"),
            extras=s.extras,
        )  # fmt: skip
        engine.store_path = s.generation
        engine.manifest = m
        return engine

    def save(self, index_dir: Path, corpus_fingerprint: dict | None = None) -> Path:
        """Persist this engine in `index_dir` (atomically; see `bot.store`); the new generation's folder."""
        return store.save(self, Path(index_dir), corpus_fingerprint)

    @classmethod
    def load(cls, index_dir: Path, verify: bool = False) -> Engine:
        """The engine persisted in `index_dir`, memory-mapped; `bot.store.StoreError` if unusable."""
        return cls.from_stored(store.open_index(Path(index_dir), verify=verify))

    # -- answering ----------------------------------------------------------------------------------

    def passage_text(self, pid: int) -> str:
        """The text of passage `pid`: its own record when the store keeps one (decoding nothing else), else
        sliced from its article."""
        get = getattr(self.articles, "passage_text", None)
        if get is not None:
            return get(pid)
        p = self.passages[pid]
        return self.articles[p.article].text[p.start : p.end]

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
            text = self.passage_text(pid)
            p_analyzer = analyzer_for(a.lang, self.settings.analysis)
            matched = [t for t in p_analyzer.tokens(text) if t.term in wanted]
            hits.append(
                Hit(
                    rank=rank,
                    score=score,
                    passage=p,
                    article=a,
                    text=text,
                    sentence=self._best_sentence(text, matched, a.lang),
                    highlights=_merge_spans([(t.start, t.end) for t in matched]),
                )
            )
        return Answer(question, hits, offset, more=len(ranked) > k, terms=terms)

    def _best_sentence(self, text: str, matched, lang: str | None = None) -> tuple[int, int]:
        """The sentence holding the rarest query terms (sum of idf of distinct matched terms)."""
        spans = sentence_spans(text, lang=lang)
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
        dates = getattr(self.articles, "dates", None)
        if dates is None:
            dates = np.array([date_ordinal(a.published) for a in self.articles], dtype=np.int32)
        dates = np.asarray(dates)
        dated = np.flatnonzero(dates > 0)
        dated = dated[np.lexsort((dated, -dates[dated]))]  # newest first, then corpus order
        return dated.tolist() + np.flatnonzero(dates <= 0).tolist()

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
