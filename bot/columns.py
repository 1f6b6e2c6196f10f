"""Compact, memory-mappable forms of an index's parts: passages, articles and the vocabulary.

A million Python objects take seconds to create and hundreds of MB; these are a few numpy arrays each,
which `bot.store` writes as .npy files and maps back in no time. Each is a read-only Sequence (or Mapping)
that makes the Python object on access.

- `PassageTable`: five int32 columns.
- `ArticleStore`: one zstd-compressed JSON record per article (a dictionary trained on the corpus' first
  records makes short articles compress ~2x), decoded on access, plus a column of publication dates so
  that "newest first" needs no decoding. `ArticleWriter` writes them as articles stream in.
- `SortedVocabulary`: terms sorted by their UTF-8 bytes, searched with np.searchsorted (a dict of a
  million terms would take seconds to rebuild at every start).
"""

from __future__ import annotations

import array
import datetime as dt
import json
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import fields
from typing import Any, cast

import numpy as np
import zstandard

from bot.articles import Article
from bot.passages import Passage


class _ArraySequence(Sequence):
    """A read-only sequence over arrays: slices, negative indices and bounds here, `_item` in each."""

    NAME = "item"

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [self._item(j) for j in range(*i.indices(len(self)))]
        if i < 0:
            i += len(self)
        if not 0 <= i < len(self):
            raise IndexError(f"{self.NAME} index out of range")
        return self._item(i)

    def _item(self, i: int):
        raise NotImplementedError


# --- passages ----------------------------------------------------------------------------------------


class PassageTable(_ArraySequence):
    """The passages as five int32 columns; `Passage` objects are made on access."""

    COLUMNS = ("article", "index", "count", "start", "end")
    NAME = "passage"

    def __init__(self, article: np.ndarray, index: np.ndarray, count: np.ndarray, start: np.ndarray, end: np.ndarray):
        # (`index` and `count` are Sequence methods: the columns live in a dict)
        self.cols = dict(zip(self.COLUMNS, (article, index, count, start, end)))
        self.article, self.start, self.end = article, start, end

    @classmethod
    def from_passages(cls, passages: Sequence[Passage]) -> PassageTable:
        builder = PassageTableBuilder()
        builder.extend(passages)
        return builder.table()

    def columns(self) -> dict[str, np.ndarray]:
        return {c: np.asarray(a) for c, a in self.cols.items()}

    def __len__(self) -> int:
        return len(self.article)

    def _item(self, i: int) -> Passage:
        return Passage(*(int(a[i]) for a in self.cols.values()))

    def __iter__(self) -> Iterator[Passage]:
        cols = [np.asarray(a).tolist() for a in self.cols.values()]
        return (Passage(*row) for row in zip(*cols))

    def __eq__(self, other) -> bool:
        if isinstance(other, PassageTable):
            return all(np.array_equal(self.cols[c], other.cols[c]) for c in self.COLUMNS)
        if isinstance(other, Sequence):
            return len(self) == len(other) and all(a == b for a, b in zip(self, other))
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]


class PassageTableBuilder:
    """Collects passages column by column (array('i')) while a corpus is built."""

    def __init__(self) -> None:
        self.cols = [array.array("i") for _ in PassageTable.COLUMNS]

    def extend(self, passages: Sequence[Passage]) -> None:
        a, i, c, s, e = self.cols
        for p in passages:
            a.append(p.article)
            i.append(p.index)
            c.append(p.count)
            s.append(p.start)
            e.append(p.end)

    def __len__(self) -> int:
        return len(self.cols[0])

    def table(self) -> PassageTable:
        return PassageTable(
            *(np.frombuffer(c, dtype=np.int32).copy() if len(c) else np.zeros(0, np.int32) for c in self.cols)
        )


# --- articles -----------------------------------------------------------------------------------------

# What a record holds, in order: the Article's fields (paragraphs last).
_FIELDS = ("id", "title", "author", "source", "url", "published", "lang", "path", "paragraphs")
_ZSTD_LEVEL = 3
_DICT_BYTES = 64 << 10  # the trained dictionary's size
_TRAIN_RECORDS = 4000  # records buffered to train the dictionary on (fewer: all of a small corpus)
_TRAIN_MIN_BYTES = 256 << 10  # less sample text than this: no dictionary (it would not pay)


