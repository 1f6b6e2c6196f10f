"""An answer as data and as plain text: JSON (the CLI's `--json`), attribution lines, console text."""

from __future__ import annotations

import json
import math
import os
import sys
from json.encoder import encode_basestring
from typing import Any, TextIO

from bot.articles import Article
from bot.search import Answer, Hit

ELLIPSIS = "…"
MAX_TITLE = 200  # characters of a title shown in an attribution line


def clip(text: str, n: int) -> str:
    """`text` on one line, at most `n` characters (cut with an ellipsis)."""
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - 1].rstrip() + ELLIPSIS


def article_json(a: Article) -> dict:
    return {
        "id": a.id,
        "title": a.title,
        "author": a.author,
        "source": a.source,
        "url": a.url,
        "published": a.published,
        "lang": a.lang,
    }


def hit_json(h: Hit) -> dict:
    return {
        "rank": h.rank,
        "score": round(h.score, 6),
        "text": h.text,
        "sentence": h.sentence_text,
        "article": article_json(h.article),
        "position": {"index": h.passage.index + 1, "count": h.passage.count},
        "highlights": [list(s) for s in h.highlights],
    }


def answer_json(a: Answer) -> dict:
    return {"query": a.query, "hits": [hit_json(h) for h in a.hits]}


def answer_json_text(a: Answer) -> str:
    """`json.dumps(answer_json(a), ensure_ascii=False)`, the same text written directly: a 10-hit answer in
    ~50 us instead of ~110 (json's general encoder walks the dicts answer_json builds, and quotes long texts
    character by character). The usual types (str, int, finite float) are written inline, without a call a
    value; anything else goes through `_json`."""
    enc = encode_basestring
    hits = []
    for h in a.hits:
        art, p, text = h.article, h.passage, h.text
        s0, s1 = h.sentence
        # printable text without quotes or backslashes is written as it is (json escapes nothing else when
        # ensure_ascii is off), and so is its sentence
        if text.isprintable() and '"' not in text and "\\" not in text:
            written = f'"{text}", "sentence": "{text[s0:s1]}"'
        else:
            written = f'{enc(text)}, "sentence": {enc(text[s0:s1])}'
        highlights = ", ".join(
            [
                f"[{s}, {e}]" if type(s) is int and type(e) is int else f"[{_json(s)}, {_json(e)}]"
                for s, e in h.highlights
            ]
        )
        rank, score, index, count = h.rank, round(h.score, 6), p.index + 1, p.count
        id_, title, author, source, url, published, lang = (
            art.id, art.title, art.author, art.source, art.url, art.published, art.lang
        )  # fmt: skip
        hits.append(
            f'{{"rank": {rank if type(rank) is int else _json(rank)}, "score": '
            f"{float.__repr__(score) if type(score) is float and math.isfinite(score) else _json(score)}, "
            f'"text": {written}, "article": {{"id": {enc(id_) if type(id_) is str else _json(id_)}, '
            f'"title": {enc(title) if type(title) is str else _json(title)}, '
            f'"author": {enc(author) if type(author) is str else _json(author)}, '
            f'"source": {enc(source) if type(source) is str else _json(source)}, '
            f'"url": {enc(url) if type(url) is str else _json(url)}, '
            f'"published": {enc(published) if type(published) is str else _json(published)}, '
            f'"lang": {enc(lang) if type(lang) is str else _json(lang)}}}, '
            f'"position": {{"index": {index if type(index) is int else _json(index)}, '
            f'"count": {count if type(count) is int else _json(count)}}}, "highlights": [{highlights}]}}'
        )
    return f'{{"query": {_json(a.query)}, "hits": [{", ".join(hits)}]}}'


def _json(v: Any) -> str:
    """One value as json.dumps(v, ensure_ascii=False) writes it, the usual types without its machinery."""
    t = type(v)
    if t is str:
        return encode_basestring(v)
    if t is int:
        return int.__repr__(v)
    if t is float and math.isfinite(v):
        return float.__repr__(v)
    if v is None:
        return "null"
    return json.dumps(v, ensure_ascii=False)


def source_parts(a: Article, position: tuple[int, int] | None = None) -> tuple[str, str]:
    """("Title", " — Author, Outlet, 2019-12-09 · ¶ 3 of 7"): an attribution line, the parts that are
    known, with the title apart so that a rendering can link it."""
    title = clip(a.title or "(untitled)", MAX_TITLE)
    people = ", ".join(clip(x, 100) for x in (a.author, a.source) if x)
    rest = f" — {people}" if people else ""
    if a.published:
        rest += (", " if people else " — ") + a.published
    if position is not None:
        rest += f" · ¶ {position[0]} of {position[1]}"
    return title, rest


def position_of(h: Hit) -> tuple[int, int]:
    return (h.passage.index + 1, h.passage.count)


def attribution(h: Hit) -> str:
    """The attribution as plain text: "Title — Author, Outlet, 2019-12-09 · ¶ 3 of 7"."""
    return "".join(source_parts(h.article, position_of(h)))


class _Style:
    def __init__(self, color: bool):
        self.bold = "\033[1m" if color else ""
        self.dim = "\033[2m" if color else ""
        self.under = "\033[4m" if color else ""
        self.reset = "\033[0m" if color else ""


def _marked(text: str, spans: list[tuple[int, int]], on: str, off: str, fallback: tuple[str, str]) -> str:
    if not spans:
        return text
    a, b = (on, off) if on else fallback
    out, pos = [], 0
    for s, e in spans:
        out += [text[pos:s], a, text[s:e], b]
        pos = e
    out.append(text[pos:])
    return "".join(out)


def use_color(stream: TextIO | None = None) -> bool:
    """Styling only for a terminal, and never when NO_COLOR is set (no-color.org) or TERM is dumb."""
    if os.environ.get("NO_COLOR") or os.environ.get("TERM") == "dumb":
        return False
    try:
        return (stream or sys.stdout).isatty()
    except (AttributeError, ValueError):  # a closed or replaced stream
        return False


def render_console(answer: Answer, color: bool | None = None, article_numbers: bool = False) -> str:
    """Plain text for a terminal; bold matches when the terminal supports colour. `article_numbers`
    adds "/article N" after each attribution (the console chat's command to read the whole article)."""
    if color is None:
        color = use_color()
    st = _Style(color)
    if not answer.hits:
        return "Nothing in the corpus matches that question. Try other words, or names that the articles use."
    blocks = []
    for h in answer.hits:
        body = _marked(h.text, h.highlights, st.bold, st.reset, ("*", "*"))
        more = f" · /article {h.passage.article + 1}" if article_numbers else ""
        lines = [f"{h.rank}. {body}", f"   {st.dim}{attribution(h)}{more}{st.reset}"]
        if h.article.url:
            lines.append(f"   {st.dim}{h.article.url}{st.reset}")
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)
