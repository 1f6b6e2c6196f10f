"""bot.arrays.unique is np.unique for the integer arrays the index and the build give it."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.arrays import unique


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.integers(0, 2**40), max_size=300),
    st.sampled_from([np.int32, np.int64, np.uint32, np.uint64]),
    st.integers(1, 3),
)
def test_unique_equals_numpys(values, dtype, spread):
    a = (np.array(values, dtype=np.uint64) % np.uint64(2 ** (8 * spread))).astype(dtype)
    got, want = unique(a), np.unique(a)
    assert got.dtype == want.dtype and np.array_equal(got, want)


def test_unique_of_a_big_array_of_postings():
    rng = np.random.default_rng(1)
    a = rng.integers(0, 1_000_000, 200_000).astype(np.int32)
    assert np.array_equal(unique(a), np.unique(a))