def date_ordinal(published: str | None) -> int:
    """A sortable day number for an ISO date ('2019-12-09...'); 0 for none or anything else."""
    if not published:
        return 0
    try:
        return dt.date.fromisoformat(published[:10]).toordinal()
    except ValueError:
        return 0


class ArticleWriter:
    """Articles -> compressed records, handed to `write` as they come (nothing else is kept but offsets):
    a bytearray's extend, or the write of a file stream of `bot.store`.

    The first records are held back until the zstd dictionary is trained on them (`_TRAIN_RECORDS`).
    `finish()` gives the small arrays: offsets, dates and the dictionary.
    """

    def __init__(self, write: Callable[[bytes], Any]):
        self.write = write
        self.offsets = array.array("q", [0])
        self.dates = array.array("i")
        self._held: list[bytes] | None = []  # raw records waiting for the dictionary
        self._held_bytes = 0
        self._zdict = b""
        self._compress: Any = None

    def __len__(self) -> int:
        return len(self.dates)

    def add(self, a: Article) -> None:
        raw = json.dumps([getattr(a, f) for f in _FIELDS], ensure_ascii=False).encode("utf-8", "surrogatepass")
        self.dates.append(date_ordinal(a.published))
        if self._held is not None:
            self._held.append(raw)
            self._held_bytes += len(raw)
            if len(self._held) >= _TRAIN_RECORDS:
                self._release()
            return
        self._put(self._compress(raw))

    def _put(self, frame: bytes) -> None:
        self.write(frame)
        self.offsets.append(self.offsets[-1] + len(frame))

    def _release(self) -> None:
        """Train the dictionary on the held records (when there is enough text), then write them."""
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
            self._put(self._compress(raw))

    def finish(self) -> dict[str, np.ndarray]:
        if self._held is not None:
            self._release()
        return {
            "art_off": np.frombuffer(self.offsets, dtype=np.int64).copy(),
            "art_date": np.frombuffer(self.dates, dtype=np.int32).copy() if len(self.dates) else np.zeros(0, np.int32),
            "art_zdict": np.frombuffer(self._zdict, dtype=np.uint8).copy(),
        }


class StoredArticle(Article):
    """An Article decoded from the store (a plain Article in every way but its type)."""

    def __eq__(self, other):
        if not isinstance(other, Article):
            return NotImplemented
        return all(getattr(self, f.name) == getattr(other, f.name) for f in fields(Article))

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"StoredArticle(id={self.id!r}, title={self.title!r})"

    def __reduce__(self):  # pickles (and copies) as a plain Article
        return (Article, tuple(getattr(self, f.name) for f in fields(Article)))


class ArticleStore(_ArraySequence):
    """The articles, decoded on access from their compressed records (a small cache keeps recent ones)."""

    CACHE = 4096  # articles kept decoded
    NAME = "article"

    def __init__(self, records: np.ndarray, offsets: np.ndarray, dates: np.ndarray, zdict: np.ndarray):
        self.records, self.offsets, self.dates, self.zdict = records, offsets, dates, zdict
        self._dict = zstandard.ZstdCompressionDict(zdict.tobytes()) if len(zdict) else None
        self._local = threading.local()  # a decompressor per thread (they are not thread-safe)
        self._cache: OrderedDict[int, StoredArticle] = OrderedDict()
        self._lock = threading.Lock()

    def arrays(self) -> dict[str, np.ndarray]:
        return {"art_rec": self.records, "art_off": self.offsets, "art_date": self.dates, "art_zdict": self.zdict}

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def _item(self, i: int) -> StoredArticle:
        with self._lock:
            a = self._cache.get(i)
            if a is not None:
                self._cache.move_to_end(i)
                return a
        a = self._decode(i)
        with self._lock:
            self._cache[i] = a
            if len(self._cache) > self.CACHE:
                self._cache.popitem(last=False)
        return a

    def __iter__(self) -> Iterator[Article]:
        for i in range(len(self)):
            yield self[i]

    def _decode(self, i: int) -> StoredArticle:
        d = getattr(self._local, "d", None)
        if d is None:
            d = self._local.d = zstandard.ZstdDecompressor(dict_data=self._dict)
        a, b = int(self.offsets[i]), int(self.offsets[i + 1])
        values = json.loads(d.decompress(self.records[a:b].tobytes()).decode("utf-8", "surrogatepass"))
        art = StoredArticle.__new__(StoredArticle)
        art.__dict__.update(zip(_FIELDS, values))
        return art

    @classmethod
    def from_articles(cls, articles: Sequence[Article]) -> ArticleStore:
        records = bytearray()
        writer = ArticleWriter(records.extend)
        for a in articles:
            writer.add(a)
        parts = writer.finish()
        return cls(
            np.frombuffer(bytes(records), dtype=np.uint8), parts["art_off"], parts["art_date"], parts["art_zdict"]
        )


