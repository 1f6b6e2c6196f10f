"""The articles in the persisted index: small zstd frames, each decodable on its own.

Two streams of frames, each compressed with a dictionary trained on its first frames (short records
compress ~2x better with one):

- one frame per passage: its text, exactly `article.text[start:end]`. A question reads the texts of its
  top passages only (`ArticleStore.passage_text`), not their whole articles;
- one frame per article: its metadata (JSON) and what rebuilds its text from its passages' texts: the
  paragraph lengths and the strings between passages (usually "" and "\\n\\n").

Plus two columns: each article's first passage, and its publication date as a day number (so "newest
first" decodes nothing). `ArticleWriter` writes the frames as articles stream in; `ArticleStore` reads them.
"""

from __future__ import annotations

import array
import datetime as dt
import json
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import fields
from functools import lru_cache, partial
from typing import Any, cast

import numpy as np
import zstandard

from bot.articles import Article
from bot.columns import ArraySequence, _int_view
from bot.passages import Passage

_META = ("id", "title", "author", "source", "url", "published", "lang", "path")
_parse_json = json.JSONDecoder().raw_decode  # a metadata frame: a JSON list as ArticleWriter wrote it
_ZSTD_LEVEL = 3
_DICT_BYTES = 64 << 10  # a trained dictionary's size
_TRAIN_FRAMES = 4000  # frames held back to train the dictionary on (fewer: all of a small corpus)
_TRAIN_MIN_BYTES = 128 << 10  # less sample text than this: no dictionary (it would not pay)


def date_ordinal(published: str | None) -> int:
    """A sortable day number for an ISO date ('2019-12-09...'); 0 for none or anything else."""
    if not published:
        return 0
    try:
        return dt.date.fromisoformat(published[:10]).toordinal()
    except ValueError:
        return 0


class FrameWriter:
    """Byte strings -> zstd frames handed to `write` as they come; the first `_TRAIN_FRAMES` are held back
    until the dictionary is trained on them. `finish()` gives the offsets and the dictionary."""

    def __init__(self, write: Callable[[bytes], Any]):
        self.write = write
        self.offsets = array.array("q", [0])
        self._held: list[bytes] | None = []
        self._held_bytes = 0
        self._zdict = b""
        self._compress: Callable[[bytes], bytes] = bytes

    def add(self, raw: bytes) -> None:
        if self._held is None:
            frame = self._compress(raw)
            self.write(frame)
            self.offsets.append(self.offsets[-1] + len(frame))
            return
        self._held.append(raw)
        self._held_bytes += len(raw)
        if len(self._held) >= _TRAIN_FRAMES:
            self._release()

    def _release(self) -> None:
        held, self._held = self._held or [], None
        zdict = None
        if self._held_bytes >= _TRAIN_MIN_BYTES and len(held) >= 64:
            try:
                zdict = zstandard.train_dictionary(_DICT_BYTES, cast(Any, held), k=1024, d=8, level=_ZSTD_LEVEL)
                self._zdict = zdict.as_bytes()
            except zstandard.ZstdError:
                zdict = None  # too little or too uniform text: plain frames
        c = zstandard.ZstdCompressor(level=_ZSTD_LEVEL, dict_data=zdict, write_checksum=False, write_dict_id=False)
        self._compress = c.compress
        for raw in held:
            self.add(raw)

    def finish(self) -> tuple[np.ndarray, np.ndarray]:
        if self._held is not None:
            self._release()
        return np.frombuffer(self.offsets, dtype=np.int64).copy(), np.frombuffer(self._zdict, dtype=np.uint8).copy()


class FrameReader:
    """The frames written by FrameWriter: `get(i)` decompresses frame i (thread-safe)."""

    def __init__(self, blob: np.ndarray, offsets: np.ndarray, zdict: np.ndarray):
        self.blob, self.offsets, self.zdict = blob, offsets, zdict
        self._dict = zstandard.ZstdCompressionDict(zdict.tobytes()) if len(zdict) else None
        self._local = threading.local()  # a decompressor per thread (they are not thread-safe)
        # read through memoryviews: a frame's bounds are Python ints at once, and its bytes are not copied
        self._blob = np.ascontiguousarray(blob, dtype=np.uint8).reshape(-1).data
        self._offsets = _int_view(offsets)

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def get(self, i: int) -> bytes:
        d = getattr(self._local, "d", None)
        if d is None:
            d = self._local.d = zstandard.ZstdDecompressor(dict_data=self._dict)
        offsets = self._offsets
        return d.decompress(self._blob[offsets[i] : offsets[i + 1]])


