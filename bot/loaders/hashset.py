"""A set of 64-bit hashes in a flat array: what duplicate detection and unique ids remember per article.

A Python set of a million hash ints weighs about 66 MB (a 32-byte int object and a slot each); this keeps
8 bytes a slot at most half full, about 16-32 MB, for a few hundred nanoseconds more an insert.
"""

from __future__ import annotations

from array import array


class HashSet:
    """Linear-probing open addressing over array('q'); 0 marks an empty slot (a hash of 0 is stored as 1)."""

    def __init__(self, capacity: int = 1 << 12) -> None:
        size = 1 << max(capacity - 1, 1).bit_length()
        self._slots = array("q", bytes(8 * size))
        self._mask = size - 1
        self._count = 0

    def __len__(self) -> int:
        return self._count

    def __contains__(self, h: int) -> bool:
        h = (h or 1) if -(1 << 63) <= h < (1 << 63) else _key(h)  # (_key, inline: the usual case)
        slots, mask = self._slots, self._mask
        i = h & mask
        while True:  # (_probe, inline)
            v = slots[i]
            if v == h:
                return True
            if not v:
                return False
            i = (i + 1) & mask

    def add(self, h: int) -> bool:
        """Put `h` in; True when it was not there before."""
        h = (h or 1) if -(1 << 63) <= h < (1 << 63) else _key(h)
        slots, mask = self._slots, self._mask
        i = h & mask
        while True:
            v = slots[i]
            if v == h:
                return False
            if not v:
                break
            i = (i + 1) & mask
        slots[i] = h
        self._count += 1
        if 2 * self._count > mask:
            self._grow()
        return True

    def _grow(self) -> None:
        old = self._slots
        size = 2 * len(old)
        self._slots = slots = array("q", bytes(8 * size))
        self._mask = mask = size - 1
        for h in old:
            if h:
                i = h & mask
                while slots[i]:
                    i = (i + 1) & mask
                slots[i] = h


def _key(h: int) -> int:
    """A signed 64-bit slot value, never 0 (hash() is 64-bit already on 64-bit builds; others are folded)."""
    h = ((h + (1 << 63)) % (1 << 64)) - (1 << 63) if not -(1 << 63) <= h < (1 << 63) else h
    return h or 1
