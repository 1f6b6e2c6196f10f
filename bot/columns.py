"""Compact, memory-mappable forms of an index's parts: the passages and the vocabulary.

A million Python objects take seconds to create and hundreds of MB; these are a few numpy arrays each,
which `bot.store` writes as .npy files and maps back in no time. Each is a read-only Sequence (or Mapping)
that makes the Python object on access. (The articles are `bot.records`'.)

- `PassageTable`: five int32 columns.
- `SortedVocabulary`: terms sorted by their UTF-8 bytes, searched with np.searchsorted (a dict of a
  million terms would take seconds to rebuild at every start).
"""

from __future__ import annotations

import array
from collections.abc import Iterator, Mapping, Sequence
from itertools import chain

import numpy as np

from bot.passages import Passage


class ArraySequence(Sequence):
    """A read-only sequence over arrays: slices, negative indices and bounds here; `_n` (the length, set once)
    and `_item` in each."""

    NAME = "item"
    _n: int

    def __getitem__(self, i):
        if type(i) is int and 0 <= i < self._n:  # (the usual case first, without the general checks)
            return self._item(i)
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


class PassageTable(ArraySequence):
    """The passages as five int32 columns; `Passage` objects are made on access."""

    COLUMNS = ("article", "index", "count", "start", "end")
    NAME = "passage"

    def __init__(self, article: np.ndarray, index: np.ndarray, count: np.ndarray, start: np.ndarray, end: np.ndarray):
        # (`index` and `count` are Sequence methods: the columns live in a dict)
        self.cols = dict(zip(self.COLUMNS, (article, index, count, start, end)))
        self.article, self.start, self.end = article, start, end
        self._n = len(article)
        # the rows are read through memoryviews: an item is a Python int at once (numpy makes a scalar first)
        self._rows = tuple(_int_view(a) for a in self.cols.values())

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
        # the frozen dataclass's __init__ sets each field through object.__setattr__ (~0.8 us); its slots set
        # directly give the same Passage in ~0.5 (tests/test_passage_table.py compares them)
        a, x, c, s, e = self._rows
        p = _new(Passage)
        _set_article(p, a[i])
        _set_index(p, x[i])
        _set_count(p, c[i])
        _set_start(p, s[i])
        _set_end(p, e[i])
        return p

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


_new = object.__new__
# Passage's slots, in its fields' order
_set_article, _set_index, _set_count, _set_start, _set_end = (Passage.__dict__[f].__set__ for f in PassageTable.COLUMNS)


def _int_view(a: np.ndarray) -> memoryview:
    """A one-dimensional integer array as a memoryview (native byte order: a copy if need be)."""
    a = np.asarray(a)
    if a.ndim != 1 or a.dtype.kind not in "iu" or not a.dtype.isnative:
        a = np.asarray(a, dtype=np.int64).reshape(-1)
    return a.data


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

    def add(self, article: int, spans: Sequence[tuple[int, int]]) -> None:
        """The passages of one article, from their spans in its text."""
        a, i, c, s, e = self.cols
        n = len(spans)
        a.extend([article] * n)
        i.extend(range(n))
        c.extend([n] * n)
        for start, end in spans:
            s.append(start)
            e.append(end)

    def add_many(self, first: int, spans: Sequence[Sequence[tuple[int, int]]]) -> None:
        """`add` of articles `first`, `first + 1`, ... with these passages' spans, all at once."""
        counts = np.fromiter(map(len, spans), dtype=np.int32, count=len(spans))
        total = int(counts.sum())
        bounds = np.fromiter(chain.from_iterable(chain.from_iterable(spans)), dtype=np.int32, count=2 * total)
        starts = (np.cumsum(counts) - counts).astype(np.int32)
        a, i, c, s, e = self.cols
        a.frombytes(np.repeat(np.arange(first, first + len(spans), dtype=np.int32), counts).tobytes())
        i.frombytes((np.arange(total, dtype=np.int32) - np.repeat(starts, counts)).tobytes())
        c.frombytes(np.repeat(counts, counts).tobytes())
        s.frombytes(bounds[0::2].tobytes())
        e.frombytes(bounds[1::2].tobytes())

    def __len__(self) -> int:
        return len(self.cols[0])

    def table(self) -> PassageTable:
        return PassageTable(
            *(np.frombuffer(c, dtype=np.int32).copy() if len(c) else np.zeros(0, np.int32) for c in self.cols)
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

    @classmethod
    def from_arrays(cls, a: dict[str, np.ndarray]) -> SortedVocabulary:
        """The vocabulary of `encode`'s arrays."""
        return cls(a["vocab_keys"], a["vocab_ids"], a["vocab_blob"], a["vocab_off"])

    @staticmethod
    def encode(vocab: Mapping[str, int]) -> dict[str, np.ndarray]:
        """The arrays of a term -> id mapping (ids 0..n-1). Sorted by the first `width` bytes only:
        terms sharing them are told apart at look-up by their full bytes, in any order."""
        terms = list(vocab)
        if any(vocab[t] != i for i, t in enumerate(terms)):  # not in id order (a dict built otherwise)
            terms = sorted(terms, key=vocab.__getitem__)
        return SortedVocabulary.encode_terms(terms)

    @staticmethod
    def encode_terms(terms: Sequence[str]) -> dict[str, np.ndarray]:
        """`encode` of the mapping of `terms[i]` to i (the build's vocabulary, in id order)."""
        n = len(terms)
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

    def get_many(self, terms: Sequence[str]) -> list[int | None]:
        """The ids of many terms (None where absent) with one vectorized search: the few hundred candidate
        spellings of a question's unknown word (`bot.spelling`) in well under a millisecond."""
        if not len(self.heads) or not terms:
            return [None] * len(terms)
        encoded = [t.encode("utf-8", "surrogatepass") for t in terms]
        heads = np.array(encoded, dtype=self.heads.dtype)  # cut to the first `width` bytes, as stored
        at = np.minimum(np.searchsorted(self.heads, heads), len(self.heads) - 1)
        out: list[int | None] = [None] * len(terms)
        for k in np.flatnonzero(self.heads[at] == heads).tolist():
            out[k] = self._find(terms[k])  # a head matched: the full bytes decide (rare, cheap)
        return out

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
