"""Question terms the corpus does not have -> the corpus's term one edit away.

A question may spell a word otherwise than the articles do: a typo ("septicemia" for "septicaemia"), a
transliteration ("Cypiddids"), a stem the stemmer cut differently ("замок" / "замка"). Such a term
matches no passage, so the passages that spell it the other way never reach the re-ranking, however
well their 4-grams would match. Each question term of at least MIN_CHARS characters that is not in the
vocabulary, and holds no digit (numbers are exact: 1901 is not 1907), gets the vocabulary's term at
Damerau-Levenshtein distance 1 added beside it (one character deleted, inserted, replaced, or two
neighbours swapped), the one in the most passages when several are: the usual choice of a spelling
corrector. A term found in the vocabulary is never touched, so a question spelled as the corpus spells
it costs one look-up per term.

Insertions and replacements draw from the corpus's own alphabet: the characters of its vocabulary (at
most ALPHABET of them per script, the most frequent), in the scripts of the term's own characters. The
candidate spellings, a few hundred a term, are looked up in one go (`SortedVocabulary.get_many` on a
loaded index).
"""

from __future__ import annotations

import itertools
import unicodedata
from collections.abc import Mapping, Sequence
from functools import cached_property

import numpy as np

MIN_CHARS = 5  # shorter terms have too many neighbours to guess among
MAX_CHARS = 24  # longer ones are not words a user mistypes (and would cost more)
ALPHABET = 80  # characters per script tried for insertions and replacements
SAMPLE_BYTES = 1 << 20  # of the vocabulary's text, to find its alphabet
MAX_TERMS = 3  # out-of-vocabulary terms corrected per question (a question in another language has many)


class Speller:
    """Corrections of a question's out-of-vocabulary terms against one index's vocabulary."""

    def __init__(self, vocab: Mapping[str, int], idf: np.ndarray):
        self.vocab = vocab
        self.idf = idf

    def corrections(self, terms: Sequence[str]) -> list[str]:
        """The vocabulary terms to add for `terms` (an analyzed question): one per corrected term."""
        out: list[str] = []
        tried = 0
        for term in dict.fromkeys(terms):
            if not MIN_CHARS <= len(term) <= MAX_CHARS or self.vocab.get(term) is not None:
                continue
            if any(ch.isdigit() for ch in term):
                continue
            tried += 1
            if tried > MAX_TERMS:
                break
            best = self.nearest(term)
            if best is not None and best not in out:
                out.append(best)
        return out

    def nearest(self, term: str) -> str | None:
        """The vocabulary term one edit from `term` in the most passages (None: there is none)."""
        cands = edits(term, self.letters(term))
        ids = lookup_many(self.vocab, cands)
        found = [(float(self.idf[i]), c) for c, i in zip(cands, ids) if i is not None]
        return min(found)[1] if found else None  # lowest idf: most passages; then the first in order

    def letters(self, term: str) -> str:
        """The alphabet for insertions and replacements in `term`: the corpus's characters of its scripts."""
        scripts = {_script(ch) for ch in term}
        return "".join(ch for s in scripts for ch in self.alphabet.get(s, ""))

    @cached_property
    def alphabet(self) -> dict[str, str]:
        """script -> its ALPHABET most frequent characters in the vocabulary, counted in numpy over a
        sample of SAMPLE_BYTES of its text (computed once, when a question first needs it; the frequent
        characters of a script show in any sample, and the cost stays ~10 ms at any size)."""
        text = _vocabulary_sample(self.vocab)
        if not text:
            return {}
        points = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
        counts = np.bincount(points)
        chars = np.flatnonzero(counts)
        by_script: dict[str, list[tuple[int, str]]] = {}
        for cp in chars.tolist():
            ch = chr(cp)
            by_script.setdefault(_script(ch), []).append((-int(counts[cp]), ch))
        return {s: "".join(ch for _, ch in sorted(v)[:ALPHABET]) for s, v in by_script.items()}


def edits(word: str, letters: str) -> list[str]:
    """Every string one deletion, adjacent swap, replacement (from `letters`) or insertion away from
    `word` (some more than once, and `word` itself when `letters` holds its characters: harmless for a
    look-up, and cheaper than a set)."""
    n = len(word)
    heads = [word[:i] for i in range(n + 1)]
    tails = [word[i:] for i in range(n + 1)]
    out = [heads[i] + tails[i + 1] for i in range(n)]
    out += [heads[i] + word[i + 1] + word[i] + tails[i + 2] for i in range(n - 1)]
    out += [h + c + t for h, t in zip(heads, tails[1:]) for c in letters]
    out += [h + c + t for h, t in zip(heads, tails) for c in letters]
    return out


def lookup_many(vocab: Mapping[str, int], terms: Sequence[str]) -> list[int | None]:
    """Ids of many terms (None where absent): vectorized on a loaded index's sorted vocabulary."""
    many = getattr(vocab, "get_many", None)
    if many is not None:
        return many(terms)
    return [vocab.get(t) for t in terms]


def _vocabulary_sample(vocab: Mapping[str, int]) -> str:
    """About SAMPLE_BYTES of the vocabulary's terms: all of a small one; of a large one, evenly spaced
    stretches of a loaded index's term bytes (`SortedVocabulary.blob`), or every k-th term of a dict."""
    blob = getattr(vocab, "blob", None)
    if blob is not None:
        data = np.asarray(blob)
        if len(data) <= SAMPLE_BYTES:
            return data.tobytes().decode("utf-8", "ignore")
        step, size = len(data) // 64, SAMPLE_BYTES // 64
        # a stretch may start or end inside a character: "ignore" drops that character's stray bytes
        return " ".join(data[i : i + size].tobytes().decode("utf-8", "ignore") for i in range(0, 64 * step, step))
    every = max(1, len(vocab) // (SAMPLE_BYTES // 8))
    return "".join(itertools.islice(vocab, 0, None, every))


def _script(ch: str) -> str:
    """The script a character belongs to, as the first word of its Unicode name ("LATIN", "CYRILLIC",
    "DEVANAGARI", ...); combining marks and unnamed characters go with no script."""
    return unicodedata.name(ch, "?").split(" ", 1)[0]
