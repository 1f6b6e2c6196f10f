"""Article files -> articles (metadata + paragraphs).

Formats: .txt (optional `Key: value` header, else title line / paragraphs / `Name, Outlet` byline),
.md (YAML front matter), .json (one article, a list, or SQuAD v1.1), .jsonl, .html (trafilatura).
Loading never writes to the corpus; a bad file is skipped with a warning naming it and the reason.

`parse_bytes` does all the parsing from a name and bytes (no disk access), so an uploaded document
can be validated before it is saved; `load_file` and `load_corpus` only add reading and bookkeeping.
"""

from __future__ import annotations

import codecs
import datetime as dt
import email.utils
import json
import logging
import os
import re
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, Callable

import yaml
from charset_normalizer import from_bytes

log = logging.getLogger(__name__)

SUPPORTED_EXTENSIONS = (".txt", ".md", ".markdown", ".json", ".jsonl", ".html", ".htm")
MAX_FILE_BYTES = 50 * 1024 * 1024


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


class ArticleError(Exception):
    """A file (or uploaded document) that cannot be turned into articles; `reason` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


# A parser gets the document's name (relative path, used for ids) and its bytes, and returns the
# articles plus the parts it had to leave out as (location suffix, reason), e.g. (":7", "bad JSON").
Problems = list[tuple[str, str]]
Parser = Callable[[str, bytes], tuple[list[Article], Problems]]


# --- public entry points -------------------------------------------------------------------------


def load_corpus(path: str | os.PathLike) -> LoadResult:
    """Load one article file or every supported file under a folder (sorted, hidden ones left out).

    Bad files land in `skipped` instead of stopping the load; repeated articles (same URL, or the
    same text) are kept once; ids are made unique within the corpus.
    """
    root = Path(path)
    if root.is_file():
        files, base = [root], root.parent
    elif root.is_dir():
        files, base = _corpus_files(root), root
    else:
        raise FileNotFoundError(f"no such file or folder: {root}")

    result = LoadResult()
    seen: dict[str, Article] = {}  # dedup key -> first article with it
    ids: set[str] = set()
    for file in files:
        result.files += 1
        try:
            articles = load_file(file, name=file.relative_to(base).as_posix(), skipped=result.skipped)
        except ArticleError as e:
            log.warning("skipping %s: %s", file, e.reason)
            result.skipped.append(Skipped(str(file), e.reason))
            continue
        for article in articles:
            first = _find_duplicate(article, seen)
            if first is not None:
                log.info("dropping %s (%s): duplicate of %s", article.id, article.path, first.id)
                result.duplicates += 1
                continue
            article.id = _unique_id(article.id, ids)
            result.articles.append(article)
    return result


def load_file(
    path: str | os.PathLike, *, name: str | None = None, skipped: list[Skipped] | None = None
) -> list[Article]:
    """Read and parse one file. `name` (default: the file name) is the base of derived ids.

    Raises ArticleError when nothing usable comes out. Parts of a multi-article file that fail
    (a bad .jsonl line) are logged and, when `skipped` is given, appended to it.
    """
    path = Path(path)
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise ArticleError(_too_big(size))
        data = path.read_bytes()
    except OSError as e:
        raise ArticleError(f"cannot read file: {e.strerror or e}") from e
    articles = _parse(name or path.name, data, str(path), skipped)
    for article in articles:
        article.path = str(path)
    return articles


def parse_bytes(name: str, data: bytes, *, skipped: list[Skipped] | None = None) -> list[Article]:
    """Parse a document by its name's extension, without touching disk (for uploads).

    Raises ArticleError with a user-readable reason when the document is not usable.
    """
    return _parse(name, data, name, skipped)


# --- corpus walking and bookkeeping --------------------------------------------------------------


def _corpus_files(root: Path) -> list[Path]:
    """Supported files under root in a stable order; hidden files and folders are not looked into."""
    found = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for fname in filenames:
            if not fname.startswith(".") and _extension(fname) in SUPPORTED_EXTENSIONS:
                found.append(Path(dirpath, fname))
    return sorted(found, key=lambda p: p.relative_to(root).parts)


def _find_duplicate(article: Article, seen: dict[str, Article]) -> Article | None:
    """The earlier article with the same URL or text, else None (and remember this one)."""
    keys = ["text:" + " ".join(article.text.split()).casefold()]
    if article.url:
        keys.append("url:" + article.url.strip().rstrip("/"))
    for key in keys:
        if key in seen:
            return seen[key]
    for key in keys:
        seen[key] = article
    return None


def _unique_id(wanted: str, taken: set[str]) -> str:
    """`wanted`, or `wanted~2`, `wanted~3`, ... when another file already produced that id."""
    candidate, n = wanted, 1
    while candidate in taken:
        n += 1
        candidate = f"{wanted}~{n}"
    taken.add(candidate)
    return candidate


# --- dispatch ------------------------------------------------------------------------------------


def _extension(name: str) -> str:
    return PurePosixPath(name).suffix.lower()


def _parse(name: str, data: bytes, display: str, skipped: list[Skipped] | None) -> list[Article]:
    ext = _extension(name)
    parser = _PARSERS.get(ext)
    if parser is None:
        supported = " ".join(SUPPORTED_EXTENSIONS)
        raise ArticleError(f"unsupported file type {ext or '(none)'!r}; supported: {supported}")
    if len(data) > MAX_FILE_BYTES:
        raise ArticleError(_too_big(len(data)))
    if not data.strip():
        raise ArticleError("empty file")
    articles, problems = parser(name, data)
    if not articles:
        where, reason = problems[0] if problems else ("", "")
        place = {":": "line ", "#": "entry "}.get(where[:1], "") + where[1:]
        raise ArticleError(f"no usable articles ({place}: {reason})" if problems else "no usable articles")
    for where, reason in problems:
        log.warning("skipping %s%s: %s", display, where, reason)
        if skipped is not None:
            skipped.append(Skipped(f"{display}{where}", reason))
    return articles


def _too_big(size: int) -> str:
    return f"file too large ({size / 1e6:.1f} MB; limit {MAX_FILE_BYTES // (1024 * 1024)} MB)"


# --- decoding and normalising --------------------------------------------------------------------

_BOMS = (  # UTF-32 first: its little-endian BOM starts with UTF-16's
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def decode(data: bytes, declared: str | None = None) -> str:
    """Bytes -> text: UTF-8 (BOM stripped), else the declared charset, else charset-normalizer's guess.

    Newlines come out as "\\n". Binary data raises ArticleError rather than becoming mojibake.
    """
    text = None
    for bom, encoding in _BOMS:  # UTF-16/32 legitimately contain NUL bytes, so check them first
        if data.startswith(bom):
            try:
                text = data.decode(encoding)
            except UnicodeDecodeError:
                raise ArticleError(f"binary file (invalid {encoding} text)") from None
            break
    if text is None:
        if b"\x00" in data:
            raise ArticleError("binary file (contains NUL bytes)")
        text = _decode_8bit(data, declared)
    return text.replace("\r\n", "\n").replace("\r", "\n").replace("\ufeff", "")


def _decode_8bit(data: bytes, declared: str | None) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    if declared:
        try:
            return data.decode(declared)
        except (LookupError, UnicodeDecodeError):
            pass
    best = from_bytes(data).best()
    if best is None:
        raise ArticleError("binary file (not decodable as text)")
    return str(best)


def clean(text: str) -> str:
    """One paragraph: BOMs removed, every run of whitespace (newlines too) made a single space."""
    return " ".join(text.replace("\ufeff", "").split())


def split_paragraphs(text: str) -> list[str]:
    """Text with blank lines between paragraphs -> cleaned, non-empty paragraphs."""
    return [p for p in (clean(chunk) for chunk in re.split(r"\n\s*\n", text)) if p]


_DATE_FORMATS = (
    "%B %d, %Y",  # December 9, 2019
    "%B %d %Y",
    "%b %d, %Y",  # Dec 9, 2019
    "%b. %d, %Y",
    "%d %B %Y",  # 9 December 2019
    "%d %b %Y",
    "%d.%m.%Y",  # 09.12.2019 (day first, as in Europe)
    "%Y/%m/%d",
    "%Y.%m.%d",
)


def normalize_date(value: Any) -> str | None:
    """A date in any common form -> 'YYYY-MM-DD'; an unparseable one is kept as written."""
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    raw = clean(str(value))
    if not raw:
        return None
    try:
        return dt.datetime.fromisoformat(raw).date().isoformat()
    except ValueError:
        pass
    for fmt in _DATE_FORMATS:
        try:
            return dt.datetime.strptime(raw, fmt).date().isoformat()
        except ValueError:
            pass
    try:  # RFC 2822, as in RSS feeds: "Mon, 09 Dec 2019 08:30:00 +0300"
        return email.utils.parsedate_to_datetime(raw).date().isoformat()
    except (TypeError, ValueError):
        return raw


def normalize_lang(value: Any) -> str | None:
    """'en', 'en-US', 'en_GB' -> 'en'; anything that is not a 2-letter code (e.g. 'English') -> None."""
    if not isinstance(value, str):
        return None
    m = re.fullmatch(r"([A-Za-z]{2})(?:[-_][A-Za-z0-9]+)*", value.strip())
    return m.group(1).lower() if m else None


def _meta(value: Any) -> str | None:
    """A metadata value as a cleaned string (lists, e.g. several authors, joined by commas)."""
    if value is None:
        return None
    if isinstance(value, (list, tuple)):
        value = ", ".join(str(v) for v in value if v is not None)
    return clean(str(value)) or None


def _stem(name: str) -> str:
    """Derived id of a single-article file: its relative path without the extension."""
    return str(PurePosixPath(name).with_suffix(""))


def _title_from_name(name: str) -> str:
    """Fallback title when a document has none: the file name, readable."""
    return clean(PurePosixPath(name).stem.replace("_", " ").replace("-", " ")) or name


# --- .txt ----------------------------------------------------------------------------------------

_TXT_KEYS = {
    "title": "title",
    "author": "author",
    "source": "source",
    "url": "url",
    "id": "id",
    "date": "published",
    "published": "published",
    "language": "lang",
    "lang": "lang",
}
_HEADER_LINE = re.compile(r"([A-Za-z]+)[ \t]*:[ \t]*(.*)")


def parse_txt(name: str, data: bytes) -> tuple[list[Article], Problems]:
    """Plain text: a `Key: value` header block and a blank line, or title line + body + byline."""
    lines = decode(data).split("\n")
    while lines and not lines[0].strip():
        lines.pop(0)
    meta, rest = _txt_header(lines)
    if meta is None:  # the sample's convention: title line, paragraphs, `Name, Outlet` last line
        meta = {}
        rest = _drop_byline(lines, meta)
    if "title" not in meta:
        while rest and not rest[0].strip():
            rest.pop(0)
        if not rest:
            raise ArticleError("no text")
        meta["title"] = rest.pop(0)
    paragraphs = split_paragraphs("\n".join(rest))
    if not paragraphs:
        raise ArticleError("no body text (only a title)")
    return [_article(meta, paragraphs, _stem(name), name)], []


def _txt_header(lines: list[str]) -> tuple[dict[str, str] | None, list[str]]:
    """The leading `Key: value` lines (known keys only), if a blank line ends them; else None."""
    meta: dict[str, str] = {}
    for i, line in enumerate(lines):
        m = _HEADER_LINE.fullmatch(line.strip())
        if m and m.group(1).lower() in _TXT_KEYS:
            meta[_TXT_KEYS[m.group(1).lower()]] = m.group(2)
            continue
        if meta and not line.strip():
            return meta, lines[i + 1 :]
        break
    return None, lines


def _drop_byline(lines: list[str], meta: dict[str, str]) -> list[str]:
    """Remove a last line like "Vitaut Siuchyk, Belsat TV", putting author and source in `meta`."""
    end = len(lines)
    while end and not lines[end - 1].strip():
        end -= 1
    if end < 2:  # a lone line is the title, never a byline
        return lines
    parts = _byline_parts(lines[end - 1])
    if parts is None:
        return lines
    meta["author"], meta["source"] = parts
    return lines[: end - 1]


_NAME_WORD = re.compile(r"(?:[A-Z\u0400-\u042F\u00C0-\u00DE][\w'’.-]*|de|van|von|der|da|di|la|le|bin|al)")


def _byline_parts(line: str) -> tuple[str, str] | None:
    """(author, outlet) if the line is short, has one comma, no sentence end, and a name before it."""
    line = clean(line)
    if len(line) > 80 or line.count(",") != 1 or line[-1] in ".!?:;…\"”»)" or ":" in line:
        return None
    author, outlet = (part.strip() for part in line.split(","))
    words = author.split()
    if not outlet or not 1 <= len(words) <= 4 or len(outlet.split()) > 6:
        return None
    if not all(_NAME_WORD.fullmatch(w) for w in words) or any(c.isdigit() for c in author):
        return None
    return author, outlet


# --- .md -----------------------------------------------------------------------------------------

_FRONT_MATTER = re.compile(r"---[ \t]*\n(.*?)\n(?:---|\.\.\.)[ \t]*(?:\n|$)", re.DOTALL)
_MD_KEYS = {
    **_TXT_KEYS,
    "authors": "author",
    "outlet": "source",
    "site": "source",
}


def parse_md(name: str, data: bytes) -> tuple[list[Article], Problems]:
    """Markdown with optional YAML front matter; a leading `# Title` heading becomes the title."""
    text = decode(data)
    meta: dict[str, Any] = {}
    m = _FRONT_MATTER.match(text)
    if m:
        try:
            front = yaml.safe_load(m.group(1))
        except yaml.YAMLError as e:
            raise ArticleError(f"invalid YAML front matter: {_first_line(e)}") from None
        if front is not None and not isinstance(front, dict):
            raise ArticleError("YAML front matter is not a mapping of fields")
        for key, value in (front or {}).items():
            field_name = _MD_KEYS.get(str(key).lower())
            if field_name and field_name not in meta:
                meta[field_name] = value
        text = text[m.end() :]
    body = text.lstrip("\n")
    heading = re.match(r"#[ \t]+(.+?)[ \t#]*(?:\n|$)", body)
    if heading:
        meta.setdefault("title", heading.group(1))
        body = body[heading.end() :]
    paragraphs = [p for p in (_strip_markdown(chunk) for chunk in re.split(r"\n\s*\n", body)) if p]
    if not paragraphs:
        raise ArticleError("no body text")
    meta.setdefault("title", _title_from_name(name))
    return [_article(meta, paragraphs, _stem(name), name)], []


_MD_INLINE = [
    (re.compile(r"<!--.*?-->", re.DOTALL), ""),  # comments
    (re.compile(r"!\[[^\]]*\]\([^)]*\)"), ""),  # images
    (re.compile(r"\[([^\]]+)\]\([^)]*\)"), r"\1"),  # links -> their text
    (re.compile(r"(\*\*|__)(.+?)\1"), r"\2"),  # bold
    (re.compile(r"(?<![\w*])\*(?!\s)(.+?)(?<!\s)\*(?![\w*])"), r"\1"),  # *italic*
    (re.compile(r"(?<!\w)_(?!\s)(.+?)(?<!\s)_(?!\w)"), r"\1"),  # _italic_
    (re.compile(r"`+([^`]*)`+"), r"\1"),  # code
]
_MD_LINE_PREFIX = re.compile(r"^[ \t]*(?:#{1,6}[ \t]+|>[ \t]?|[-*+][ \t]+|\d+[.)][ \t]+)")
_MD_RULE_OR_FENCE = re.compile(r"[ \t]*(?:(?:[-*_][ \t]*){3,}|```.*|~~~.*)")


def _strip_markdown(chunk: str) -> str:
    """Light cleanup so the text reads as prose: no heading/list/quote markers, links, emphasis."""
    lines = chunk.split("\n")
    text = "\n".join(_MD_LINE_PREFIX.sub("", line) for line in lines if not _MD_RULE_OR_FENCE.fullmatch(line))
    for pattern, replacement in _MD_INLINE:
        text = pattern.sub(replacement, text)
    return clean(text)


def _first_line(error: Exception) -> str:
    return str(error).strip().split("\n")[0]


# --- .json / .jsonl ------------------------------------------------------------------------------


def parse_json(name: str, data: bytes) -> tuple[list[Article], Problems]:
    """One article object, a list of them, or a SQuAD v1.1 file (each `data` entry an article)."""
    try:
        obj = json.loads(decode(data))
    except json.JSONDecodeError as e:
        raise ArticleError(f"invalid JSON: {e}") from None
    if isinstance(obj, dict) and isinstance(obj.get("data"), list) and not _has_body(obj):
        return _entries(name, obj["data"], _squad_article)
    if isinstance(obj, dict):
        return [_json_article(obj, _stem(name), name)], []
    if isinstance(obj, list):
        return _entries(name, obj, _json_article)
    raise ArticleError(f"JSON holds a {type(obj).__name__}, not an article object or a list of them")


def parse_jsonl(name: str, data: bytes) -> tuple[list[Article], Problems]:
    """One article object per line; a bad line is left out (and reported), the others kept."""
    articles, problems = [], []
    for lineno, line in enumerate(decode(data).split("\n"), start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as e:
            problems.append((f":{lineno}", f"invalid JSON: {e}"))
            continue
        try:
            articles.append(_json_article(obj, f"{name}#{lineno}", name))
        except ArticleError as e:
            problems.append((f":{lineno}", e.reason))
    return articles, problems


def _entries(
    name: str, items: list, build: Callable[[Any, str, str], Article]
) -> tuple[list[Article], Problems]:
    """Build one article per list item; a bad item is reported as `name#index` and left out."""
    articles, problems = [], []
    for i, item in enumerate(items):
        try:
            articles.append(build(item, f"{name}#{i}", name))
        except ArticleError as e:
            problems.append((f"#{i}", e.reason))
    return articles, problems


def _has_body(obj: dict) -> bool:
    return "text" in obj or "paragraphs" in obj


def _json_article(obj: Any, default_id: str, name: str) -> Article:
    """An article object: id, title, text or paragraphs, author, source, url, published/date, lang."""
    if not isinstance(obj, dict):
        raise ArticleError(f"expected an article object, got {type(obj).__name__}")
    text, paragraphs = obj.get("text"), obj.get("paragraphs")
    if isinstance(text, str):
        body = split_paragraphs(text)
    elif isinstance(paragraphs, list) and all(isinstance(p, str) for p in paragraphs):
        body = [p for p in (clean(p) for p in paragraphs) if p]
    elif text is not None or paragraphs is not None:
        raise ArticleError("'text' must be a string, 'paragraphs' a list of strings")
    else:
        raise ArticleError("no 'text' or 'paragraphs' field")
    if not body:
        raise ArticleError("no body text")
    meta = {
        "id": obj.get("id"),
        "title": obj.get("title"),
        "author": obj.get("author"),
        "source": obj.get("source"),
        "url": obj.get("url"),
        "published": obj.get("published", obj.get("date")),
        "lang": obj.get("lang", obj.get("language")),
    }
    return _article(meta, body, default_id, name)


def _squad_article(entry: Any, default_id: str, name: str) -> Article:
    """A SQuAD `data` entry: its title (underscores as spaces) and its contexts as paragraphs."""
    if not isinstance(entry, dict) or not isinstance(entry.get("paragraphs"), list):
        raise ArticleError("SQuAD entry without a 'paragraphs' list")
    contexts = [p.get("context") for p in entry["paragraphs"] if isinstance(p, dict)]
    body = [p for p in (clean(c) for c in contexts if isinstance(c, str)) if p]
    if not body:
        raise ArticleError("SQuAD entry without any context text")
    title = str(entry.get("title") or "").replace("_", " ")
    return _article({"title": title, "id": entry.get("id")}, body, default_id, name)


# --- .html ---------------------------------------------------------------------------------------

_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?([A-Za-z0-9_.:-]+)""", re.IGNORECASE)


