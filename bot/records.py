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
from itertools import accumulate
from typing import Any, NamedTuple, cast

import numpy as np
import zstandard

from bot.articles import Article
from bot.columns import ArraySequence, _int_view
from bot.passages import Passage

_META = ("id", "title", "author", "source", "url", "published", "lang", "path")
_PUBLISHED, _LANG = _META.index("published"), _META.index("lang")
_parse_json = json.JSONDecoder().raw_decode  # a metadata frame: a JSON list as ArticleWriter wrote it
_ZSTD_LEVEL = 3
_DICT_BYTES = 64 << 10  # a trained dictionary's size
_TRAIN_FRAMES = 4000  # frames held back to train the dictionary on (fewer: all of a small corpus)
_TRAIN_MIN_BYTES = 128 << 10  # less sample text than this: no dictionary (it would not pay)


@lru_cache(maxsize=1 << 16)  # (dates repeat: a news archive has a few thousand days)
def date_ordinal(published: str | None) -> int:
    """A sortable day number for an ISO date ('2019-12-09...'); 0 for none or anything else."""
    if not published:
        return 0
    try:
        return dt.date.fromisoformat(published[:10]).toordinal()
    except ValueError:
        return 0


def _encoder() -> Callable[[Any], str]:
    """json.dumps(value, ensure_ascii=False) of a metadata frame's list (strings, ints, None, lists and a
    dict of them), without making an encoder each call: CPython's C encoder, as json.dumps uses it."""
    plain = json.JSONEncoder(ensure_ascii=False)
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is None:
        return plain.encode
    try:
        encode = make(None, plain.default, json.encoder.encode_basestring, None, ": ", ", ", False, False, True)
        sample = ['é"\\\n\u2028', 12, None, [3, 4], {"gaps": ["", "\n\n"]}]
        if "".join(encode(sample, 0)) != plain.encode(sample):
            return plain.encode
    except TypeError:  # (another Python's private signature)
        return plain.encode
    return lambda value: "".join(encode(value, 0))


_json = _encoder()


class FrameWriter:
    """Byte strings -> zstd frames handed to `write` as they come; the first `_TRAIN_FRAMES` are held back
    until the dictionary is trained on them. `finish()` gives the offsets and the dictionary.

    Frames may also come compressed already (`add_batch`), by a worker process that was given `zdict`."""

    def __init__(self, write: Callable[[bytes], Any]):
        self.write = write
        self.offsets = array.array("q", [0])
        self._held: list[bytes] | None = []
        self._held_bytes = 0
        self._zdict = b""
        self._compress: Callable[[bytes], bytes] = bytes

    @property
    def zdict(self) -> bytes | None:
        """The dictionary frames are compressed with (b"": none) once it is chosen; None until then."""
        return None if self._held is not None else self._zdict

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

    def add_batch(self, blob: bytes, sizes: Sequence[int], packed: bool) -> None:
        """Frames one after another in `blob`, `sizes` bytes each: compressed with `zdict` (`packed`, as
        `encode_frames` does), else raw (compressed here, or held back for the training)."""
        if packed:
            if self._held is not None:
                raise ValueError("compressed frames before the dictionary was chosen")
            self.write(blob)
            _extend_sums(self.offsets, sizes)
            return
        pos = 0
        raws = []
        for n in sizes:
            raws.append(blob[pos : pos + n])
            pos += n
        if self._held is None:
            self.add_batch(*encode_frames(raws, self._zdict))
        else:
            for raw in raws:
                self.add(raw)

    def _release(self) -> None:
        held, self._held = self._held or [], None
        if self._held_bytes >= _TRAIN_MIN_BYTES and len(held) >= 64:
            try:
                zdict = zstandard.train_dictionary(_DICT_BYTES, cast(Any, held), k=1024, d=8, level=_ZSTD_LEVEL)
                self._zdict = zdict.as_bytes()
            except zstandard.ZstdError:
                pass  # too little or too uniform text: plain frames
        self._compress = _compressor(self._zdict).compress
        for raw in held:
            self.add(raw)

    def finish(self) -> tuple[np.ndarray, np.ndarray]:
        if self._held is not None:
            self._release()
        return np.frombuffer(self.offsets, dtype=np.int64).copy(), np.frombuffer(self._zdict, dtype=np.uint8).copy()


