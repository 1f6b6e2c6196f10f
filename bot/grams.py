"""Character 4-grams: a second, sub-word view of the text that catches what whole words miss.

A question and the passage that answers it often share a word's stem but not its form ("Teilung" /
"Gewaltenteilung", inflections the stemmer does not know, transliterated names). The 4-grams of each
word, padded with a space at each end (" teil", "teil", "eilu", ... "ung "), match those.

The words are the analysis chain's folded words (`Analyzer.words`: NFKC, case folded, stop words kept:
their 4-grams have low idf). Runs of Han and kana characters are left out: each of those characters is a
morpheme, the word field's bigrams already cover them, and their 4-grams are whole phrases.

Scoring is BM25+ over 4-grams, computed in numpy for a handful of passages at query time (`GramScorer`),
never indexed: the 4-grams of every passage would take gigabytes. Their document frequencies come from a
sample of the corpus (`GramSketch`): all of it up to `SAMPLE` passages, then a deterministic, evenly
spread share, in a hashed table of 2^TABLE_BITS counters.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from itertools import accumulate

import numpy as np

from bot.analysis import Analyzer
from bot.arrays import unique

N = 4
TABLE_BITS = 21
SAMPLE = 10_000  # passages kept in the sample (between SAMPLE and 2 * SAMPLE once the corpus is larger)
_P = np.uint64(0x100000001B3)  # FNV prime: the 4-gram hash is a polynomial over its code points
_P2 = np.uint64(0x100000001B3**2 % 2**64)
_SPACE = 32
_IDEOGRAPHIC = re.compile(
    "[\u3040-\u30ff\u31f0-\u31ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff66-\uff9f\U00020000-\U0002fa1f]"
)


def gram_text(analyzer: Analyzer, text: str) -> str:
    """' w1 w2 ... ' : the folded words of `text` between single spaces (ideographic runs left out)."""
    return gram_join(*analyzer.words(text))


def gram_join(words: list[str], nospace: bool) -> str:
    """`gram_text` of a text whose `Analyzer.words` are `(words, nospace)`."""
    if nospace:
        words = [w for w in words if not _IDEOGRAPHIC.match(w)]
    return " " + " ".join(words) + " " if words else ""


def gram_hashes(joined: str) -> tuple[np.ndarray, np.ndarray]:
    """64-bit hashes of the 4-grams of a `gram_text` (or several concatenated) and where each starts.

    A 4-gram is kept when its two middle characters are not spaces: it lies within one padded word.
    """
    if len(joined) < N:
        return np.zeros(0, np.uint64), np.zeros(0, np.int64)
    h, keep = _hashes_at(joined)
    where = np.flatnonzero(keep)
    return h[where], where


def _hashes_at(joined: str) -> tuple[np.ndarray, np.ndarray]:
    """The 64-bit hash of the 4-gram starting at each character of `joined` (but its last three), and
    whether it is kept (`gram_hashes`)."""
    if joined.isascii():  # (a byte a character: a quarter of the memory to read, the same code points)
        c = np.frombuffer(joined.encode("ascii"), dtype=np.uint8)
    else:
        c = np.frombuffer(joined.encode("utf-32-le"), dtype=np.uint32)
    c64 = c.astype(np.uint64)
    # c0*P^3 + c1*P^2 + c2*P + c3 (mod 2^64) as (c0*P + c1)*P^2 + (c2*P + c3): each pair's part once
    pair = c64[:-1] * _P
    pair += c64[1:]
    h = pair[:-2] * _P2
    h += pair[2:]
    letter = c != _SPACE
    return h, letter[1:-2] & letter[2:-1]


def buckets(hashes: np.ndarray, bits: int = TABLE_BITS) -> np.ndarray:
    """Table slots of 4-gram hashes: the low bits after MurmurHash3's 64-bit finalizer (the polynomial
    hash alone is linear in the code points, and its bits collide far more often than chance)."""
    x = hashes ^ (hashes >> np.uint64(33))
    x *= np.uint64(0xFF51AFD7ED558CCD)
    x ^= x >> np.uint64(33)
    x *= np.uint64(0xC4CEB9FE1A85EC53)
    x ^= x >> np.uint64(33)
    return (x & np.uint64((1 << bits) - 1)).astype(np.int64)


_NO_SLOTS = np.zeros(0, np.uint32)


def _level(pid: int) -> int:
    """How deep into the sample passage `pid` reaches: the trailing zero bits of a mix of its number."""
    x = (pid * 0x9E3779B97F4A7C15 + 0x632BE59BD9B4E019) & 0xFFFFFFFFFFFFFFFF
    x ^= x >> 31
    x = (x * 0xBF58476D1CE4E5B9) & 0xFFFFFFFFFFFFFFFF
    x ^= x >> 29
    return (x & -x).bit_length() - 1 if x else 64


def levels(first: int, n: int) -> np.ndarray:
    """`_level` of passages `first` .. `first + n - 1`, in numpy (the same 64-bit arithmetic)."""
    x = np.arange(first, first + n, dtype=np.uint64)
    x *= np.uint64(0x9E3779B97F4A7C15)
    x += np.uint64(0x632BE59BD9B4E019)
    x ^= x >> np.uint64(31)
    x *= np.uint64(0xBF58476D1CE4E5B9)
    x ^= x >> np.uint64(29)
    low = x & (~x + np.uint64(1))  # the lowest set bit (0 for 0)
    out = np.frexp(low.astype(np.float64))[1] - 1  # its position: a power of two converts exactly
    out[x == 0] = 64
    return out


class GramSketch:
    """Document frequencies of 4-grams over a sample of the passages, built while passages stream by.

    A passage is in the sample when its level (`_level(pid)`, geometric: half the passages reach 1, a
    quarter 2, ...) reaches the current floor; the floor rises whenever the sample outgrows 2 * SAMPLE.
    Deterministic, and the same whatever order the passages come in.
    """

    def __init__(self, sample: int = SAMPLE, bits: int = TABLE_BITS):
        self.sample, self.bits = sample, bits
        self.floor = 0
        self._kept: dict[int, tuple[int, np.ndarray, int]] = {}  # pid -> (level, distinct slots, 4-grams)

    def wants(self, pid: int) -> bool:
        """Whether passage `pid` goes into the sample (`add` would keep it)."""
        return _level(pid) >= self.floor

    def wanted(self, first: int, n: int) -> np.ndarray:
        """Which of passages `first` .. `first + n - 1` go into the sample (`wants`), as offsets from
        `first`: their levels computed all at once."""
        return np.flatnonzero(levels(first, n) >= self.floor)

    def add(self, pid: int, analyzer: Analyzer, text: str) -> None:
        self.add_many([pid], [analyzer], [text])

    def add_many(self, pids: Sequence[int], analyzers: Sequence[Analyzer], texts: Sequence[str]) -> None:
        """`add` of each passage in turn (the same sample), with the 4-grams of those that stay in the
        sample hashed all at once: a few numpy operations a batch, not a few per passage."""
        todo: dict[int, str] = {}
        for pid, analyzer, text in zip(pids, analyzers, texts):
            level = _level(pid)
            if level < self.floor:
                continue
            self._kept[pid] = (level, _NO_SLOTS, 0)  # its 4-grams below, if it is still in then
            todo[pid] = gram_text(analyzer, text)
            while len(self._kept) > 2 * self.sample:
                self.floor += 1
                self._kept = {p: v for p, v in self._kept.items() if v[0] >= self.floor}
        todo = {p: t for p, t in todo.items() if p in self._kept}
        if not todo:
            return
        joined = list(todo.values())
        # one text's 4-grams never reach into the next: each ends in a space and starts with one, and a
        # 4-gram with a space among its middle characters is not kept
        h, pos = gram_hashes("".join(joined))
        ends = np.cumsum(np.fromiter(map(len, joined), dtype=np.int64, count=len(joined)))
        doc = np.searchsorted(ends, pos, side="right")
        counts = np.bincount(doc, minlength=len(joined))
        keys = unique((doc.astype(np.uint64) << np.uint64(self.bits)) | buckets(h, self.bits).astype(np.uint64))
        slots = (keys & np.uint64((1 << self.bits) - 1)).astype(np.uint32)
        cut = np.searchsorted(keys >> np.uint64(self.bits), np.arange(1, len(joined)), side="left")
        for pid, mine, n in zip(todo, np.split(slots, cut), counts.tolist()):
            self._kept[pid] = (self._kept[pid][0], mine.copy(), n)

    def arrays(self) -> dict[str, np.ndarray]:
        """The table (uint16 counts per slot: a sample never passes 2 * SAMPLE passages) and [passages
        sampled, mean 4-grams per passage]."""
        kept = list(self._kept.values())
        slots = np.concatenate([k[1] for k in kept]) if kept else np.zeros(0, np.uint32)
        df = np.bincount(slots, minlength=1 << self.bits).astype(np.uint16)
        mean_len = float(np.mean([k[2] for k in kept])) if kept else 0.0
        return {"gram_df": df, "gram_stats": np.array([len(kept), mean_len], dtype=np.float64)}


class GramScorer:
    """BM25+ of a question's 4-grams in a few passages, from the sketch's statistics."""

    WORDS = 20_000  # question words remembered with their 4-grams (~400 bytes each: at most ~8 MB)

    def __init__(self, df: np.ndarray, stats: np.ndarray, k1: float = 1.5, b: float = 0.75, delta: float = 1.0):
        self.df = df
        self.bits = len(df).bit_length() - 1
        self.n, self.avg_len = float(stats[0]), float(stats[1])
        self.k1, self.b, self.delta = k1, b, delta
        # word -> the bytes of its 4-grams' hashes (uint64) and of their idf (float64)
        self._words: dict[str, tuple[bytes, bytes]] = {}

    def scores(self, question: str, texts: Sequence[str]) -> np.ndarray:
        """One score per text (`gram_text`s of the candidates; the question a `gram_text` too).

        The candidates' 4-grams are matched against the question's through a small bitmap of the
        question's hashes' low bits first: only the few that pass it are binary-searched (numpy's
        searchsorted of thousands of uint64 keys cost most of a question's re-ranking)."""
        if not texts or self.n <= 0:
            return np.zeros(len(texts), dtype=np.float64)
        question_grams = self._question_grams(question)
        if question_grams is None:
            return np.zeros(len(texts), dtype=np.float64)
        qg, idf = question_grams
        ends = np.fromiter(accumulate(map(len, texts)), dtype=np.int64, count=len(texts))
        h, keep = _hashes_at("".join(texts))  # (gram_hashes' steps, its selection left as a mask)
        before = np.flatnonzero(keep).searchsorted(ends)  # 4-grams before each text's end
        dl = before.astype(np.float64)
        dl[1:] -= before[:-1]  # 4-grams per text
        seen = np.zeros(_FILTER, dtype=bool)
        seen[(qg & _FILTER_MASK).astype(np.intp)] = True
        # where a 4-gram may match (the hashes' low bits as signed: the same bits, and an index at once)
        cand = np.flatnonzero(seen[h.view(np.int64) & _FILTER_LOW] & keep)
        found = h[cand]
        at = qg.searchsorted(found)
        np.minimum(at, len(qg) - 1, out=at)
        hit = np.flatnonzero(qg[at] == found)  # (positions once: a mask is searched again at each use)
        doc = ends.searchsorted(cand[hit], side="right")  # the text each matching 4-gram starts in
        tf = np.bincount(doc * len(qg) + at[hit], minlength=len(texts) * len(qg)).reshape(len(texts), len(qg))
        norm = 1.0 - self.b + self.b * dl / (self.avg_len or 1.0)
        tf = tf.astype(np.float64)
        w = np.where(tf > 0, tf * (self.k1 + 1.0) / (tf + self.k1 * norm[:, None]) + self.delta, 0.0)
        return w @ idf

    def _idf(self, df: np.ndarray) -> np.ndarray:
        """The idf of 4-grams from their table counts (float64)."""
        return np.log((self.n + 1.0) / np.maximum(df, 1.0))

    def _question_grams(self, question: str) -> tuple[np.ndarray, np.ndarray] | None:
        """The question's distinct 4-gram hashes (ascending) and their idf times how often each occurs:
        `_counted(gram_hashes(question)[0])` and `_idf` of the table at their `buckets`, from each word's
        remembered 4-grams and their idf (a question has a few words, and the same words come back; numpy's
        log of a value is the same whatever array it is in: tested)."""
        if not (question.startswith(" ") and question.endswith(" ")):  # (not a gram_text: the general way)
            qh, _ = gram_hashes(question)
            if not len(qh):
                return None
            qg, qmult = _counted(qh)
            return qg, self._idf(self.df[buckets(qg, self.bits)].astype(np.float64)) * qmult
        words = self._words
        question_words = question[1:-1].split(" ")
        new = [w for w in question_words if len(w) > 1 and w not in words]
        fresh = self._remember(new) if new else {}
        hash_parts: list[bytes] = []
        idf_parts: list[bytes] = []
        for word in question_words:
            grams = words.get(word) or fresh.get(word)
            if grams:
                hash_parts.append(grams[0])
                idf_parts.append(grams[1])
        hashes = np.frombuffer(b"".join(hash_parts), dtype=np.uint64)
        if not len(hashes):
            return None
        order = hashes.argsort(kind="stable")
        hashes, idf = hashes[order], np.frombuffer(b"".join(idf_parts), dtype=np.float64)[order]
        if len(hashes) < 2 or not (hashes[1:] == hashes[:-1]).any():  # (the usual case: each 4-gram once)
            return hashes, idf  # (its idf times 1: the same floats)
        first = np.flatnonzero(np.concatenate(([True], hashes[1:] != hashes[:-1])))
        times = np.diff(np.append(first, len(hashes)))
        return hashes[first], idf[first] * times  # (a 4-gram's idf is the same wherever it occurs)

    def _remember(self, new: list[str]) -> dict[str, tuple[bytes, bytes]]:
        """The 4-grams of words not seen yet, hashed all at once, and remembered: per word the bytes of their
        hashes (uint64) and of their idf (float64), a question's words joined into arrays in one step."""
        names = list(dict.fromkeys(new))
        joined = " " + " ".join(names) + " "
        h, pos = gram_hashes(joined)
        idf = self._idf(self.df[buckets(h, self.bits)].astype(np.float64))
        starts = np.cumsum([1] + [len(w) + 1 for w in names[:-1]])  # each word's first character
        word_at = np.searchsorted(starts, pos + 1, side="right") - 1  # (a 4-gram's second character)
        cuts = np.searchsorted(word_at, np.arange(len(names) + 1)).tolist()  # (4-grams come in word order)
        fresh = {w: (h[a:b].tobytes(), idf[a:b].tobytes()) for w, a, b in zip(names, cuts, cuts[1:])}
        if len(self._words) > self.WORDS:
            self._words = {}  # (replaced, not cleared: a question being scored keeps the dict it read)
        self._words.update(fresh)
        return fresh


_FILTER = 1 << 12  # bitmap of a question's 4-gram hashes (low bits): a question has tens of 4-grams
_FILTER_MASK = np.uint64(_FILTER - 1)
_FILTER_LOW = np.int64(_FILTER - 1)


def _counted(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """`np.unique(a, return_counts=True)` of a small integer array, by a sort (numpy 2.x's np.unique
    is several times slower for tens of values)."""
    s = np.sort(a)
    keep = np.empty(len(s), dtype=bool)
    keep[:1] = True
    np.not_equal(s[1:], s[:-1], out=keep[1:])
    first = np.flatnonzero(keep)
    counts = np.empty(len(first), dtype=np.intp)
    counts[:-1] = first[1:] - first[:-1]
    counts[-1:] = len(s) - first[-1:]
    return s[first], counts