def parse_html(name: str, data: bytes) -> tuple[list[Article], Problems]:
    """A saved news page: trafilatura finds the main text and the metadata, leaving out nav/footer.

    trafilatura is imported here, not at the top: it is slow to import, and when it is broken (it
    needs lxml_html_clean with lxml >= 5.2) only HTML files are skipped, with the reason.
    """
    try:
        import trafilatura
    except ImportError as e:
        raise ArticleError(f"HTML support unavailable: {_first_line(e)}") from None

    declared = _META_CHARSET.search(data[:4096])
    tree = trafilatura.load_html(decode(data, declared.group(1).decode("ascii") if declared else None))
    if tree is None:
        raise ArticleError("not a readable HTML page")
    lang = _html_lang(tree)
    doc = trafilatura.bare_extraction(
        tree, with_metadata=True, include_comments=False, include_images=False, include_links=False
    )
    paragraphs = [p for p in (clean(line) for line in (doc.text or "").split("\n")) if p] if doc else []
    title = clean(doc.title or "") if doc else ""
    if paragraphs and title and paragraphs[0].casefold() == title.casefold():
        paragraphs.pop(0)  # the page's <h1>, already the title
    if not paragraphs:
        raise ArticleError("no main text found in the HTML page")
    meta = {
        "title": title or _title_from_name(name),
        "author": doc.author,
        "source": doc.sitename,
        "url": doc.url,
        "published": doc.date,
        "lang": lang,
    }
    return [_article(meta, paragraphs, _stem(name), name)], []


