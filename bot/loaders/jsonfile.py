""".json: one article object, a list of them, or a SQuAD v1.1 file (each `data` entry an article).

A list is read element by element (a bad element is one skipped entry `#N`); a file over MAX_FILE_BYTES is
streamed that way too (a list, or an object's `data` list), so no multi-article file is ever held whole.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterator
from typing import Any, BinaryIO

from bot.loaders import jsonstream, limits
from bot.loaders.decoding import RecordDecoder, bom_encoding, decode
from bot.loaders.fields import build_article, clean, split_paragraphs
from bot.loaders.model import Article, ArticleError, Problem
from bot.loaders.streams import Prefixed

Builder = Callable[[Any, str, str], Article]  # (object, document name, where in it) -> Article


def read(name: str, stream: BinaryIO) -> Iterator[Article | Problem]:
    head = stream.read(_PEEK)
    if not bom_encoding(head) and head.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] == b"[":  # a list: always streamed
        yield from _elements(name, Prefixed(head, stream), json_article)
        return
    head += stream.read(max(0, limits.MAX_FILE_BYTES + 1 - len(head)))
    if not head.strip():
        raise ArticleError("empty file")
    if len(head) <= limits.MAX_FILE_BYTES:  # one object (an article, or SQuAD), or not UTF-8: held whole
        text = decode(head)
        if text.lstrip()[:1] == "[":
            yield from _elements(name, io.BytesIO(text.encode("utf-8")), json_article)
        else:
            yield from _document(name, loads(text))
        return
    if bom_encoding(head):
        raise ArticleError(f"a JSON file over {limits.mb(limits.MAX_FILE_BYTES)} must be UTF-8")
    yield from _elements(name, Prefixed(head, stream), squad_article)  # a large object: its "data" list


_PEEK = 64 * 1024


def _document(name: str, obj: Any) -> Iterator[Article | Problem]:
    if isinstance(obj, dict) and isinstance(obj.get("data"), list) and not _has_body(obj):
        for i, entry in enumerate(obj["data"]):
            try:
                yield squad_article(entry, name, f"#{i}")
            except ArticleError as e:
                yield Problem(f"#{i}", e.reason)
    elif isinstance(obj, dict):
        yield json_article(obj, name)
    else:
        raise ArticleError(f"JSON holds a {type(obj).__name__}, not an article object or a list of them")


def _elements(name: str, stream: Any, build: Builder) -> Iterator[Article | Problem]:
    """One article per element of the (streamed) list; a bad element is a Problem `#index`."""
    decoder = RecordDecoder()
    for i, raw in enumerate(jsonstream.split(stream, limits.MAX_RECORD_BYTES)):
        try:
            if isinstance(raw, jsonstream.TooLong):
                raise ArticleError(
                    f"entry too large ({limits.mb(raw.size)}; limit {limits.mb(limits.MAX_RECORD_BYTES)})"
                )
            yield build(loads(decoder(raw)), name, f"#{i}")
        except ArticleError as e:
            yield Problem(f"#{i}", e.reason)


def loads(text: str) -> Any:
    """json.loads, with every way it can fail (syntax, nesting past the recursion limit, an integer of
    more digits than Python converts) as ArticleError."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise ArticleError(f"invalid JSON: {e}") from None
    except RecursionError:
        raise ArticleError("invalid JSON: nested too deeply") from None
    except ValueError as e:  # "Exceeds the limit (4300 digits) for integer string conversion ..."
        raise ArticleError(f"invalid JSON: {str(e).split(';')[0]}") from None


def _has_body(obj: dict) -> bool:
    return "text" in obj or "paragraphs" in obj


def json_article(obj: Any, name: str, part: str | None = None) -> Article:
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
    return build_article(meta, body, name, part=part, title_from="text")


def squad_article(entry: Any, name: str, part: str | None = None) -> Article:
    """A SQuAD `data` entry: its title (underscores as spaces) and its contexts as paragraphs."""
    if not isinstance(entry, dict) or not isinstance(entry.get("paragraphs"), list):
        raise ArticleError("SQuAD entry without a 'paragraphs' list")
    contexts = [p.get("context") for p in entry["paragraphs"] if isinstance(p, dict)]
    body = [p for p in (clean(c) for c in contexts if isinstance(c, str)) if p]
    if not body:
        raise ArticleError("SQuAD entry without any context text")
    title = str(entry.get("title") or "").replace("_", " ")
    return build_article({"title": title, "id": entry.get("id")}, body, name, part=part, title_from="text")
