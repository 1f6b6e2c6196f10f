""".html / .htm: a saved news page; trafilatura finds the main text and metadata, leaving out nav/footer.

trafilatura's cost grows faster than linearly with the page (200,000 `<p>` run for minutes), so a page of
more than MAX_HTML_ELEMENTS elements gets a plain, linear extraction instead: the text of its paragraph-
like elements outside navigation, headers, footers and scripts, and the usual `<meta>` fields.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from itertools import islice
from typing import Any, BinaryIO

from bot.loaders import limits
from bot.loaders.decoding import decode
from bot.loaders.fields import build_article, clean, normalize_lang
from bot.loaders.model import Article, ArticleError, Problem
from bot.loaders.streams import read_document

_META_CHARSET = re.compile(rb"""<meta[^>]{0,500}charset\s*=\s*["']?([A-Za-z0-9_.:-]+)""", re.IGNORECASE)


def read(name: str, stream: BinaryIO) -> Iterator[Article | Problem]:
    """trafilatura is imported here, not at the top: it is slow to import, and when it is broken (it
    needs lxml_html_clean with lxml >= 5.2) only HTML files are skipped, with the reason."""
    try:
        import trafilatura
    except ImportError as e:
        raise ArticleError(f"HTML support unavailable: {str(e).strip().splitlines()[0]}") from None

    data = read_document(stream)
    declared = _META_CHARSET.search(data[:4096])
    tree = trafilatura.load_html(decode(data, declared.group(1).decode("ascii") if declared else None))
    if tree is None:
        raise ArticleError("not a readable HTML page")
    lang = _html_lang(tree)
    big = sum(1 for _ in islice(tree.iter(), limits.MAX_HTML_ELEMENTS + 1)) > limits.MAX_HTML_ELEMENTS
    meta, paragraphs = _plain(tree) if big else _trafilatura(trafilatura, tree)
    title = meta.get("title") or ""
    if paragraphs and title and paragraphs[0].casefold() == title.casefold():
        paragraphs.pop(0)  # the page's <h1>, already the title
    if not paragraphs:
        raise ArticleError("no main text found in the HTML page")
    meta.update(title=title, lang=lang)
    yield build_article(meta, paragraphs, name)


def _trafilatura(trafilatura: Any, tree: Any) -> tuple[dict[str, Any], list[str]]:
    doc = trafilatura.bare_extraction(
        tree, with_metadata=True, include_comments=False, include_images=False, include_links=False
    )
    if not doc:
        return {}, []
    paragraphs = [p for p in (clean(line) for line in (doc.text or "").split("\n")) if p]
    meta = {
        "title": clean(doc.title or ""),
        "author": doc.author,
        "source": doc.sitename,
        "url": doc.url,
        "published": doc.date,
    }
    return meta, paragraphs


_SKIP = {
    "script",
    "style",
    "noscript",
    "template",
    "nav",
    "header",
    "footer",
    "aside",
    "form",
    "svg",
    "iframe",
    "button",
    "select",
    "menu",
}
_BLOCKS = {"p", "h1", "h2", "h3", "h4", "h5", "h6", "li", "blockquote", "pre", "dd", "dt", "figcaption", "td", "th"}
_META_KEYS = {
    "title": ("og:title", "twitter:title"),
    "author": ("author", "article:author", "dc.creator"),
    "source": ("og:site_name", "application-name"),
    "url": ("og:url",),
    "published": ("article:published_time", "datepublished", "date", "pubdate", "dc.date", "publish-date"),
}


def _plain(tree: Any) -> tuple[dict[str, Any], list[str]]:
    """The linear extraction for big pages: one pass over the elements."""
    from lxml import etree  # type: ignore[import-untyped]

    paragraphs: list[str] = []
    chars = 0
    metas: dict[str, str] = {}
    title = None
    walker = etree.iterwalk(tree, events=("start",))
    for _, el in walker:
        tag = el.tag if isinstance(el.tag, str) else ""
        if tag == "meta":
            key = (el.get("property") or el.get("name") or el.get("itemprop") or "").lower()
            if key and el.get("content"):
                metas.setdefault(key, el.get("content"))
        elif tag == "title" and title is None:
            title = clean(el.text or "")
        elif tag == "link" and (el.get("rel") or "").lower() == "canonical" and el.get("href"):
            metas.setdefault("og:url", el.get("href"))
        if tag in _SKIP:
            walker.skip_subtree()
        elif tag in _BLOCKS:
            text = clean(" ".join(el.itertext()))
            if text:
                paragraphs.append(text)
                chars += len(text) + 2
                if chars > limits.MAX_ARTICLE_CHARS:  # stop early: the page is too long to be one article
                    raise ArticleError(
                        f"article text too long (over the limit of {limits.MAX_ARTICLE_CHARS:,} characters)"
                    )
            walker.skip_subtree()
    meta: dict[str, Any] = {
        field: next((metas[k] for k in keys if k in metas), None) for field, keys in _META_KEYS.items()
    }
    meta["title"] = clean(meta["title"] or title or "")
    return meta, paragraphs


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