def _html_lang(tree: Any) -> str | None:
    """The page's language from <html lang>, Content-Language or og:locale, if any says one."""
    candidates = [tree.get("lang"), tree.get("{http://www.w3.org/XML/1998/namespace}lang")]
    candidates += tree.xpath(
        "//meta[translate(@http-equiv,'CONTENT-LANGUAGE','content-language')='content-language']/@content"
        " | //meta[@property='og:locale']/@content"
    )
    for value in candidates:
        if normalize_lang(value):
            return normalize_lang(value)
    return None


# --- assembling ----------------------------------------------------------------------------------


def _article(meta: dict[str, Any], paragraphs: list[str], default_id: str, name: str) -> Article:
    """An Article from raw metadata values, each cleaned and normalised the same way for all formats."""
    return Article(
        id=_meta(meta.get("id")) or default_id,
        title=_meta(meta.get("title")) or _title_from_name(name),
        paragraphs=paragraphs,
        author=_meta(meta.get("author")),
        source=_meta(meta.get("source")),
        url=_meta(meta.get("url")),
        published=normalize_date(meta.get("published")),
        lang=normalize_lang(meta.get("lang")),
    )


_PARSERS: dict[str, Parser] = {
    ".txt": parse_txt,
    ".md": parse_md,
    ".markdown": parse_md,
    ".json": parse_json,
    ".jsonl": parse_jsonl,
    ".html": parse_html,
    ".htm": parse_html,
}
