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
from bot.columns import _int_view
from bot.grams import GramScorer, GramSketch, gram_join, gram_text
from bot.index import Index
from bot.language import detect
from bot.passages import Passage
from bot.records import date_ordinal
from bot.search_settings import DEFAULT_SCORING, SearchSettings  # noqa: F401 (their home until callers move)
from bot.sentence_table import SentenceTable
from bot.sentences import sentence_spans
from bot.spelling import Speller
from bot.window import best_sentence, best_window

log = logging.getLogger(__name__)

# The word field's best RERANK_DEPTH passages are re-ranked by their word score plus GRAM_WEIGHT times their
# character 4-gram score (each divided by its largest value among them): docs/quality.md.
RERANK_DEPTH = 10
GRAM_WEIGHT = 1.0
# ... plus ARTICLE_PRIOR times the best such score among the re-ranked passages of their own article.
ARTICLE_PRIOR = 0.2
WINDOW_FACTOR = 2  # a hit shows at most this many times the target passage size (`bot.window`)


@dataclass(frozen=True)
class Hit:
    rank: int  # 1-based
    score: float
    passage: Passage
    article: Article
    text: str  # what the user reads: the passage, or a window of whole sentences of it (`bot.window`)
    sentence: tuple[int, int]  # span of the best-matching sentence within `text`
    highlights: list[tuple[int, int]]  # spans of matched words within `text`
    start: int = 0  # span of `text` in Article.text (within the passage's span)
    end: int = 0

    @property
    def sentence_text(self) -> str:
        return self.text[self.sentence[0] : self.sentence[1]]


