"""Passages to term ids many at a time, in numpy, for text the analysis chain reads as plain ASCII.

Most news copy is ASCII once its typographic quotes and dashes (which separate words either way) are
spaces; for it, `Analyzer.words` is bytes folded to lower-case letters and digits, split at everything
else. Done passage by passage in Python, each of those words is a new str object and a dictionary look-up
that misses the CPU caches in a vocabulary of a million words: most of a build's analysis time. Here a
batch of passages is one byte array: the separators become spaces, the bytes are folded with one table
look-up, and the words are found as runs of letters and digits. A word of up to 16 bytes *is* its key
(two little-endian 64-bit integers, zero-padded: no letter or digit is a zero byte), so an open-addressing
table over numpy arrays maps it to its term id exactly, many words per numpy operation. Only words never
seen before, longer words, and passages that are not ASCII go through the analyzer in Python.

The result is exactly `Analyzer.terms` of each passage (the tests compare them).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from bot.analysis import _ASCII_FOLD, SEPARATORS, Analyzer

MISSING = np.iinfo(np.int32).min  # a word the table does not hold
KEY_BYTES = 16  # words up to this long are looked up in the table; longer ones in a dict
_SPACE = 0x20
_FOLD = np.frombuffer(_ASCII_FOLD, dtype=np.uint8)  # A-Z -> a-z, a-z and 0-9 kept, every other byte a space
_SEPARATOR_POINTS = np.array(sorted(map(ord, SEPARATORS)), dtype=np.int64)
_MASKS = np.array([(1 << (8 * i)) - 1 for i in range(8)] + [(1 << 64) - 1], dtype=np.uint64)  # low i bytes
_M1, _M2, _M3 = np.uint64(0x9E3779B97F4A7C15), np.uint64(0xC2B2AE3D27D4EB4F), np.uint64(0xFF51AFD7ED558CCD)


class WordTable:
    """(k1, k2) word keys -> int32 values, by open addressing (linear probing) over numpy arrays, at most
    half full. Past `max_bits` of slots it starts again empty: it is a cache, values can be made again."""

    def __init__(self, bits: int = 16, max_bits: int = 22):
        self.max_bits = max_bits
        self._alloc(bits)

    def _alloc(self, bits: int) -> None:
        self.bits = bits
        self.k1 = np.zeros(1 << bits, dtype=np.uint64)  # 0: an empty slot (no word key is 0)
        self.k2 = np.zeros(1 << bits, dtype=np.uint64)
        self.values = np.zeros(1 << bits, dtype=np.int32)
        self.count = 0

    def __len__(self) -> int:
        return self.count

    def _home(self, k1: np.ndarray, k2: np.ndarray) -> np.ndarray:
        x = k1 * _M1 ^ k2 * _M2
        x ^= x >> np.uint64(31)
        x *= _M3
        x ^= x >> np.uint64(29)
        return (x >> np.uint64(64 - self.bits)).astype(np.int64)

    def get(self, k1: np.ndarray, k2: np.ndarray) -> np.ndarray:
        """The values of the keys (MISSING where absent)."""
        slot = self._home(k1, k2)
        t1 = self.k1[slot]
        hit = t1 == k1
        hit &= self.k2[slot] == k2
        out = np.where(hit, self.values[slot], MISSING).astype(np.int32, copy=False)
        todo = np.flatnonzero(~hit & (t1 != 0))  # another key in the home slot: probe on
        mask = (1 << self.bits) - 1
        while len(todo):
            slot[todo] = s = (slot[todo] + 1) & mask
            t1 = self.k1[s]
            hit = (t1 == k1[todo]) & (self.k2[s] == k2[todo])
            out[todo[hit]] = self.values[s[hit]]
            todo = todo[~hit & (t1 != 0)]
        return out

    def put(self, k1: np.ndarray, k2: np.ndarray, values: np.ndarray) -> None:
        """Add distinct keys that are not in the table (growing it, or emptying it when full; keys past
        half the largest table are left out)."""
        room = 1 << (self.max_bits - 1)
        k1, k2, values = k1[:room], k2[:room], values[:room]
        need = self.count + len(k1)
        if 2 * need > (1 << self.bits):
            bits = self.bits
            while 2 * need > (1 << bits) and bits < self.max_bits:
                bits += 1
            old = (self.k1, self.k2, self.values) if 2 * need <= (1 << bits) else None
            self._alloc(bits)
            if old is not None:
                used = np.flatnonzero(old[0])
                self._insert(old[0][used], old[1][used], old[2][used])
        self._insert(k1, k2, values)

    def _insert(self, k1: np.ndarray, k2: np.ndarray, values: np.ndarray) -> None:
        slot = self._home(k1, k2)
        pending = np.arange(len(k1))
        mask = (1 << self.bits) - 1
        while len(pending):
            s = slot[pending]
            free = self.k1[s] == 0
            taken, first = np.unique(s[free], return_index=True)  # one key per free slot
            won = pending[free][first]
            self.k1[taken], self.k2[taken], self.values[taken] = k1[won], k2[won], values[won]
            self.count += len(won)
            keep = np.ones(len(pending), dtype=bool)
            keep[np.flatnonzero(free)[first]] = False
            pending = pending[keep]
            slot[pending] = (slot[pending] + 1) & mask


class AsciiTerms:
    """Term ids of passages for one analyzer with the ASCII shortcut: `ids(pieces)`.

    `term_id(term)` gives a term's id (the caller's vocabulary); dropped words (stop words, ...) are -1.
    """

    LONG_WORDS = 100_000  # words over KEY_BYTES remembered (then forgotten, as the table does)

    def __init__(self, analyzer: Analyzer, term_id: Callable[[str], int]):
        self.analyzer = analyzer
        self.term_id = term_id
        self.table = WordTable()
        self.long: dict[str, int] = {}

    def ids(self, pieces: Sequence[str]) -> tuple[np.ndarray, np.ndarray, list[int]]:
        """(term ids of the words of the ASCII pieces, -1 for dropped words, in order; how many words each
        piece has (0 for the others); the pieces that are not ASCII, for the caller's per-piece path)."""
        n = len(pieces)
        joined = "\0".join(pieces)  # NUL: a separator no loaded text holds (checked below)
        buf = np.frombuffer(joined.encode("utf-8", "surrogatepass"), dtype=np.uint8)
        nul = np.flatnonzero(buf == 0)
        if len(nul) != n - 1:  # a piece holds a NUL itself: piece by piece
            return np.zeros(0, np.int32), np.zeros(n, np.int32), list(range(n))
        bounds = np.concatenate(([0], nul + 1, [len(buf) + 1]))  # piece i: buf[bounds[i]:bounds[i+1]-1]
        folded, slow = self._fold(buf, bounds)
        starts, ends = _runs(folded)
        piece = np.searchsorted(bounds, starts, side="right") - 1
        if slow:
            fast = ~np.isin(piece, slow)
            starts, ends, piece = starts[fast], ends[fast], piece[fast]
        out = self._lookup(folded, starts, ends - starts)
        lens = np.bincount(piece, minlength=n).astype(np.int32)
        return out, lens, slow

    def _fold(self, buf: np.ndarray, bounds: np.ndarray) -> tuple[np.ndarray, list[int]]:
        """The bytes folded to [a-z0-9] or space (every byte of a non-ASCII character is a space), padded
        for 8-byte reads; and the pieces holding a non-ASCII character that is not a separator."""
        slow: list[int] = []
        high = np.flatnonzero(buf >= 0xC0)  # the first bytes of non-ASCII characters
        if len(high):
            b0 = buf[high].astype(np.int64)
            b1 = buf[np.minimum(high + 1, len(buf) - 1)].astype(np.int64) & 0x3F
            b2 = buf[np.minimum(high + 2, len(buf) - 1)].astype(np.int64) & 0x3F
            two, three = (b0 & 0x1F) << 6 | b1, (b0 & 0x0F) << 12 | b1 << 6 | b2
            point = np.where(b0 < 0xE0, two, np.where(b0 < 0xF0, three, -1))
            other = high[~np.isin(point, _SEPARATOR_POINTS)]
            if len(other):
                slow = np.unique(np.searchsorted(bounds, other, side="right") - 1).tolist()
        folded = np.empty(len(buf) + KEY_BYTES, dtype=np.uint8)
        np.take(_FOLD, buf, out=folded[: len(buf)])
        folded[len(buf) :] = _SPACE
        return folded, slow

    def _lookup(self, folded: np.ndarray, starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
        long = np.flatnonzero(lengths > KEY_BYTES)
        s, ln = starts, lengths
        if len(long):
            short = lengths <= KEY_BYTES
            s, ln = starts[short], lengths[short]
        win = np.ndarray((len(folded) - 7,), dtype="<u8", buffer=folded, strides=(1,))
        k1 = win[s]
        k1 &= _MASKS[np.minimum(ln, 8)]
        k2 = np.zeros(len(s), dtype=np.uint64)
        wide = np.flatnonzero(ln > 8)
        k2[wide] = win[s[wide] + 8] & _MASKS[ln[wide] - 8]
        got = self.table.get(k1, k2)
        miss = np.flatnonzero(got == MISSING)
        if len(miss):
            got[miss] = self._learn(folded, s[miss], ln[miss], k1[miss], k2[miss])
        if not len(long):
            return got
        out = np.empty(len(starts), dtype=np.int32)
        out[short] = got
        out[long] = [self._long_id(folded[a : a + n].tobytes().decode("ascii"))
                     for a, n in zip(starts[long].tolist(), lengths[long].tolist())]  # fmt: skip
        return out

    def _learn(self, folded: np.ndarray, starts: np.ndarray, lengths: np.ndarray, k1: np.ndarray, k2: np.ndarray):
        """Ids of words the table lacks: each distinct one analysed once, in order of first occurrence (so
        new terms get ids in text order), and added to the table."""
        order = np.lexsort((k2, k1))  # stable: the first of equal keys is the first occurrence
        sk1, sk2 = k1[order], k2[order]
        new_group = np.ones(len(order), dtype=bool)
        new_group[1:] = (sk1[1:] != sk1[:-1]) | (sk2[1:] != sk2[:-1])
        group = np.cumsum(new_group) - 1
        firsts = np.sort(order[new_group])
        at, n = starts[firsts].tolist(), lengths[firsts].tolist()
        words = [folded[a : a + k].tobytes().decode("ascii") for a, k in zip(at, n)]
        ids = np.array([-1 if t is None else self.term_id(t) for t in self.analyzer.term_many(words)], dtype=np.int32)
        self.table.put(k1[firsts], k2[firsts], ids)
        group_of = group[np.argsort(order)]  # each word's group, in text order
        by_group = np.empty(len(firsts), dtype=np.int32)
        by_group[group_of[firsts]] = ids
        return by_group[group_of]

    def _long_id(self, word: str) -> int:
        tid = self.long.get(word)
        if tid is None:
            if len(self.long) >= self.LONG_WORDS:
                self.long.clear()
            term = self.analyzer.term_many([word])[0]
            tid = self.long[word] = -1 if term is None else self.term_id(term)
        return tid


def _runs(folded: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Starts and ends of the runs of non-space bytes (the words)."""
    word = folded != _SPACE
    edge = np.flatnonzero(np.diff(word.view(np.int8), prepend=0, append=0))
    return edge[0::2], edge[1::2]
