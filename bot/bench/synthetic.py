"""The benchmark's corpus: N synthetic news passages, deterministic for a seed.

Passages of 60-120 English-like words, in articles of 8-12 paragraphs (shape "long": each paragraph one
passage) or one paragraph each (shape "short": the hardest shape for per-article work). Words follow a
Zipf-Mandelbrot law over an open vocabulary, so the vocabulary keeps growing with N: the top ranks are
real English words (function words first, so stop-word removal has work to do), the rest generated
pronounceable words, some inflected (-s, -ed, -ing: work for the stemmer), some names, some numbers, and
curly apostrophes and dashes as real news has. Articles carry no language: it is identified, as for
most exports. Questions are question-like sentences ("What did X say about Y?") around 2-3 words drawn
from a random passage.
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path

import numpy as np

from bot.bench.options import SHAPES
from bot.passages import DEFAULT_TARGET_CHARS

FORMAT = 2  # of the generated corpus; part of its cache key

# --- the synthetic corpus --------------------------------------------------------------------------

# Real English words at the top ranks, roughly in frequency order: function words first.
FUNCTION_WORDS = """the of and to a in that is was he for it with as his on be at by i this had not are but
from or have an they which one you were her all she there would their we him been has when who will more
no if out so said what up its about into than them can only other new some could time these two may then do
first any my now such like our over man me even most made after also did many before must through back
years where much your way well down should because each just those people how too little state good very
make world still own see men work long get here between both life being under never day same another know
while last might us great old year off come since against go came right used take three""".split()

CONTENT_WORDS = """government president minister police city country week percent official officials company
market report war election party law court health school family house news national public support plan
water food money business trade price prices power energy oil security military forces attack killed
children women leader leaders talks deal vote votes political policy economy economic international foreign
director team season game games club players league match win record history series council bank banks tax
budget rights protest protests crisis rate rates growth chief prime capital region border army troops
hospital doctors patients students teachers workers union strike parliament opposition campaign candidate
minister ministry agency investigation judge trial prison sentence charges company shares investors
profit sales companies industry technology internet online data climate weather storm flood fire
village town streets residents museum film music festival book author artist church population farmers
""".split()

# Onset consonant clusters, vowels and codas of the generated words.
_ONSETS = "b c d f g h j k l m n p r s t v w z br cr dr fr gr pr tr st sh ch th bl cl fl pl sl".split()
_VOWELS = "a e i o u ai ea ou io".split()
_CODAS = ["", "", "", "n", "r", "l", "m", "st", "nd", "rt"]
_SUFFIXES = [b"", b"s", b"ed", b"ing"]
_SOURCES = ["The Daily Ledger", "Northern Courier", "Evening Post", "City Herald", "Radio Free Plains",
            "The Morning Star", "Coastal Times", "Valley Gazette"]  # fmt: skip

_FUNCTION_SET = frozenset(FUNCTION_WORDS)
_TEMPLATES = [
    "What did {a} say about {b}?", "Who was {a} in {b}?", "When did the {a} {b} {c}?",
    "Why is {a} {b}?", "How many {a} were in {b}?", "Where did {a} and {b} meet?",
    "What happened to the {a} {b}?", "Is it true that {a} {b} the {c}?",
]  # fmt: skip

UNIVERSE = 5_000_000  # ranks a word can have; most of them are never drawn
# Zipf-Mandelbrot, p(r) ~ 1 / (r + q)^s, with a steeper tail past rank R: the 220 commonest words make
# ~56% of the text, and the vocabulary grows like real news text (~80k words at 10k passages, ~280k at
# 100k, ~950k at 1M, before inflections and numbers).
ZIPF_S, ZIPF_Q, ZIPF_R, ZIPF_TAIL = 1.1, 2.7, 30_000, 1.8


_REAL = [w.encode() for w in dict.fromkeys(FUNCTION_WORDS + CONTENT_WORDS)]
_SYLLABLES = np.array([(o + v).encode() for o in _ONSETS for v in _VOWELS], dtype="S4")


def _words(ranks: np.ndarray) -> np.ndarray:
    """Rank -> word (bytes), vectorized: real words first, then generated ones, distinct by rank."""
    real = np.array(_REAL, dtype="S24")
    r = np.maximum(ranks.astype(np.int64) - len(_REAL), 0)
    base = len(_SYLLABLES)
    # bijective mixed radix: the first base^2 generated ranks get two syllables, then three, then four
    n2, n3 = base**2, base**3
    nsyl = np.where(r < n2, 2, np.where(r < n2 + n3, 3, 4))
    off = np.where(nsyl == 2, r, np.where(nsyl == 3, r - n2, r - n2 - n3))
    words = np.full(len(r), b"", dtype="S24")
    for i in range(4):
        digit = (off // base**i) % base
        digit = (digit * 37 + i * 11) % base  # scatter neighbours so similar ranks do not look alike
        words = np.char.add(words, np.where(i < nsyl, _SYLLABLES[digit], b""))
    coda = np.array([c.encode() for c in _CODAS], dtype="S2")[(r * 2654435761 >> 7) % len(_CODAS)]
    words = np.char.add(words, coda)
    is_real = ranks < len(_REAL)
    words[is_real] = real[ranks[is_real]]
    return words


@cache
def _zipf_cdf() -> np.ndarray:
    """The cumulative probability of each word rank: the same for every corpus, so made once (~0.5 s)."""
    ranks = np.arange(UNIVERSE, dtype=np.float64)
    p = 1.0 / (ranks + ZIPF_Q) ** ZIPF_S
    tail = ranks >= ZIPF_R
    p[tail] = p[ZIPF_R] * ((ZIPF_R + ZIPF_Q) / (ranks[tail] + ZIPF_Q)) ** ZIPF_TAIL
    cdf = np.cumsum(p / p.sum())
    cdf.flags.writeable = False  # shared by every SyntheticCorpus
    return cdf


class SyntheticCorpus:
    """N passages, deterministic for a seed: articles as JSON-ready dicts, and questions."""

    def __init__(self, n_passages: int, seed: int = 0, passage_chars: int = DEFAULT_TARGET_CHARS, shape: str = "long"):
        if shape not in SHAPES:
            raise ValueError(f"unknown corpus shape {shape!r}; choose one of {', '.join(SHAPES)}")
        self.n = n_passages
        self.seed = seed
        self.shape = shape
        # long enough that the passage splitter never merges two paragraphs: one paragraph, one passage
        self.min_chars = passage_chars // 2 + 10
        self.n_real = len(_REAL)
        self.n_function = len(dict.fromkeys(FUNCTION_WORDS))
        self.cdf = _zipf_cdf()

    def articles(self, chunk: int = 2000, questions: int = 0):
        """Yield lists of article dicts (id, title, author, source, url, published, lang, paragraphs).

        With `questions`, that many passages, chosen at random, each give a question, collected (in
        passage order) in `self.questions` as the generation goes.
        """
        rng = np.random.default_rng(self.seed)
        qrng = np.random.default_rng(self.seed + 7919)
        ask_at = set(qrng.choice(self.n, min(questions, self.n), replace=False).tolist()) if questions else set()
        self.questions = []
        made, art = 0, 0
        while made < self.n:
            counts: list[int] = []
            while made + sum(counts) < self.n and len(counts) < chunk:
                per = int(rng.integers(8, 13)) if self.shape == "long" else 1
                counts.append(min(per, self.n - made - sum(counts)))
            paras = self._paragraphs(rng, sum(counts))
            for i, para in enumerate(paras):
                if made + i in ask_at:
                    self.questions.append(self._question(qrng, para))
            out, pos = [], 0
            authors = self._names(rng, len(counts))
            for c, author in zip(counts, authors):
                ps = paras[pos : pos + c]
                pos += c
                title = " ".join(ps[0].split()[:7]).rstrip(".,?!").title()
                out.append(
                    {
                        "id": f"syn-{art:07d}",
                        "title": title,
                        "author": author,
                        "source": _SOURCES[art % len(_SOURCES)],
                        "url": f"https://news.example/{art // 1000}/{art:07d}",
                        "published": f"{2000 + art % 24}-{1 + art % 12:02d}-{1 + art % 28:02d}",
                        "paragraphs": ps,
                    }
                )
                art += 1
            made += sum(counts)
            yield out

    def _draw(self, rng, n: int) -> np.ndarray:
        return np.minimum(np.searchsorted(self.cdf, rng.random(n)), UNIVERSE - 1)

    def _names(self, rng, n: int) -> list[str]:
        """`n` two-word names (first and last), drawn from 5,000 generated words."""
        words = [w.decode().capitalize() for w in _words(rng.integers(self.n_real, self.n_real + 5000, 2 * n))]
        return [f"{a} {b}" for a, b in zip(words[::2], words[1::2])]

    def _paragraphs(self, rng, m: int) -> list[str]:
        """`m` paragraphs of 60-120 words (a few more when needed to reach `min_chars`), in sentences."""
        lengths = rng.integers(60, 121, m)
        drawn = lengths + 40  # spare words for short paragraphs
        ranks = self._draw(rng, int(drawn.sum()))
        toks = self._tokens(rng, ranks)
        sentence = rng.integers(8, 25, int(drawn.sum()) // 4)
        question = rng.random(len(sentence)) < 0.03
        out_all, pos, si = [], 0, 0
        for n, d in zip(lengths.tolist(), drawn.tolist()):
            words = toks[pos : pos + d]
            pos += d
            out: list[str] = []
            chars, left = 0, 0
            for t in words:
                if left == 0:
                    if out:
                        out[-1] = out[-1].rstrip(",") + ("?" if question[si] else ".")
                    left = int(sentence[si])
                    si += 1
                    t = t[:1].upper() + t[1:]
                out.append(t)
                chars += len(t) + 1
                left -= 1
                if len(out) >= n and chars >= self.min_chars:
                    break
            out[-1] = out[-1].rstrip(",") + "."
            out_all.append(" ".join(out))
        return out_all

    def _tokens(self, rng, ranks: np.ndarray) -> list[str]:
        """Words for ranks: inflected, some capitalized (names), numbers, punctuation."""
        words = _words(ranks)
        generated = ranks >= self.n_real
        suffix = np.where(generated, rng.choice(4, len(ranks), p=[0.75, 0.15, 0.05, 0.05]), 0)
        words = np.char.add(words, np.array(_SUFFIXES, dtype="S3")[suffix])
        toks = b"\0".join(words.tolist()).decode().split("\0")
        u = rng.random(len(toks))
        is_name = (ranks % 5 == 0) & generated  # proper names: capitalized
        for i in np.flatnonzero(is_name).tolist():
            toks[i] = toks[i].capitalize()
        for i in np.flatnonzero(u < 0.02).tolist():
            toks[i] = str(1950 + int(u[i] * 3700)) if u[i] < 0.01 else f"{int(u[i] * 50000)}"
        for i in np.flatnonzero((u > 0.97) & (u < 0.98) & generated).tolist():
            toks[i] += "’s"  # a curly apostrophe, as real news copy has
        for i in np.flatnonzero((u > 0.98) & (u < 0.985)).tolist():
            toks[i] += " —"
        for i in np.flatnonzero(((u > 0.94) & (u < 0.97)) | (u > 0.985)).tolist():
            toks[i] += ","
        return toks

    def _question(self, rng, paragraph: str) -> str:
        """A question around 2-3 non-function words of a passage, as they appear in it.

        Words are drawn by their occurrences, so the commoner content words come up as often as in text.
        """
        words = [w for w in re.findall(r"[A-Za-z]+", paragraph) if w.lower() not in _FUNCTION_SET]
        picked: list[str] = []
        for i in rng.permutation(len(words)):
            if words[i] not in picked:
                picked.append(words[i])
            if len(picked) == 3:
                break
        picked += ["news", "report", "city"][: 3 - len(picked)]
        a, b, c = picked
        return _TEMPLATES[int(rng.integers(len(_TEMPLATES)))].format(a=a, b=b, c=c)

    def write_jsonl(self, path: Path, questions: int = 0, per_file: int | None = None) -> int:
        """Write the corpus as one .jsonl file at `path`, or with `per_file` as files of that many articles
        in the folder `path`; the number of articles."""
        if per_file is None:
            path.parent.mkdir(parents=True, exist_ok=True)
        else:
            path.mkdir(parents=True, exist_ok=True)
        n, f = 0, None
        try:
            for chunk in self.articles(chunk=per_file or 2000, questions=questions):
                if f is None or per_file is not None:
                    if f is not None:
                        f.close()
                    name = path if per_file is None else path / f"part-{n // per_file:05d}.jsonl"
                    f = open(name, "w", encoding="utf-8")  # closed below
                f.writelines(json.dumps(a, ensure_ascii=False) + "\n" for a in chunk)
                n += len(chunk)
        finally:
            if f is not None:
                f.close()
        return n
