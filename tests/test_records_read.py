"""ArticleStore's read path: articles decoded from their frames equal the ones written, in any order of
reading, through its small LRU cache of decoded articles."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.articles import Article
from bot.passages import split_article
from bot.records import ArticleStore

text = st.text(st.characters(codec="utf-8"), max_size=40)
maybe = st.none() | text
articles = st.lists(
    st.builds(
        Article, id=text, title=text, paragraphs=st.lists(text.filter(str.strip), min_size=1, max_size=3),
        author=maybe, source=maybe, url=maybe, published=maybe, lang=st.sampled_from([None, "en", "de"]), path=maybe,
    ),
    min_size=1, max_size=12,
)  # fmt: skip


def store_of(arts: list[Article], cache: int) -> ArticleStore:
    """The store of `arts`, keeping at most `cache` articles decoded."""
    small = type("SmallStore", (ArticleStore,), {"CACHE": cache})
    return small.from_articles(arts, [p for no, a in enumerate(arts) for p in split_article(a, no, 20)])


@given(articles, st.data(), st.integers(1, 5))
@settings(max_examples=150, deadline=None)
def test_articles_read_back_equal_in_any_order(arts, data, cache):
    store = store_of(arts, cache)
    order = data.draw(st.lists(st.integers(0, len(arts) - 1), max_size=30))
    for i in order:
        a = store[i]
        assert a == arts[i] and a.paragraphs == arts[i].paragraphs and a.text == arts[i].text
        assert store[i - len(arts)] == arts[i] and store[np.int64(i)] == arts[i]
    assert list(store) == arts and store[:] == arts
    for i in (len(arts), -len(arts) - 1):
        with pytest.raises(IndexError):
            store[i]


def test_a_recent_article_is_the_cached_one_and_an_old_one_is_decoded_again():
    arts = [Article(str(i), f"Title {i}", [f"Paragraph {i}."]) for i in range(10)]
    store = store_of(arts, 3)
    first = store[0]
    assert store[0] is first
    store[1], store[2], store[0], store[3]  # 0 was used again: 1 is the least recent now
    assert store[0] is first
    store[4], store[5], store[6]
    assert store[0] is not first and store[0] == first


@given(st.lists(st.binary(max_size=60), min_size=1, max_size=30), st.sampled_from(["<i8", ">i8", "<i4", ">u4"]))
@settings(max_examples=100, deadline=None)
def test_frames_read_back_from_memory_mapped_arrays_in_any_stored_byte_order(tmp_path_factory, frames, dtype):
    """FrameReader.get reads a frame through memoryviews of the blob and the offsets: the bytes written, from
    arrays in memory and memory-mapped files, whatever integer type and byte order the offsets were kept in."""
    import numpy as np

    from bot.records import FrameReader, FrameWriter

    blob = bytearray()
    writer = FrameWriter(blob.extend)
    for f in frames:
        writer.add(f)
    offsets, zdict = writer.finish()
    folder = tmp_path_factory.mktemp("frames")
    arrays = {"blob": np.frombuffer(bytes(blob), dtype=np.uint8), "off": offsets.astype(dtype), "zdict": zdict}
    for name, a in arrays.items():
        np.save(folder / f"{name}.npy", a)
    mapped = {name: np.load(folder / f"{name}.npy", mmap_mode="r") for name in arrays}
    for a in (arrays, mapped):
        reader = FrameReader(a["blob"], a["off"], a["zdict"])
        assert len(reader) == len(frames)
        assert [reader.get(i) for i in range(len(frames))] == frames
        assert [reader.get(i) for i in reversed(range(len(frames)))] == frames[::-1]