def _extend_sums(ends: array.array, sizes: Sequence[int]) -> None:
    """Append to `ends` (running totals: offsets, first passages) the totals after each of `sizes`."""
    sums = accumulate(sizes, initial=ends[-1])
    next(sums)  # (the initial total is there already)
    ends.extend(sums)


@lru_cache(maxsize=4)
def _compressor(zdict: bytes) -> zstandard.ZstdCompressor:
    """The compressor of frames with dictionary `zdict` (b"": none): in a worker process as in the main one,
    the same frames (a dictionary read from its bytes compresses as the one training returned)."""
    d = zstandard.ZstdCompressionDict(zdict) if zdict else None
    return zstandard.ZstdCompressor(level=_ZSTD_LEVEL, dict_data=d, write_checksum=False, write_dict_id=False)


def encode_frames(raws: Sequence[bytes], zdict: bytes | None) -> tuple[bytes, list[int], bool]:
    """Byte strings as FrameWriter.add_batch takes them: compressed with `zdict` when it is chosen (not
    None), else raw."""
    if zdict is not None:
        raws = [*map(_compressor(zdict).compress, raws)]
    return b"".join(raws), [*map(len, raws)], zdict is not None


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


class Records(NamedTuple):
    """A batch of articles as frames (`encode_records`), for ArticleWriter.add_records."""

    meta: tuple[bytes, list[int], bool]  # the metadata frames (FrameWriter.add_batch's arguments)
    texts: tuple[bytes, list[int], bool]  # the passage-text frames
    dates: list[int]  # each article's date_ordinal
    counts: list[int]  # each article's passages


def meta_values(a: Article) -> list[Any]:
    """The metadata an article's frame keeps (`_META`), in order."""
    return [getattr(a, f) for f in _META]


def encode_records(
    metas: Sequence[list[Any]],
    lengths: Sequence[list[int]],
    texts: Sequence[str],
    spans: Sequence[Sequence[tuple[int, int]]],
    zdicts: tuple[bytes | None, bytes | None] = (None, None),
    langs: Sequence[str | None] | None = None,
) -> Records:
    """Articles' frames: each one's `meta_values`, paragraph lengths, text (`Article.text`) and passage
    spans in it; compressed with `zdicts` (the writer's FrameWriter.zdict of each stream) when given;
    `langs`: the articles' languages, when they were not known in `metas`. A worker process makes them as
    the main process would (`bot.shard`)."""
    if langs is not None:
        metas = [[*values[:_LANG], lang, *values[_LANG + 1 :]] for values, lang in zip(metas, langs)]
    meta: list[bytes] = []
    passages: list[bytes] = []
    for values, ls, text, sp in zip(metas, lengths, texts, spans):
        gaps: list[str] = []
        pos = 0
        for start, end in sp:
            if start < pos or end < start:
                break  # not in order: the meta frame keeps the whole text instead
            gaps.append(text[pos:start])
            pos = end
        else:
            gaps.append(text[pos:])
        rebuild = {"gaps": gaps} if len(gaps) == len(sp) + 1 else {"text": text}
        meta.append(_json([*values, ls, rebuild]).encode())
        for start, end in sp:
            passages.append(text[start:end].encode())
    dates = [date_ordinal(values[_PUBLISHED]) for values in metas]
    return Records(encode_frames(meta, zdicts[0]), encode_frames(passages, zdicts[1]), dates, [*map(len, spans)])


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

    @property
    def zdicts(self) -> tuple[bytes | None, bytes | None]:
        """The two streams' dictionaries, once chosen (`encode_records` compresses with them)."""
        return self.meta.zdict, self.texts.zdict

    def add(self, a: Article, spans: Sequence[tuple[int, int]], text: str | None = None) -> None:
        """One article and its passages' spans in its text (`text`: `a.text`, when the caller has it)."""
        text = a.text if text is None else text
        self.add_records(encode_records([meta_values(a)], [[len(p) for p in a.paragraphs]], [text], [spans]))

    def add_records(self, r: Records) -> None:
        """Articles encoded by `encode_records` (with this writer's `zdicts` of then, or none)."""
        self.meta.add_batch(*r.meta)
        self.texts.add_batch(*r.texts)
        self.dates.extend(r.dates)
        _extend_sums(self.first, r.counts)

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
