"""fastText's language identification model (lid.176.ftz) computed in numpy, many texts at a time.

fastText's own predictor (a C++ call per text) spends most of its time re-hashing every character n-gram
of every word. Here a word's contribution (the sum of its rows of the input matrix, and how many rows) is
computed once and remembered, so identifying a text costs a dictionary look-up per word; a batch of texts
then takes a few numpy operations (sum, output layer, the hierarchical softmax's leaf probabilities).

The computation is fastText's (v0.9, `supervised` model, hierarchical softmax), read from its file:
- a text is its whitespace-separated words and the end-of-line token `</s>` (reading stops at a literal
  `</s>`; words starting with `__label__` are labels, not input);
- a known word contributes its own row and the rows of its character n-grams, an unknown word the rows of
  its n-grams only (minn..maxn characters of `<word>`, hashed with 32-bit FNV-1a over its UTF-8 bytes,
  sign-extended as fastText does, modulo the bucket count, kept when the pruned model still has them);
- the hidden vector is the mean of those rows (product-quantized, with quantized norms);
- a label's probability is the product, along its path in the Huffman tree of label counts, of the
  sigmoids of the internal nodes' scores (1e-5 added inside each log, as fastText does).
Probabilities agree with fastText's own to ~1e-6 (float32 there, float64 here; tests compare them).
"""

from __future__ import annotations

import functools
import struct
import threading
from collections.abc import Collection, Sequence
from functools import cached_property
from itertools import chain, repeat

import numpy as np

_MAGIC, _VERSION = 793712314, 12
_EOS, _BOW, _EOW, _LABEL = "</s>", "<", ">", "__label__"
_KSUB = 256
_FNV_OFFSET, _FNV_PRIME = 2166136261, 16777619
_FIRST = np.zeros(1, dtype=np.intp)  # reduceat's start of a single text
MIN_LOG = float(np.log(1e-5))  # fastText never returns a label whose log-probability is below log(threshold + 1e-5)


class ModelFormatError(ValueError):
    """The file is not a fastText supervised model this module can read."""


class _Reader:
    def __init__(self, data: bytes):
        self.data, self.at = data, 0

    def take(self, fmt: str) -> tuple:
        out = struct.unpack_from("<" + fmt, self.data, self.at)
        self.at += struct.calcsize("<" + fmt)
        return out

    def array(self, dtype: str, n: int) -> np.ndarray:
        a = np.frombuffer(self.data, dtype=dtype, count=n, offset=self.at)
        self.at += a.nbytes
        return a

    def cstring(self) -> bytes:
        end = self.data.index(b"\0", self.at)
        s = self.data[self.at : end]
        self.at = end + 1
        return s


def _pq(r: _Reader) -> tuple[int, int, int, int, np.ndarray]:
    dim, nsubq, dsub, lastdsub = r.take("4i")
    return dim, nsubq, dsub, lastdsub, r.array("<f4", dim * _KSUB)


def _decode_quantized(r: _Reader) -> np.ndarray:
    """A QuantMatrix, decoded to dense float32 rows (m x n)."""
    (qnorm,) = r.take("?")
    m, n = r.take("2q")
    (codesize,) = r.take("i")
    codes = r.array("u1", codesize)
    _, nsubq, dsub, lastdsub, centroids = _pq(r)
    codes = codes.reshape(m, nsubq).astype(np.int64)
    rows = np.empty((m, n), dtype=np.float32)
    for q in range(nsubq):
        d = lastdsub if q == nsubq - 1 else dsub
        base = q * _KSUB * dsub
        table = centroids[base : base + _KSUB * d].reshape(_KSUB, d)
        rows[:, q * dsub : q * dsub + d] = table[codes[:, q]]
    if qnorm:
        norm_codes = r.array("u1", m)
        _, _, _, _, norm_centroids = _pq(r)
        rows *= norm_centroids[norm_codes.astype(np.int64)][:, None]
    return rows


def _dense(r: _Reader) -> np.ndarray:
    m, n = r.take("2q")
    return r.array("<f4", m * n).reshape(m, n).copy()


