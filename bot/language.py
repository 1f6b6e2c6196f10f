"""Offline language identification (py3langid), for articles and questions without a language."""

from __future__ import annotations

import threading
from functools import lru_cache

_lock = threading.Lock()


@lru_cache(maxsize=1)
def _model():
    # Loading the model takes ~0.6 s: done once, and only when something has no language.
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    return LanguageIdentifier.from_model_file(MODEL_FILE)


def detect(text: str, among: frozenset[str] | None = None) -> str | None:
    """The ISO 639-1 code of `text`'s language, restricted to `among` when given."""
    if not text.strip():
        return None
    with _lock:  # set_languages mutates the shared model
        model = _model()
        model.set_languages(sorted(among) if among else None)
        try:
            lang, _ = model.classify(text[:5000])
        finally:
            if among:
                model.set_languages(None)
    return lang
