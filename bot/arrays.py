"""Small numpy helpers the index and the build use on hot paths."""

from __future__ import annotations

import numpy as np


def unique(a: np.ndarray) -> np.ndarray:
    """The distinct values of an integer array, sorted: `np.unique(a)`, by a sort and one comparison. numpy 2.x's
    np.unique (without return_* arguments) goes through a hash table that was 5-20x slower here for
    arrays of hundreds to millions of integers (a question's candidate passages, a batch's 4-grams)."""
    s = np.sort(a, axis=None)
    if len(s) < 2:
        return s
    keep = np.empty(len(s), dtype=bool)
    keep[0] = True
    np.not_equal(s[1:], s[:-1], out=keep[1:])
    return s[keep]
