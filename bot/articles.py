"""Article files -> articles (metadata + paragraphs).

Formats: .txt (optional `Key: value` header, else title line / paragraphs / `Name, Outlet` byline),
.md (YAML front matter), .json (one article, a list, or SQuAD v1.1), .jsonl, .html (trafilatura).
Loading never writes to the corpus; a bad file is skipped with a warning naming it and the reason.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Article:
    id: str
    title: str
    paragraphs: list[str]
    author: str | None = None
    source: str | None = None  # the outlet
    url: str | None = None
    published: str | None = None  # ISO date (YYYY-MM-DD) when known
    lang: str | None = None  # ISO 639-1
    path: str | None = None  # the file it came from

    @property
    def text(self) -> str:
        """The article body: paragraphs joined by blank lines. Passage spans index into this."""
        return "\n\n".join(self.paragraphs)


@dataclass
class Skipped:
    path: str
    reason: str


@dataclass
class LoadResult:
    articles: list[Article] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    files: int = 0
    duplicates: int = 0
