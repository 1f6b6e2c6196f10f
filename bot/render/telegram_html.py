"""An answer and the bot's other messages as Telegram HTML.

Everything Telegram shows is built here, as strings: the Telegram layer (bot/telegram/) only sends them.
Text from articles and users is always escaped; every message is made of whole, balanced tags and is kept
within TELEGRAM_LIMIT, measured on the HTML itself (stricter than Telegram, which counts the text after
parsing), so a reply never fails with "can't parse entities" or "message is too long".
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from itertools import pairwise
from typing import TypeGuard

from bot.articles import Article
from bot.render.text import ELLIPSIS as _ELLIPSIS
from bot.render.text import MAX_TITLE as _MAX_TITLE
from bot.render.text import clip as _clip
from bot.render.text import position_of, source_parts
from bot.search import Answer, Hit


def escape(text: str) -> str:
    """Escape text for Telegram HTML (only &, < and > are special; quotes inside attributes)."""
    return html.escape(text, quote=False)


TELEGRAM_LIMIT = 4096
_MAX_HREF = 1024  # longer URLs are shown unlinked: they would eat the message budget


def tg_len(text: str) -> int:
    """Length as Telegram counts it: UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


_URL_UNSAFE = {'"': "%22", "<": "%3C", ">": "%3E", " ": "%20"}


def _linkable(url: str | None) -> TypeGuard[str]:
    return (
        url is not None
        and url.startswith(("http://", "https://"))
        and len(url) <= _MAX_HREF
        and not any(c.isspace() and c != " " for c in url)
    )


def html_link(text: str, url: str | None) -> str:
    """Escaped text, linked when the URL is a plain http(s) URL Telegram will accept."""
    if _linkable(url):
        href = "".join(_URL_UNSAFE.get(c, c) for c in url.strip())  # Telegram rejects these raw
        return f'<a href="{html.escape(href, quote=True)}">{escape(text)}</a>'
    return escape(text)


def html_styled(
    text: str,
    bold: Sequence[tuple[int, int]] = (),
    italic: tuple[int, int] | None = None,
    start: int = 0,
    end: int | None = None,
) -> str:
    """text[start:end] escaped, with `bold` spans in <b> nested inside the `italic` span's <i>."""
    end = len(text) if end is None else end
    points = {start, end}
    spans: list[tuple[int, int]] = []
    for s, e in sorted(bold):
        if s >= end or e <= start:
            continue
        s, e = max(s, start), min(e, end)
        gap = text[spans[-1][1] : s] if spans else "x"
        if not gap.strip() and "\n" not in gap:  # "road maps": one bold run, not two
            spans[-1] = (spans[-1][0], max(e, spans[-1][1]))
        else:
            spans.append((s, e))
    for s, e in spans:
        points |= {s, e}
    if italic is not None:
        italic = (max(italic[0], start), min(italic[1], end))
        if italic[0] >= italic[1]:
            italic = None
        else:
            points |= set(italic)
    cuts = sorted(points)
    out: list[str] = []
    in_i = in_b = False
    j = 0  # the first bold span not yet passed (spans are sorted and disjoint; every end is a cut)
    for a, b in pairwise(cuts):
        want_i = italic is not None and italic[0] <= a and b <= italic[1]
        while j < len(spans) and spans[j][1] <= a:
            j += 1
        want_b = j < len(spans) and spans[j][0] <= a and b <= spans[j][1]
        if want_i != in_i:
            if in_b:
                out.append("</b>")
                in_b = False
            out.append("<i>" if want_i else "</i>")
            in_i = want_i
        if want_b != in_b:
            out.append("<b>" if want_b else "</b>")
            in_b = want_b
        out.append(escape(text[a:b]))
    if in_b:
        out.append("</b>")
    if in_i:
        out.append("</i>")
    return "".join(out)


