"""What loading produces: articles, the parts left out (and why), and the one error type loaders raise."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple


@dataclass
class Article:
    id: str
    title: str
    paragraphs: list[str]
    author: str | None = None
    source: str | None = None  # the outlet
    url: str | None = None
    published: str | None = None  # ISO 8601 date (YYYY-MM-DD, or YYYY-MM / YYYY when that is all it says)
    lang: str | None = None  # ISO 639-1
    path: str | None = None  # the file it came from

    @property
    def text(self) -> str:
        """The article body: paragraphs joined by blank lines. Passage spans index into this."""
        return "\n\n".join(self.paragraphs)


@dataclass
class Skipped:
    """A file, or a part of one (`path:LINE` in JSONL, `path#N` in a JSON list), left out of the corpus."""

    path: str
    reason: str


@dataclass
class LoadResult:
    articles: list[Article] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    files: int = 0
    duplicates: int = 0


class ArticleError(Exception):
    """A file (or uploaded document) that cannot be turned into articles; `reason` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Problem(NamedTuple):
    """A part of a document a reader had to leave out: `where` is ":LINE" or "#INDEX", `reason` why."""

    where: str
    reason: str