# --- the vocabulary --------------------------------------------------------------------------------------

_UNSEEN = object()


class SortedVocabulary(Mapping):
    """term -> id over terms sorted by their UTF-8 bytes: binary search instead of a dict.

    `keys` holds each term's first `width` bytes (numpy 'S' array, searchsorted); terms longer than that
    are told apart by their full bytes in `blob[offsets[i]:offsets[i+1]]`.
    """

    def __init__(self, keys: np.ndarray, ids: np.ndarray, blob: np.ndarray, offsets: np.ndarray):
        self.heads, self.ids, self.blob, self.offsets = keys, ids, blob, offsets  # (`keys` is a Mapping method)
        self.width = keys.dtype.itemsize
        self._memo: dict[str, int | None] = {}

    @staticmethod
    def encode(vocab: Mapping[str, int]) -> dict[str, np.ndarray]:
        """The arrays of a term -> id mapping (ids 0..n-1). Sorted by the first `width` bytes only:
        terms sharing them are told apart at look-up by their full bytes, in any order."""
        n = len(vocab)
        terms = list(vocab)
        if any(vocab[t] != i for i, t in enumerate(terms)):  # not in id order (a dict built otherwise)
            terms = sorted(terms, key=vocab.__getitem__)
        encoded = [t.encode("utf-8", "surrogatepass") for t in terms]
        longest = max(map(len, encoded), default=1)
        width = max(1, min(longest, 32))
        heads = np.array(encoded, dtype=f"S{width}") if n else np.zeros(0, dtype=f"S{width}")
        order = np.argsort(heads, kind="stable")
        lengths = np.fromiter(map(len, encoded), dtype=np.int64, count=n)[order]
        offsets = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(lengths, out=offsets[1:])
        blob = b"".join([encoded[i] for i in order.tolist()])
        return {
            "vocab_keys": heads[order],
            "vocab_ids": order.astype(np.int32),
            "vocab_blob": np.frombuffer(blob, dtype=np.uint8).copy(),
            "vocab_off": offsets,
        }

    def get(self, term: str, default=None):
        memo = self._memo
        tid = memo.get(term, _UNSEEN)
        if tid is _UNSEEN:
            tid = self._find(term)
            if len(memo) > 100_000:
                memo.clear()
            memo[term] = tid
        return default if tid is None else tid

    def _find(self, term: str) -> int | None:
        q = term.encode("utf-8", "surrogatepass")
        if not q or b"\0" in q:
            return None
        head = q[: self.width]
        i = int(np.searchsorted(self.heads, head))
        n = len(self.heads)
        while i < n and self.heads[i] == head:
            if len(q) < self.width or self.blob[self.offsets[i] : self.offsets[i + 1]].tobytes() == q:
                return int(self.ids[i])
            i += 1
        return None

    def __getitem__(self, term: str) -> int:
        tid = self.get(term)
        if tid is None:
            raise KeyError(term)
        return tid

    def __contains__(self, term) -> bool:
        return isinstance(term, str) and self.get(term) is not None

    def __len__(self) -> int:
        return len(self.ids)

    def __iter__(self) -> Iterator[str]:
        blob, off = self.blob, self.offsets
        for i in range(len(self.ids)):
            yield blob[off[i] : off[i + 1]].tobytes().decode("utf-8", "surrogatepass")
