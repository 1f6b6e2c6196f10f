"""Opening the corpus as a search engine: load the articles, build (or later, load) the index."""

from __future__ import annotations

import logging
from pathlib import Path

from bot.articles import load_corpus
from bot.search import Engine, SearchSettings

log = logging.getLogger(__name__)


class EmptyCorpus(Exception):
    """The corpus holds no article that could be loaded."""


def open_engine(corpus: Path, settings: SearchSettings = SearchSettings(), progress: bool = False) -> Engine:
    if not corpus.exists():
        raise EmptyCorpus(f"corpus {corpus} does not exist")
    loaded = load_corpus(corpus)
    if not loaded.articles:
        reasons = "; ".join(f"{s.path}: {s.reason}" for s in loaded.skipped[:5])
        raise EmptyCorpus(f"no article could be loaded from {corpus}" + (f" ({reasons})" if reasons else ""))
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=0, unit="passages", disable=None, leave=False)

    def tick(done: int, total: int) -> None:
        if bar is not None:
            bar.total = total
            bar.n = done
            bar.refresh()

    try:
        return Engine.build(loaded, settings, progress=tick if progress else None)
    finally:
        if bar is not None:
            bar.close()