class LanguageModel:
    """lid.176 (or any fastText supervised model with hierarchical softmax and no word n-grams)."""

    MEMO = 400_000  # words remembered (their summed rows); past that the memo starts again

    def __init__(self, data: bytes):
        r = _Reader(data)
        magic, version = r.take("2i")
        if magic != _MAGIC or version > _VERSION:
            raise ModelFormatError("not a fastText model file")
        dim, _ws, _epoch, _min_count, _neg, word_ngrams, loss, model, bucket, minn, maxn, _lr = r.take("12i")
        r.take("d")
        if loss != 1 or model != 3 or word_ngrams > 1:
            raise ModelFormatError("only supervised models with hierarchical softmax and no word n-grams")
        size, nwords, nlabels = r.take("3i")
        _ntokens, prune_size = r.take("2q")
        words: dict[str, int] = {}
        labels: list[str] = []
        counts: list[int] = []
        for i in range(size):
            word = r.cstring().decode("utf-8", "replace")
            count, kind = r.take("qb")
            if kind == 0:
                words[word] = i
            else:
                labels.append(word[len(_LABEL) :] if word.startswith(_LABEL) else word)
                counts.append(count)
        pairs = r.array("<i4", 2 * max(prune_size, 0)).reshape(-1, 2)
        self._bucket_rows: np.ndarray | None = None  # a pruned model's n-gram bucket -> its row (-1: pruned)
        if prune_size >= 0:
            self._bucket_rows = np.full(bucket, -1, dtype=np.int32)
            self._bucket_rows[pairs[:, 0]] = nwords + pairs[:, 1]
        (quant_input,) = r.take("?")
        rows = _decode_quantized(r) if quant_input else _dense(r)
        (quant_output,) = r.take("?")
        out = _decode_quantized(r) if quant_input and quant_output else _dense(r)
        if rows.shape[1] != dim or len(labels) != nlabels or out.shape[0] != nlabels:
            raise ModelFormatError("inconsistent model dimensions")
        self.rows = rows.astype(np.float64)
        self.nodes = out[: nlabels - 1].astype(np.float64)  # the internal nodes' vectors
        self.words, self.nwords, self.labels = words, nwords, labels
        self.bucket, self.minn, self.maxn = bucket, minn, maxn
        self.paths, self.child_left, self.child_right = _tree(counts)
        self.root = 2 * nlabels - 2
        self._memo: dict[str, int] = {}
        self._sums = np.zeros((1024, dim + 1), dtype=np.float64)  # per remembered word: summed rows, row count
        self._remember_eos()
        self._lock = threading.Lock()  # the memo is shared by the threads of a process

    # -- words ----------------------------------------------------------------------------------------

    def _remember(self, words: list[str]) -> None:
        """Memo slots for new words (distinct, none remembered yet): each word's own row when the model
        knows it, and the rows of its character n-grams, all words' n-grams hashed at once."""
        n0, n = len(self._memo), len(words)
        if n0 + n > len(self._sums):
            grown = np.zeros((max(2 * len(self._sums), n0 + n), self._sums.shape[1]))
            grown[:n0] = self._sums[:n0]
            self._sums = grown
        sums, counts = self._ngram_sums(words)
        wids = [self.words.get(w, -1) for w in words]
        known = np.flatnonzero(np.array(wids) >= 0)
        if len(known):
            sums[known] += self.rows[np.array(wids)[known]]
            counts[known] += 1
        self._sums[n0 : n0 + n, :-1] = sums
        self._sums[n0 : n0 + n, -1] = counts
        self._memo.update(zip(words, range(n0, n0 + n)))

    def _ngram_sums(self, words: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """Per word, the sum of its character n-grams' rows and how many there are (fastText's
        computeSubwords and pushHash: n-grams of minn..maxn characters of `<word>`, over UTF-8 bytes)."""
        n_words, dim = len(words), self.rows.shape[1]
        sums, counts = np.zeros((n_words, dim)), np.zeros(n_words)
        if not n_words or self.maxn <= 0:
            return sums, counts
        encoded = [(_BOW + w + _EOW).encode("utf-8", "replace") for w in words]
        blob = np.frombuffer(b"".join(encoded), dtype=np.uint8)
        byte_word = np.repeat(np.arange(n_words), np.fromiter(map(len, encoded), np.int64, n_words))
        starts = np.flatnonzero((blob & 0xC0) != 0x80)  # where each character starts
        char_word = byte_word[starts]
        bounds = np.append(starts, len(blob))
        n_chars = len(starts)
        signed = blob.astype(np.uint32)  # fastText hashes each byte sign-extended (int8 -> uint32)
        signed[blob >= 0x80] |= np.uint32(0xFFFFFF00)
        first = np.ones(n_chars, dtype=bool)
        first[1:] = char_word[1:] != char_word[:-1]
        last = np.ones(n_chars, dtype=bool)
        last[:-1] = first[1:]
        ks = np.arange(n_chars)  # the n-grams starting at each character, grown one character a step
        h = np.full(n_chars, _FNV_OFFSET, dtype=np.uint32)
        found_k, found_h = [], []
        prime = np.uint32(_FNV_PRIME)
        for m in range(1, self.maxn + 1):
            end = ks + m - 1  # the character this step adds
            ok = end < n_chars
            ok[ok] &= char_word[end[ok]] == char_word[ks[ok]]
            ks, h, end = ks[ok], h[ok], end[ok]
            if not len(ks):
                break
            lo = bounds[end]
            h ^= signed[lo]
            h *= prime
            wide = np.flatnonzero(bounds[end + 1] - lo > 1)  # characters of several bytes (not ASCII)
            for b in range(1, 4):
                if not len(wide):
                    break
                h[wide] = (h[wide] ^ signed[lo[wide] + b]) * prime
                wide = wide[bounds[end[wide] + 1] - lo[wide] > b + 1]
            if m >= self.minn:
                keep = ~(first[ks] | last[ks]) if m == 1 else slice(None)  # not "<" or ">" alone
                found_k.append(ks[keep])
                found_h.append(h[keep])
        if not found_k:
            return sums, counts
        k = np.concatenate(found_k)
        bucket = np.concatenate(found_h) % np.uint32(self.bucket)
        if self._bucket_rows is not None:
            rows = self._bucket_rows[bucket]
            k, rows = k[rows >= 0], rows[rows >= 0]
        else:
            rows = self.nwords + bucket.astype(np.int64)
        word = char_word[k]
        found = self.rows[rows]
        for d in range(dim):
            sums[:, d] = np.bincount(word, weights=found[:, d], minlength=n_words)
        counts += np.bincount(word, minlength=n_words)
        return sums, counts

    # -- texts ----------------------------------------------------------------------------------------

    def hidden(self, texts: Sequence[str]) -> np.ndarray:
        """The hidden vectors of `texts` (each as fastText reads one line: its words, then `</s>`)."""
        with self._lock:
            return self._hidden(texts)

    def _hidden(self, texts: Sequence[str]) -> np.ndarray:
        if len(self._memo) > self.MEMO:
            self._memo.clear()
            self._remember_eos()
        if len(texts) != 1:  # (a build's batch)
            return self._hidden_many(texts)
        # one text (a question): its words' memo slots, then the end-of-line token's
        (text,) = texts
        words = text.split()
        if "\0" in text or _EOS in text or _LABEL in text:
            words = _fasttext_words(words)
        get = self._memo.get
        slots = list(map(get, words))
        if None in slots:
            self._remember(list(dict.fromkeys(w for w in words if get(w) is None)))
            slots = list(map(get, words))
        slots.append(self._memo[_EOS])
        # (the rows' numbers as an array first: numpy indexing with a list converts it the slow way)
        rows = self._sums.take(np.fromiter(slots, dtype=np.intp, count=len(slots)), axis=0)
        sums = np.add.reduceat(rows, _FIRST, axis=0)
        count = float(sums[0, -1])
        return sums[:, :-1] / count if count > 0 else np.zeros_like(sums[:, :-1])

    def _hidden_many(self, texts: Sequence[str]) -> np.ndarray:
        """`_hidden` of a batch (a build's articles): every text's words looked up in one pass (map and
        fromiter in C), the end-of-line tokens put in afterwards; the same rows summed in the same order."""
        memo = self._memo
        splits = [text.split() for text in texts]
        joined = "\n".join(texts)
        if "\0" in joined or _EOS in joined or _LABEL in joined:
            splits = [
                _fasttext_words(words) if "\0" in text or _EOS in text or _LABEL in text else words
                for text, words in zip(texts, splits)
            ]
        lengths = np.fromiter(map(len, splits), dtype=np.int64, count=len(splits))
        flat = list(chain.from_iterable(splits))
        ids = np.fromiter(map(memo.get, flat, repeat(-1)), dtype=np.int64, count=len(flat))
        missing = np.flatnonzero(ids < 0).tolist()
        if missing:
            self._remember(list(dict.fromkeys([flat[i] for i in missing])))
            ids[missing] = [memo[flat[i]] for i in missing]
        slots = np.insert(ids, np.cumsum(lengths), memo[_EOS])  # each text's words, then `</s>`
        lengths += 1
        sums = np.add.reduceat(self._sums[slots], np.cumsum(lengths) - lengths, axis=0)
        counts = sums[:, -1:]
        return np.divide(sums[:, :-1], counts, out=np.zeros_like(sums[:, :-1]), where=counts > 0)

    def _remember_eos(self) -> None:
        """The end-of-line token: its own row only (fastText gives it no n-grams)."""
        wid = self.words.get(_EOS)
        self._sums[0] = 0.0
        if wid is not None:
            self._sums[0, :-1] = self.rows[wid]
            self._sums[0, -1] = 1.0
        self._memo[_EOS] = 0

    def log_probs(self, texts: Sequence[str]) -> np.ndarray:
        """(len(texts), labels) log-probabilities: fastText's `score` of every label."""
        if not len(texts):
            return np.zeros((0, len(self.labels)))
        return self._path_terms(self.hidden(texts))[:, self.paths].sum(axis=2)

    def _path_terms(self, hidden: np.ndarray) -> np.ndarray:
        """Per text, the columns `paths` refers to: log(1 - f) and log(f) of every internal node, then 0."""
        f = 1.0 / (1.0 + np.exp(-np.einsum("ij,kj->ik", hidden, self.nodes)))
        return np.concatenate([np.log(1.0 - f + 1e-5), np.log(f + 1e-5), np.zeros((len(f), 1))], axis=1)

    def likeliest_of(self, text: str, labels: np.ndarray) -> str | None:
        """The likeliest of `labels` (label indices, ascending) for one text, as the first of them in
        `ranked(log_probs([text])[0])` (ties: the lower index); None when none is likely at all."""
        if not len(labels):
            return None
        scores = self.log_probs_of(text, labels).tolist()
        best = -1
        for i, score in enumerate(scores):
            if score >= MIN_LOG and (best < 0 or score > scores[best]):
                best = i
        return None if best < 0 else self.labels[int(labels[best])]

    def log_probs_of(self, text: str, labels: np.ndarray) -> np.ndarray:
        """`log_probs([text])[0][labels]`, the same bits, from only the nodes on those labels' paths (a
        question's language among a corpus's few, at query time): one element-wise operation per step over
        a few tens of nodes instead of fastText's 175, and no array of every label."""
        nodes, paths = self._paths_of(labels.tobytes())
        k = len(nodes)
        terms = np.zeros(2 * k + 1)  # [log(1 - f) of those nodes, log(f) of them, 0]: _path_terms' columns
        z = np.einsum("ij,kj->ik", self.hidden([text]), nodes)[0]
        np.negative(z, out=z)
        np.exp(z, out=z)
        z += 1.0
        f = np.divide(1.0, z, out=terms[k : 2 * k])  # (f where log(f) goes)
        np.subtract(1.0, f, out=terms[:k])
        terms[: 2 * k] += 1e-5  # (1 - f) + 1e-5 and f + 1e-5, as _path_terms adds them
        np.log(terms[: 2 * k], out=terms[: 2 * k])
        return terms[paths].sum(axis=1)

    @functools.lru_cache(maxsize=64)  # noqa: B019 (one model per process: it lives as long as the cache)
    def _paths_of(self, labels: bytes) -> tuple[np.ndarray, np.ndarray]:
        """The internal nodes on these labels' paths (their vectors) and the paths as columns of
        `log_probs_of`'s terms (as `paths` are of `_path_terms`')."""
        ids = np.frombuffer(labels, dtype=np.int64)
        paths = self.paths[ids]
        n_nodes = len(self.nodes)
        used = np.unique(paths[paths < 2 * n_nodes] % n_nodes)
        k = len(used)
        local = np.full(n_nodes, -1, dtype=np.int64)
        local[used] = np.arange(k)
        node = paths % n_nodes
        remapped = np.where(paths >= n_nodes, k + local[node], local[node])
        remapped[paths == 2 * n_nodes] = 2 * k
        return np.ascontiguousarray(self.nodes[used]), remapped

    def label_indices(self, codes: Collection[str]) -> np.ndarray:
        """The indices of those of `codes` that are labels of the model, ascending."""
        index = self._label_index
        return np.array(sorted(index[c] for c in set(codes) if c in index), dtype=np.int64)

    def likeliest(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """Per text, a label (its index) and its probability: the likeliest label whenever one has a
        probability over 1/2 (then it wins at every node of its path), found by following the likelier
        branch down the tree, so only the nodes on one path are computed; else a label of less than 1/2."""
        n = len(texts)
        score = np.zeros(n)
        if not n:
            return np.zeros(0, dtype=np.int64), score
        hidden = self.hidden(texts)
        node = np.full(n, self.root, dtype=np.int64)
        todo = np.arange(n)
        osz = len(self.labels)
        while len(todo):
            at = node[todo]
            z = np.einsum("ij,ij->i", hidden[todo], self.nodes[at - osz])
            right = z > 0
            f = 1.0 / (1.0 + np.exp(-z))
            score[todo] += np.log(np.where(right, f, 1.0 - f) + 1e-5)
            node[todo] = at = np.where(right, self.child_right[at], self.child_left[at])
            todo = todo[at >= osz]
        return node, np.exp(score)

    @cached_property
    def _label_index(self) -> dict[str, int]:
        return {label: i for i, label in enumerate(self.labels)}

    def predict(self, text: str, k: int = 1) -> list[tuple[float, str]]:
        """fastText's predict(text, k, threshold=0): the `k` likeliest labels (-1: all), best first."""
        return self.ranked(self.log_probs([text])[0], k)

    def ranked(self, scores: np.ndarray, k: int = -1) -> list[tuple[float, str]]:
        """(probability, label) of one text's `log_probs`, best first, as many as fastText returns (`k`)."""
        order = np.argsort(-scores, kind="stable")
        order = order[scores[order] >= MIN_LOG]
        if k >= 0:
            order = order[:k]
        return [(float(np.exp(scores[i])), self.labels[i]) for i in order]


def _fasttext_words(words: list[str]) -> list[str]:
    """The input words fastText takes from a line: NUL also separates words, reading stops after a literal
    `</s>` (its end-of-line token), and `__label__` words are labels (not input)."""
    out: list[str] = []
    for w in words:
        for part in w.split("\0"):
            if part == _EOS:
                return out  # (the caller appends the end-of-line token itself)
            if part and not part.startswith(_LABEL):
                out.append(part)
    return out


def _tree(counts: list[int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """fastText's Huffman tree over the labels (by their training counts). Internal node i (0-based; the
    root is the last) has a score f; a label's log-probability sums log(1 - f) where its path turns left
    and log(f) where it turns right: `paths[label]` lists those terms as columns of [log(1 - f) of every
    node, log(f) of every node, 0] (padded with the 0 column). Also each node's children (labels are nodes
    0..labels-1, internal nodes follow)."""
    osz = len(counts)
    count = [*counts, *([10**15] * (osz - 1))]
    parent = [-1] * (2 * osz - 1)
    binary = [False] * (2 * osz - 1)
    kids = np.zeros((2, 2 * osz - 1), dtype=np.int64)
    leaf, node = osz - 1, osz
    for i in range(osz, 2 * osz - 1):
        mini = [0, 0]
        for j in range(2):
            if leaf >= 0 and count[leaf] < count[node]:
                mini[j], leaf = leaf, leaf - 1
            else:
                mini[j], node = node, node + 1
        count[i] = count[mini[0]] + count[mini[1]]
        parent[mini[0]] = parent[mini[1]] = i
        binary[mini[1]] = True
        kids[:, i] = mini
    columns: list[list[int]] = []
    for label in range(osz):
        path, n = [], label
        while parent[n] != -1:
            path.append(parent[n] - osz + (osz - 1 if binary[n] else 0))
            n = parent[n]
        columns.append(path)
    depth = max(map(len, columns), default=0)
    paths = np.full((osz, depth), 2 * (osz - 1), dtype=np.int64)
    for label, path in enumerate(columns):
        paths[label, : len(path)] = path
    return paths, kids[0], kids[1]
