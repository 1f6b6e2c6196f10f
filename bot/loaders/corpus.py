"""The corpus as a stream of articles, and the one-file entry points built on it.

Every file is read in isolation: whatever goes wrong in one (an error, a resource bound, a bug of ours)
skips that file, or that line of it, with a warning naming it and the reason; the rest loads.
"""

from __future__ import annotations

import io
import logging
import os
from collections.abc import Callable, Iterator
from typing import BinaryIO

from bot.loaders import fields, files, html, jsonfile, jsonl, limits, md, txt
from bot.loaders.decoding import readable
from bot.loaders.hashset import HashSet
from bot.loaders.model import Article, ArticleError, LoadResult, Problem, Skipped

log = logging.getLogger("bot.articles")

Reader = Callable[[str, BinaryIO], Iterator["Article | Problem"]]
READERS: dict[str, Reader] = {
    ".txt": txt.read,
    ".md": md.read,
    ".markdown": md.read,
    ".json": jsonfile.read,
    ".jsonl": jsonl.read,
    ".html": html.read,
    ".htm": html.read,
}


class CorpusStream:
    """Iterating yields the corpus's articles and what was skipped (`Skipped`), in corpus order, holding
    one article (and one single-document file) at a time. Repeated articles (same URL, or same text) are
    dropped, ids are made unique. `files`, `duplicates` and `skipped` are complete once iteration ends."""

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = os.fspath(path)
        if not os.path.exists(self.path):
            raise FileNotFoundError(f"no such file or folder: {readable(self.path)}")
        self.files = 0
        self.duplicates = 0
        self.skipped: list[Skipped] = []

    def __iter__(self) -> Iterator[Article | Skipped]:
        seen = HashSet()  # hashes of normalised texts and URLs: no text is kept
        ids = HashSet()  # hashes of the ids given out
        for entry in self._entries():
            for item in _read_entry(entry):
                if isinstance(item, Skipped):
                    self.skipped.append(item)
                    yield item
                    continue
                if _is_duplicate(item, seen):
                    log.info("dropping %s (%s): a duplicate of an earlier article", item.id, item.path)
                    self.duplicates += 1
                    continue
                item.id = _unique_id(item.id, ids)
                yield item

    def _entries(self) -> Iterator[files.Entry]:
        if os.path.isdir(self.path):
            for entry in files.walk(self.path):
                self.files += 1
                yield entry
        else:  # a file named explicitly: read it wherever it really is, if it is a regular file
            self.files += 1
            yield files.Entry(self.path, os.path.basename(self.path), files.check(self.path, None))


def iter_corpus(path: str | os.PathLike) -> CorpusStream:
    """The articles of one file or of every supported file under a folder, streamed (see CorpusStream).
    FileNotFoundError at once when `path` does not exist; nothing else is ever raised for a bad file."""
    return CorpusStream(path)


def load_corpus(path: str | os.PathLike) -> LoadResult:
    """Load one article file or every supported file under a folder (sorted, hidden ones left out).

    Bad files land in `skipped` instead of stopping the load; repeated articles (same URL, or the
    same text) are kept once; ids are made unique within the corpus.
    """
    stream = iter_corpus(path)
    articles = [item for item in stream if isinstance(item, Article)]
    return LoadResult(articles, stream.skipped, stream.files, stream.duplicates)


def _read_entry(entry: files.Entry) -> Iterator[Article | Skipped]:
    display = readable(entry.path)
    if entry.problem:
        yield _skip(display, entry.problem)
        return
    ext, compressed = files.format_of(entry.name)
    try:
        stream = files.open_article_file(entry.path, compressed)
    except ArticleError as e:
        yield _skip(display, e.reason)
        return
    with stream:
        yield from _Document(readable(files.document_name(entry.name)), ext, display).read(stream)


class _Document:
    """One document read in isolation: its articles and skipped parts; whatever its reader raises ends
    just this document, and `error` says why (None when it was read to the end)."""

    def __init__(self, name: str, ext: str, display: str, set_path: bool = True) -> None:
        self.name, self.ext, self.display, self.set_path = name, ext, display, set_path
        self.articles = 0
        self.error: str | None = None

    def read(self, stream: BinaryIO) -> Iterator[Article | Skipped]:
        listed = unlisted = 0
        held: list[Problem] = []  # bad parts before the first article: a file with no good part is one entry
        try:
            for part in self._parts(stream):
                if isinstance(part, Article):
                    if self.set_path:
                        part.path = self.display
                    yield from (self._part(p) for p in held)
                    held.clear()
                    self.articles += 1
                    yield part
                elif listed >= limits.MAX_LISTED_PROBLEMS:
                    unlisted += 1
                else:
                    listed += 1
                    if self.articles:
                        yield self._part(part)
                    else:
                        held.append(part)
        except ArticleError as e:
            self.error = e.reason
        except RecursionError:
            self.error = "nested too deeply to read"
        except MemoryError:
            self.error = "out of memory while reading it"
        except Exception as e:  # a bug of ours or of a library: this document only
            log.exception("unexpected error reading %s", self.display)
            self.error = f"unexpected error: {type(e).__name__}: {e}"
        if not self.articles:
            if self.error is None:
                self.error = _no_articles(held, unlisted)
            yield _skip(self.display, self.error)
            return
        if unlisted:
            yield _skip(self.display, f"{unlisted} more bad parts, not listed one by one")
        if self.error is not None:
            yield _skip(self.display, f"{self.error} (the {self.articles} article(s) before it were loaded)")

    def _parts(self, stream: BinaryIO) -> Iterator[Article | Problem]:
        """The reader's output; while it runs, warnings about a field (a dropped date) name this file."""
        reader = READERS[self.ext](self.name, stream)
        while True:
            token = fields.reading.set(self.display)
            try:
                part = next(reader)
            except StopIteration:
                return
            finally:
                fields.reading.reset(token)
            yield part

    def _part(self, problem: Problem) -> Skipped:
        return _skip(f"{self.display}{problem.where}", problem.reason)