class ArticleWriter:
    """Articles and their passages -> frames, written as they come (only offsets and columns are kept).

    `write_meta` and `write_text` take the bytes of the two streams: a bytearray's extend, or the write of
    a file stream of `bot.generations`.
    """

    def __init__(self, write_meta: Callable[[bytes], Any], write_text: Callable[[bytes], Any]):
        self.meta = FrameWriter(write_meta)
        self.texts = FrameWriter(write_text)
        self.dates = array.array("i")
        self.first = array.array("q", [0])  # each article's first passage

    def __len__(self) -> int:
        return len(self.dates)

    def add(self, a: Article, spans: Sequence[tuple[int, int]], text: str | None = None) -> None:
        """One article and its passages' spans in its text (`text`: `a.text`, when the caller has it)."""
        text = a.text if text is None else text
        gaps: list[str] = []
        pos = 0
        for start, end in spans:
            if start < pos or end < start:
                break  # not in order: the meta frame keeps the whole text instead
            gaps.append(text[pos:start])
            pos = end
        else:
            gaps.append(text[pos:])
        rebuild = {"gaps": gaps} if len(gaps) == len(spans) + 1 else {"text": text}
        meta = [getattr(a, f) for f in _META] + [[len(p) for p in a.paragraphs], rebuild]
        self.meta.add(json.dumps(meta, ensure_ascii=False).encode())
        for start, end in spans:
            self.texts.add(text[start:end].encode())
        self.dates.append(date_ordinal(a.published))
        self.first.append(self.first[-1] + len(spans))

    def finish(self) -> dict[str, np.ndarray]:
        """The arrays other than the two streams (art_rec, p_rec)."""
        art_off, art_zdict = self.meta.finish()
        p_off, p_zdict = self.texts.finish()
        dates = np.frombuffer(self.dates, dtype=np.int32).copy() if len(self.dates) else np.zeros(0, np.int32)
        first = np.frombuffer(self.first, dtype=np.int64).copy()
        return {"art_off": art_off, "art_zdict": art_zdict, "art_date": dates, "art_first": first,
                "p_off": p_off, "p_zdict": p_zdict}  # fmt: skip


class StoredArticle(Article):
    """An Article decoded from the store: metadata at once, paragraphs on first use (then kept)."""

    def __init__(self, *args, **kwargs):  # for dataclasses.replace & co: a plain, eager article
        super().__init__(*args, **kwargs)

    @property
    def paragraphs(self) -> list[str]:
        d = self.__dict__
        if "_paragraphs" not in d:
            d["_paragraphs"] = d.pop("_loader")()
        return d["_paragraphs"]

    @paragraphs.setter
    def paragraphs(self, value: list[str]) -> None:
        self.__dict__["_paragraphs"] = value
        self.__dict__.pop("_loader", None)

    def __eq__(self, other):
        if not isinstance(other, Article):
            return NotImplemented
        return all(getattr(self, f.name) == getattr(other, f.name) for f in fields(Article))

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"StoredArticle(id={self.id!r}, title={self.title!r})"

    def __reduce__(self):  # pickles (and copies) as a plain, complete Article
        return (Article, tuple(getattr(self, f.name) for f in fields(Article)))


class ArticleStore(ArraySequence):
    """The articles, decoded on access (a small cache keeps the recent ones); passage texts on their own."""

    CACHE = 4096  # articles kept decoded
    NAME = "article"

    def __init__(self, a: dict[str, np.ndarray]):
        self.parts = {k: a[k] for k in ARRAYS}
        self.meta = FrameReader(a["art_rec"], a["art_off"], a["art_zdict"])
        self.texts = FrameReader(a["p_rec"], a["p_off"], a["p_zdict"])
        self.dates, self.first = a["art_date"], a["art_first"]
        # the recently used articles, decoded (functools' LRU cache: in C, thread-safe)
        self._cached = lru_cache(maxsize=self.CACHE)(self._decode)
        self._n = len(self.dates)

    def __getitem__(self, i):
        if type(i) is int and 0 <= i < self._n:  # (the usual case, without ArraySequence's general checks)
            return self._cached(i)
        return super().__getitem__(i)

    def arrays(self) -> dict[str, np.ndarray]:
        return dict(self.parts)

    def __len__(self) -> int:
        return len(self.dates)

    def passage_text(self, pid: int) -> str:
        """The text of passage `pid` (its article's text[start:end]), decoding nothing else."""
        return self.texts.get(pid).decode()

    def _item(self, i: int) -> StoredArticle:
        return self._cached(i)

    def __iter__(self) -> Iterator[Article]:
        for i in range(len(self)):
            yield self[i]

    def _decode(self, i: int) -> StoredArticle:
        # (what json.loads does, without its checks of the encoding and of white space around the value)
        values = _parse_json(self.meta.get(i).decode("utf-8", "surrogatepass"))[0]
        art = StoredArticle.__new__(StoredArticle)
        d = art.__dict__
        d.update(zip(_META, values))
        d["_loader"] = partial(self._paragraphs, i, values[len(_META)], values[len(_META) + 1])
        return art

    def _paragraphs(self, i: int, lengths: list[int], rebuild: dict) -> list[str]:
        text = rebuild.get("text")
        if text is None:
            gaps = rebuild["gaps"]
            parts = [gaps[0]]
            for n, pid in enumerate(range(int(self.first[i]), int(self.first[i + 1])), start=1):
                parts += [self.passage_text(pid), gaps[n]]
            text = "".join(parts)
        out, pos = [], 0
        for n in lengths:
            out.append(text[pos : pos + n])
            pos += n + 2  # the "\n\n" of Article.text
        return out

    @classmethod
    def from_articles(cls, articles: Sequence[Article], passages: Sequence[Passage]) -> ArticleStore:
        """The store of articles held in memory, with their passages (in article order)."""
        meta, texts = bytearray(), bytearray()
        writer = ArticleWriter(meta.extend, texts.extend)
        by_article: list[list[Passage]] = [[] for _ in articles]
        for p in passages:
            by_article[p.article].append(p)
        for a, ps in zip(articles, by_article):
            writer.add(a, [(p.start, p.end) for p in ps])
        parts = writer.finish()
        parts["art_rec"] = np.frombuffer(bytes(meta), dtype=np.uint8)
        parts["p_rec"] = np.frombuffer(bytes(texts), dtype=np.uint8)
        return cls(parts)


ARRAYS = ("art_rec", "art_off", "art_zdict", "art_date", "art_first", "p_rec", "p_off", "p_zdict")