def html_source_line(a: Article, position: tuple[int, int] | None = None, link: bool = True) -> str:
    """Title (linked) — Author, Outlet, date · ¶ n of m: the attribution of a passage or article."""
    title, rest = source_parts(a, position)
    return (html_link(title, a.url) if link else escape(title)) + escape(rest)


def html_attribution(h: Hit, link: bool = True) -> str:
    return html_source_line(h.article, position_of(h), link)


def _snap(text: str, ws: int, we: int) -> tuple[int, int]:
    """Move a window's ends onto word boundaries so no word is cut in half."""
    if ws > 0 and not text[ws - 1].isspace():
        nxt = next((i for i in range(ws, we) if text[i].isspace()), None)
        if nxt is not None and nxt + 1 < we:
            ws = nxt + 1
    if we < len(text) and not text[we].isspace():
        prev = next((i for i in range(we - 1, ws, -1) if text[i].isspace()), None)
        if prev is not None and prev > ws:
            we = prev
    return ws, we


def _window(text: str, focus: tuple[int, int], size: int) -> tuple[int, int]:
    """A span of about `size` characters of text around `focus` (the best sentence)."""
    s, e = focus
    if e - s >= size:
        ws, we = s, s + size
    else:
        ws = max(0, s - (size - (e - s)) // 2)
        we = min(len(text), ws + size)
        ws = max(0, we - size)
    return _snap(text, ws, we)


def _passage_html(h: Hit, ws: int = 0, we: int | None = None) -> str:
    text = h.text
    we = len(text) if we is None else we
    one_sentence = h.sentence[0] <= 0 and h.sentence[1] >= len(text.rstrip())
    sentence = None if one_sentence else h.sentence  # marking the whole passage would say nothing
    body = html_styled(text, h.highlights, sentence, ws, we).strip()
    return (_ELLIPSIS if ws > 0 else "") + body + (_ELLIPSIS if we < len(text) else "")


def html_passage(h: Hit, budget: int = TELEGRAM_LIMIT, numbered: bool = True) -> str:
    """One hit: "1. passage" (matches bold, best sentence italic) and its attribution line.

    When the whole passage does not fit `budget`, a window around the best sentence is shown.
    """
    head = f"<b>{h.rank}.</b> " if numbered else ""
    attribution = "📰 " + html_attribution(h)
    if tg_len(attribution) > budget // 2:
        attribution = "📰 " + html_attribution(h, link=False)
    full = f"{head}{_passage_html(h)}\n{attribution}"
    if tg_len(full) <= budget:
        return full
    lo, hi, best = 1, len(h.text), None
    while lo <= hi:  # the largest window that fits
        mid = (lo + hi) // 2
        ws, we = _window(h.text, h.sentence, mid)
        block = f"{head}{_passage_html(h, ws, we)}\n{attribution}"
        if tg_len(block) <= budget:
            best, lo = block, mid + 1
        else:
            hi = mid - 1
    return best if best is not None else _clip_html_lines([head + _ELLIPSIS, attribution], budget)


def html_answer(answer: Answer, limit: int = TELEGRAM_LIMIT, header: str = "") -> str:
    """The numbered passages of an answer, each with its attribution, within `limit`."""
    blocks = [html_passage(h) for h in answer.hits]
    sep = "\n\n"
    head = header + sep if header else ""
    if tg_len(head + sep.join(blocks)) <= limit:
        return head + sep.join(blocks)
    budget = (limit - tg_len(head) - len(sep) * (len(blocks) - 1)) // max(1, len(blocks))
    blocks = [b if tg_len(b) <= budget else html_passage(h, budget) for b, h in zip(blocks, answer.hits)]
    return _clip_html_lines([head + sep.join(blocks)], limit)


def _clip_html_lines(lines: list[str], limit: int) -> str:
    """Whole lines (each made of balanced tags) while they fit; a last resort against overflow."""
    out: list[str] = []
    used = 0
    for line in lines:
        n = tg_len(line) + (1 if out else 0)
        if used + n > limit - 2:
            out.append(_ELLIPSIS)
            break
        out.append(line)
        used += n
    text = "\n".join(out)
    if tg_len(text) > limit:  # a single oversized line: fall back to plain escaped text
        text = escape(_clip(_strip_tags(text), limit // 6))
    return text


def _strip_tags(text: str) -> str:
    import re

    return html.unescape(re.sub(r"<[^>]*>", "", text))


def plain_snippet(h: Hit, chars: int = 160) -> str:
    """The best sentence as plain text, for an inline result's description."""
    return _clip(h.sentence_text or h.text, chars)


def html_inline_message(h: Hit) -> str:
    """What choosing an inline result posts: the passage and where it comes from."""
    return html_passage(h, TELEGRAM_LIMIT, numbered=False)


def html_nothing_found(question: str, articles: int, titles: list[str]) -> str:
    """A helpful reply instead of silence: what the corpus covers and how to ask differently."""
    q = escape(_clip(question, 200))
    if not articles:
        return f"I found nothing about “{q}”: the corpus is empty right now."
    lines = [f"I found nothing about “{q}” in the {articles} article{'s' if articles != 1 else ''} I know."]
    if titles:
        lines.append("They cover, for example:")
        lines += [f"• {escape(_clip(t, 150))}" for t in titles[:3]]
    lines.append(
        "Try other words — names, places or terms an article would use — or fewer of them. "
        "/sources lists every article."
    )
    return _clip_html_lines(lines, TELEGRAM_LIMIT)


def html_welcome(articles: int, passages: int, recent: list[Article], examples: list[str], bot_name: str = "") -> str:
    """/start: what the bot knows and how to ask."""
    lines = [
        f"👋 I answer questions from a collection of <b>{articles}</b> news article{'s' if articles != 1 else ''} "
        f"({passages} passages), quoting the best passages and saying where each comes from."
    ]
    if recent:
        lines += ["", "<b>Recent articles</b>"]
        lines += ["• " + html_source_line(a) for a in recent]
    if examples:
        lines += ["", "<b>Try asking</b>"]
        lines += [f"• <i>{escape(e)}</i>" for e in examples]
    lines += ["", "Just send a question. /sources lists the articles, /help explains more."]
    if bot_name:
        lines.append(f"In any chat, type <code>@{escape(bot_name)} your question</code> to share a passage.")
    return _clip_html_lines(lines, TELEGRAM_LIMIT)


def html_help(bot_name: str = "", admin: bool = False) -> str:
    lines = [
        "<b>How to ask</b>",
        "• In this chat, send a question as a message. Each answer shows the best passages: matched words "
        "in <b>bold</b>, the best sentence in <i>italics</i>, and the article, author, outlet and date.",
        "• <b>More</b> shows further passages; <b>Full article</b> sends the whole article.",
        "• In a group: <code>/ask your question</code>, mention me, or reply to one of my messages.",
    ]
    if bot_name:
        lines.append(f"• In any chat: <code>@{escape(bot_name)} your question</code>, then pick a passage to post it.")
    lines += ["", "/start — what I know · /sources — the articles · /help — this text"]
    if admin:
        lines += [
            "",
            "<b>Admin</b>",
            "/reload — rebuild the index from the corpus folder",
            "/stats — corpus and usage figures",
            "Send an article file (.txt, .md, .json, .jsonl, .html) to add it to the corpus.",
        ]
    return "\n".join(lines)


def html_sources(entries: list[tuple[int, Article]], page: int, pages: int, total: int) -> str:
    """One page of /sources: numbered, linked titles with outlet and date."""
    lines = [f"<b>Articles</b> ({total}) — page {page + 1} of {max(1, pages)}", ""]
    for no, a in entries:
        lines.append(f"{no}. " + html_source_line(a))
    return _clip_html_lines(lines, TELEGRAM_LIMIT)


def html_article(a: Article, limit: int = TELEGRAM_LIMIT, max_messages: int = 20) -> list[str]:
    """A whole article as messages split at paragraph boundaries, each within `limit`.

    A paragraph longer than a message is split at sentences, then at words. Past `max_messages`
    the rest is left out with a pointer to the original.
    """
    header = "<b>" + html_link(_clip(a.title or "(untitled)", _MAX_TITLE), a.url) + "</b>"
    byline = html_source_line(a, link=False).split(" — ", 1)
    if len(byline) == 2:
        header += "\n" + byline[1]
    pieces: list[str] = []
    for p in a.paragraphs:
        if tg_len(escape(p)) <= limit:
            pieces.append(escape(p))
        else:
            pieces.extend(_split_long(p, limit, a.lang))
    messages: list[str] = []
    current = header
    for piece in pieces:
        if tg_len(current) + 2 + tg_len(piece) <= limit:
            current = current + "\n\n" + piece if current else piece
        else:
            messages.append(current)
            current = piece
    if current:
        messages.append(current)
    if len(messages) > max_messages:
        rest = "… the article continues" + (f" at {html_link('the source', a.url)}" if _linkable(a.url) else "") + "."
        last = messages[max_messages - 1]
        if tg_len(last) + 2 + tg_len(rest) > limit:
            last = escape(_ELLIPSIS)
        messages = [*messages[: max_messages - 1], last + "\n\n" + rest]
    return messages


def _split_long(paragraph: str, limit: int, lang: str | None = None) -> list[str]:
    """Escaped pieces of a paragraph, cut at sentence ends, else at spaces, else anywhere."""
    from bot.sentences import sentence_spans

    units: list[str] = []
    for s, e in sentence_spans(paragraph, lang=lang) or [(0, len(paragraph))]:
        sentence = paragraph[s:e]
        if tg_len(escape(sentence)) <= limit:
            units.append(sentence)
            continue
        word_buf = ""
        for word in sentence.split(" "):
            while tg_len(escape(word)) > limit:  # a "word" longer than a message
                cut = limit // 6
                units.append(word[:cut])
                word = word[cut:]
            candidate = f"{word_buf} {word}" if word_buf else word
            if tg_len(escape(candidate)) <= limit:
                word_buf = candidate
            else:
                units.append(word_buf)
                word_buf = word
        if word_buf:
            units.append(word_buf)
    out: list[str] = []
    buf = ""
    for u in units:
        candidate = f"{buf} {u}" if buf else u
        if tg_len(escape(candidate)) <= limit:
            buf = candidate
        else:
            out.append(escape(buf))
            buf = u
    if buf:
        out.append(escape(buf))
    return [x for x in out if x]


def html_reload_summary(
    ok: bool,
    before: tuple[int, int],
    after: tuple[int, int] | None,
    seconds: float,
    skipped: Sequence[tuple[str, str]] = (),
    error: str | None = None,
    coalesced: bool = False,
) -> str:
    """What an admin reads after /reload or an upload: counts before -> after, time, skipped files."""
    if ok and after is not None:
        lines = [
            f"✅ Reloaded in {seconds:.2f} s: articles {before[0]} → {after[0]}, passages {before[1]} → {after[1]}."
        ]
    else:
        lines = [
            f"⚠️ Reload failed after {seconds:.2f} s: {escape(_clip(error or 'unknown error', 500))}",
            f"Still answering from the previous index ({before[0]} articles, {before[1]} passages).",
        ]
    if coalesced:
        lines.append("(A reload was already running; this request joined it.)")
    if skipped:
        lines.append(f"Skipped {len(skipped)} file{'s' if len(skipped) != 1 else ''}:")
        for path, reason in skipped[:10]:
            lines.append(f"• <code>{escape(_clip(path, 120))}</code>: {escape(_clip(reason, 200))}")
        if len(skipped) > 10:
            lines.append(f"… and {len(skipped) - 10} more")
    return _clip_html_lines(lines, TELEGRAM_LIMIT)