def _no_articles(held: list[Problem], unlisted: int) -> str:
    if not held:
        return "no usable articles"
    where, reason = held[0]
    place = {":": "line ", "#": "entry "}.get(where[:1], "") + where[1:]
    more = len(held) - 1 + unlisted
    return f"no usable articles ({place}: {reason}" + (f"; {more} more bad parts)" if more else ")")


def _skip(path: str, reason: str) -> Skipped:
    log.warning("skipping %s: %s", path, reason)
    return Skipped(path, reason)


def _is_duplicate(article: Article, seen: HashSet) -> bool:
    """Whether an earlier article had the same URL or text (kept as 64-bit hashes, not as text)."""
    text = hash(("text", " ".join(article.paragraphs).casefold()))  # paragraphs are clean(): single spaces
    if not article.url:
        return not seen.add(text)  # (in already, or put in now)
    url = hash(("url", article.url.strip().rstrip("/")))
    if text in seen or url in seen:
        return True
    seen.add(text)
    seen.add(url)
    return False


def _unique_id(wanted: str, taken: HashSet) -> str:
    """`wanted`, or `wanted~2`, `wanted~3`, ... when another file already produced that id. Ids are
    remembered as 64-bit hashes (a set of a million ids as strings weighs about 100 MB, this about 16-32 MB)."""
    candidate, n = wanted, 1
    while not taken.add(hash(candidate)):  # (taken already; else it is now)
        n += 1
        candidate = f"{wanted}~{n}"
    return candidate


# --- one document --------------------------------------------------------------------------------------


def parse_bytes(name: str, data: bytes, *, skipped: list[Skipped] | None = None) -> list[Article]:
    """Parse a document by its name's extension, without touching disk (for uploads).

    Raises ArticleError with a user-readable reason when the document is not usable, and nothing else.
    Parts left out of a multi-article document are logged and, when `skipped` is given, appended to it.
    """
    name = readable(name)
    ext, compressed = files.format_of(name)
    if ext not in READERS:
        supported = " ".join(files.SUPPORTED_EXTENSIONS)
        raise ArticleError(f"unsupported file type {ext or '(none)'!r}; supported: {supported} (also .gz-compressed)")
    stream: BinaryIO = io.BytesIO(data)
    if compressed:
        stream = files.gunzip(stream)
    return _collect(files.document_name(name), ext, stream, name, skipped, set_path=False)


def load_file(
    path: str | os.PathLike, *, name: str | None = None, skipped: list[Skipped] | None = None
) -> list[Article]:
    """Read and parse one file. `name` (default: the file name) is the base of derived ids.

    Raises ArticleError when nothing usable comes out. Parts of a multi-article file that fail
    (a bad .jsonl line) are logged and, when `skipped` is given, appended to it.
    """
    path = os.fspath(path)
    display = readable(path)
    name = readable(name or os.path.basename(path))
    ext, compressed = files.format_of(name)
    if ext not in READERS:
        raise ArticleError(f"unsupported file type {ext or '(none)'!r}")
    problem = files.check(path, None)
    if problem:
        raise ArticleError(problem)
    with files.open_article_file(path, compressed) as stream:
        return _collect(files.document_name(name), ext, stream, display, skipped)


def _collect(
    name: str, ext: str, stream: BinaryIO, display: str, skipped: list[Skipped] | None, set_path: bool = True
) -> list[Article]:
    """All of one document's articles; ArticleError (only) when it yields none or breaks off."""
    doc = _Document(name, ext, display, set_path)
    articles: list[Article] = []
    parts: list[Skipped] = []
    for item in doc.read(stream):
        (articles if isinstance(item, Article) else parts).append(item)  # type: ignore[arg-type]
    if doc.error is not None:
        raise ArticleError(doc.error)
    if skipped is not None:
        skipped.extend(parts)
    return articles
