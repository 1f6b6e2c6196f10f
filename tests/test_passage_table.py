"""PassageTable reads its int columns through memoryviews and makes each Passage by setting its slots: the same
Passage objects as the arrays hold (equal, same hash and repr, plain ints), for the dtypes and byte orders a stored
index may have, memory-mapped or not, by int or numpy index."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.columns import PassageTable
from bot.passages import Passage

passages = st.lists(
    st.builds(Passage, *(st.integers(0, 2**31 - 1) for _ in PassageTable.COLUMNS)), max_size=30
)  # fmt: skip


@given(passages, st.sampled_from(["<i4", ">i4", "<i8", "<u4", "=i4"]))
@settings(max_examples=200, deadline=None)
def test_items_are_the_passages_in_any_integer_dtype(ps, dtype):
    cols = [np.array([getattr(p, c) for p in ps], dtype=dtype) for c in PassageTable.COLUMNS]
    table = PassageTable(*cols)
    assert len(table) == len(ps)
    assert [table[i] for i in range(len(ps))] == ps
    for i, p in enumerate(ps):
        got = table[i]
        assert type(got) is Passage and repr(got) == repr(p) and hash(got) == hash(p)
        assert all(type(getattr(got, c)) is int for c in PassageTable.COLUMNS)
        assert table[np.int64(i)] == p and table[i - len(ps)] == p
    assert list(table) == ps and table[:] == ps
    if ps:
        assert table[-1] == ps[-1] and type(table[0].start) is int
    with pytest.raises(IndexError):
        table[len(ps)]


def test_a_memory_mapped_table(tmp_path):
    ps = [Passage(i, i % 3, 3, 10 * i, 10 * i + 7) for i in range(50)]
    for c in PassageTable.COLUMNS:
        np.save(tmp_path / f"{c}.npy", np.array([getattr(p, c) for p in ps], dtype=np.int32))
    table = PassageTable(*(np.load(tmp_path / f"{c}.npy", mmap_mode="r") for c in PassageTable.COLUMNS))
    assert [table[i] for i in range(50)] == ps and table == PassageTable.from_passages(ps)
