"""Each passage's sentence spans, worked out once at build time and kept with the index, so that answering a
question does not split its hits' passages into sentences again (`Engine.ask`: it was the largest single
stage after ranking).

The spans of a passage are `sentence_spans(passage text, lang=its article's language)`, relative to the
passage's start, stored as uint16 values, one entry a passage (`values[off[i]:off[i + 1]]`):

- compact (nearly every passage: its sentences start at 0, one space apart, the last ends where the text's
  trailing white space begins): the ends of all sentences but the last; an empty entry is one sentence;
- FULL, then start and end of every sentence (any other spans, none included);
- NOT_KEPT alone: a passage too long for uint16 positions; its spans are worked out when asked for.

A compact entry's first value is below LIMIT, so the three forms cannot be confused.
"""

from __future__ import annotations

import array
from collections.abc import Sequence
from itertools import chain

import numpy as np

from bot.columns import _int_view
from bot.sentences import sentence_spans

FULL = 0xFFFF
NOT_KEPT = 0xFFFE
LIMIT = 0xFFFE  # passages shorter than this have their spans kept (every position < LIMIT)
VALUES, OFFSETS = "sent_values", "sent_off"  # the arrays' names among an engine's extras


def encode(text: str, spans: Sequence[tuple[int, int]]) -> list[int]:
    """The entry of a passage `text` whose sentence spans are `spans`."""
    if len(text) >= LIMIT:
        return [NOT_KEPT]
    flat = list(chain.from_iterable(spans))  # [s0, e0, s1, e1, ...]
    if flat and flat[0] == 0 and flat[-1] == len(text.rstrip()):
        ends = flat[1:-1:2]
        if flat[2::2] == [e + 1 for e in ends]:
            return ends
    return [FULL, *flat]


def encode_passages(pieces: Sequence[str], langs: Sequence[str | None]) -> tuple[np.ndarray, np.ndarray]:
    """The entries of passages (their texts and languages), concatenated as uint16, and each one's length
    (int32): what a build's analysis shard sends back with a batch."""
    values = array.array("H")
    lens = array.array("i")
    for text, lang in zip(pieces, langs):
        entry = encode(text, sentence_spans(text, lang=lang))
        values.extend(entry)
        lens.append(len(entry))
    return np.frombuffer(values, dtype=np.uint16).copy(), np.frombuffer(lens, dtype=np.int32).copy()


class SentenceTableBuilder:
    """Collects the shards' entries, in passage order, while a corpus is built."""

    def __init__(self) -> None:
        self.values = array.array("H")
        self.lens = array.array("q")

    def add(self, values: np.ndarray, lens: np.ndarray) -> None:
        self.values.frombytes(np.ascontiguousarray(values, dtype=np.uint16).tobytes())
        self.lens.frombytes(np.ascontiguousarray(lens, dtype=np.int64).tobytes())

    def arrays(self) -> dict[str, np.ndarray]:
        """The table's arrays, by name among the engine's extras: values, and offsets (uint32 when they fit)."""
        lens = np.frombuffer(self.lens, dtype=np.int64) if len(self.lens) else np.zeros(0, np.int64)
        off = np.zeros(len(lens) + 1, dtype=np.int64)
        np.cumsum(lens, out=off[1:])
        if off[-1] < 1 << 32:
            off = off.astype(np.uint32)
        values = np.frombuffer(self.values, dtype=np.uint16).copy() if len(self.values) else np.zeros(0, np.uint16)
        return {VALUES: values, OFFSETS: off}


class SentenceTable:
    """The kept spans of an index's passages, read through memoryviews (an item is a Python int at once)."""

    def __init__(self, values: np.ndarray, off: np.ndarray):
        self._values = _int_view(values)
        self._off = _int_view(off)

    @classmethod
    def of(cls, extras: dict[str, np.ndarray], passages: int) -> SentenceTable | None:
        """The table among an engine's extras, if it has one that fits its `passages` (else None: spans are
        then worked out at query time, as for an index built before they were kept)."""
        values, off = extras.get(VALUES), extras.get(OFFSETS)
        if values is None or off is None or values.dtype != np.uint16 or off.ndim != 1 or len(off) != passages + 1:
            return None
        if passages and (int(off[0]) != 0 or int(off[-1]) != len(values)):
            return None
        return cls(values, off)

    def spans(self, pid: int, text: str) -> list[tuple[int, int]] | None:
        """The sentence spans of passage `pid`, whose text is `text`; None when they were not kept."""
        lo, hi = self._off[pid], self._off[pid + 1]
        if lo == hi:
            return [(0, len(text.rstrip()))]
        v = self._values[lo:hi].tolist()
        head = v[0]
        if head == FULL:
            return list(zip(v[1::2], v[2::2]))
        if head == NOT_KEPT:
            return None
        return list(zip([0, *[e + 1 for e in v]], [*v, len(text.rstrip())]))