@dataclass(frozen=True)
class Ranking:
    """The passages that answer a question best, before they become hits."""

    terms: list[str]  # the analyzed question
    hits: list[tuple[int, float]]  # (passage id, score), best first, from the requested offset
    more: bool  # further passages match beyond these
    texts: dict[int, str] = field(default_factory=dict)  # passage texts read on the way
    # ... and their `Analyzer.words` by `analyzer` (the question's chain): `Analyzer.find` needs them again
    words: dict[int, tuple[list[str], bool]] = field(default_factory=dict)
    analyzer: Analyzer | None = None


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

    @cached_property
    def gram_scorer(self) -> GramScorer:
        """The 4-gram scorer, from the statistics saved with the index (or, for an index saved without
        them, from a sample of the passages now)."""
        if "gram_df" not in self.extras:
            sketch = GramSketch()
            n = len(self.passages)
            step = max(1, n // (2 * sketch.sample))
            for pid in range(0, n, step):
                p = self.passages[pid]
                analyzer = analyzer_for(self.articles[p.article].lang, self.settings.analysis)
                sketch.add(pid, analyzer, self.passage_text(pid))
            self.extras.update(sketch.arrays())
        return GramScorer(self.extras["gram_df"], self.extras["gram_stats"])

    @cached_property
    def speller(self) -> Speller:
        """Corrections of question terms the vocabulary lacks (`bot.spelling`)."""
        return Speller(self.index.vocab, self.index.idf)

    def rank(self, question: str, k: int = 3, offset: int = 0) -> Ranking:
        """The best `k` passages (after `offset`) sharing at least one term with the question.

        A question term the vocabulary lacks brings its nearest vocabulary term along (`bot.spelling`).
        The word field (BM25) ranks every passage; its best RERANK_DEPTH are then ordered by word score
        plus character 4-gram score (`bot.grams`), each divided by its largest value among them, plus
        ARTICLE_PRIOR times the best of those sums among the head's passages of the same article. Passages
        past the re-ranked head keep their word order (their scores divided the same way), so paging
        continues where the previous page ended.
        """
        analyzer = self.query_analyzer(question)
        terms = analyzer.terms(question)
        terms += self.speller.corrections(terms)
        ranked = self.index.top(terms, max(k + offset + 1, RERANK_DEPTH))
        texts: dict[int, str] = {}
        words: dict[int, tuple[list[str], bool]] = {}
        if ranked:
            head = ranked[:RERANK_DEPTH]
            for pid, _ in head:
                texts[pid] = self.passage_text(pid)
                words[pid] = analyzer.words(texts[pid])
            cands = [gram_join(*words[pid]) for pid, _ in head]  # folded as the question is
            grams = self.gram_scorer.scores(gram_text(analyzer, question), cands)
            word = [s for _, s in head]
            top = max(word) or 1.0
            fused = fuse(word, top, grams, self._articles_of([pid for pid, _ in head]))
            order = sorted(range(len(head)), key=lambda i: -fused[i])  # (stable: ties keep the word order)
            ranked = [(head[i][0], fused[i]) for i in order] + [(p, s / top) for p, s in ranked[RERANK_DEPTH:]]
        return Ranking(terms, ranked[offset : offset + k], len(ranked) > offset + k, texts, words, analyzer)

    def _articles_of(self, pids: list[int]) -> list[int]:
        """The article number of each passage: a column look-up on a loaded index."""
        column = self._article_column
        if column is not None:
            return [column[pid] for pid in pids]
        return [self.passages[pid].article for pid in pids]

    @cached_property
    def _article_column(self) -> memoryview | None:
        """The passages' article column as a memoryview (an item is a Python int at once), when they have one."""
        column = getattr(self.passages, "article", None)
        return None if column is None else _int_view(column)

    @cached_property
    def _sentence_table(self) -> SentenceTable | None:
        """The passages' sentence spans kept by the build (`bot.sentence_table`), if this engine has them."""
        return SentenceTable.of(self.extras, len(self.passages))

    def ask(self, question: str, k: int = 3, offset: int = 0) -> Answer:
        """The best `k` passages (after `offset`), each as the window of it a user reads."""
        ranking = self.rank(question, k, offset)
        wanted = set(ranking.terms)
        idf = {t: self.index.idf_of(t) for t in wanted}
        budget = WINDOW_FACTOR * self.settings.passage_chars
        # Stage by stage over the hits rather than hit by hit: each stage's tables (the article frames'
        # dictionary, the words `find` knows, the sentence rules) stay in the CPU's caches across the hits.
        passages = [self.passages[pid] for pid, _ in ranking.hits]
        articles = [self.articles[p.article] for p in passages]
        texts = [ranking.texts.get(pid) or self.passage_text(pid) for pid, _ in ranking.hits]
        chains: dict[str | None, Analyzer] = {}  # (analyzer_for hashes its settings at every call)
        for a in articles:
            if a.lang not in chains:
                chains[a.lang] = analyzer_for(a.lang, self.settings.analysis)
        kept = self._sentence_table
        if kept is None:
            all_sentences = [sentence_spans(text, lang=a.lang) for a, text in zip(articles, texts)]
        else:  # worked out at build time (a passage too long to keep them: now)
            all_sentences = [
                kept.spans(pid, text) or sentence_spans(text, lang=a.lang)
                for (pid, _), a, text in zip(ranking.hits, articles, texts)
            ]
        finders = {lang: chain.finder(wanted) for lang, chain in chains.items()}  # (the question's part once)
        found = [
            finders[a.lang](text, ranking.words.get(pid) if chains[a.lang] is ranking.analyzer else None)
            for (pid, _), a, text in zip(ranking.hits, articles, texts)
        ]
        hits = []
        new_hit = object.__new__
        for rank, (_, score), p, a, text, matched, sentences in zip(
            range(offset + 1, offset + 1 + len(passages)), ranking.hits, passages, articles, texts, found, all_sentences
        ):
            lo, hi = best_window(text, sentences, matched, idf, budget)
            sentence = best_sentence(sentences, matched, idf, lo, hi) or (lo, hi)
            spans = [(t.start - lo, t.end - lo) for t in matched if lo <= t.start < t.end <= hi]
            # (the frozen dataclass's __init__ sets each field through object.__setattr__: ~1.4 us a hit; its
            # __dict__ filled at once gives the same Hit, ~0.4 us)
            hit = new_hit(Hit)
            hit.__dict__.update(
                rank=rank,
                score=score,
                passage=p,
                article=a,
                text=text[lo:hi],
                sentence=(sentence[0] - lo, sentence[1] - lo),
                highlights=_merge_spans(spans),
                start=p.start + lo,
                end=p.start + hi,
            )
            hits.append(hit)
        return Answer(question, hits, offset, more=ranking.more, terms=ranking.terms)

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


def fuse(word: Sequence[float], top: float, grams: np.ndarray, articles: Sequence[int]) -> list[float]:
    """The re-ranked head's scores: word score / `top` plus GRAM_WEIGHT times 4-gram score / its largest, plus
    ARTICLE_PRIOR times `best_of_article` of those sums.

    Plain Python floats on ten values (numpy's per-call cost was most of it), the same operations in the same
    order as the array expression `w / top + GRAM_WEIGHT * g / g.max()` then `+ ARTICLE_PRIOR * best`: the
    same bits (a test compares them)."""
    fused = [s / top for s in word]
    gmax = float(grams.max()) if len(grams) else 0.0
    if gmax > 0:
        fused = [f + GRAM_WEIGHT * g / gmax for f, g in zip(fused, grams.tolist())]
    best = best_of_article(fused, articles)
    return [f + ARTICLE_PRIOR * b for f, b in zip(fused, best)]


def best_of_article(scores: Sequence[float], articles: Sequence[int]) -> list[float]:
    """For each candidate, the best score among the candidates of its own article (itself included).

    Added (weighted) to each candidate's score, it is an article prior: a passage of the article that holds
    the best match is likelier to answer than an equally scored one from an article that matches less (a
    question's words are often spread over its article's paragraphs, the answer in one of them).
    """
    best: dict[int, float] = {}
    for s, a in zip(scores, articles):
        if a not in best or s > best[a]:
            best[a] = s
    return [best[a] for a in articles]


def _merge_spans(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for s, e in sorted(spans):
        if out and s <= out[-1][1]:
            out[-1] = (out[-1][0], max(e, out[-1][1]))
        else:
            out.append((s, e))
    return out
