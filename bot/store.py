"""The persisted index: an engine's parts as .npy arrays in a generation, loaded memory-mapped in well
under a second.

The arrays: postings (indptr, doc_ids, weights, doc_len, idf, max_w, champions), the vocabulary, the
passages and the articles in the compact forms of `bot.columns`; plus `x_<name>` arrays that a caller
persists with the index (`extras`). The manifest also says what the index was built from and how
(`bot.fingerprint`: the corpus, the search settings, the versions of the code and libraries that shape
it). Generations, their atomic publication and their checks are `bot.generations`'.

This module knows the parts, not the Engine: `bot.search` makes an Engine of what `open_index` returns.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from bot.articles import Skipped
from bot.columns import PassageTable, SortedVocabulary
from bot.fingerprint import build_fingerprint, corpus_fingerprint, staleness
from bot.generations import (
    CURRENT,
    FORMAT,
    MANIFEST,
    VERSION,
    GenerationWriter,
    NoIndex,
    StoreError,
    current_generation,
    generation_manifest,
    index_size,
    read_arrays,
    read_manifest,
)
from bot.index import Index, ScoringSettings
from bot.records import ARRAYS as ARTICLE_ARRAYS
from bot.records import ArticleStore, StoredArticle

__all__ = [  # what callers use (some of it lives in bot.columns, bot.fingerprint and bot.generations)
    "CURRENT", "FORMAT", "MANIFEST", "VERSION", "ArticleStore", "GenerationWriter", "NoIndex", "PassageTable",
    "SortedVocabulary", "StoreError", "Stored", "StoredArticle", "build_fingerprint", "corpus_fingerprint",
    "current_generation", "describe", "engine_arrays", "generation_manifest", "index_arrays", "index_size",
    "manifest_fields", "open_generation", "open_index", "read_manifest", "save", "staleness", "verify",
]  # fmt: skip

log = logging.getLogger(__name__)

_NEEDED = (
    "indptr doc_ids weights doc_len idf max_w champ_terms champ_pos vocab_keys vocab_ids vocab_blob vocab_off "
    "p_article p_index p_count p_start p_end"
).split() + list(ARTICLE_ARRAYS)


class EngineParts(Protocol):
    """What `save` reads off an engine (or a finished build)."""

    @property
    def index(self) -> Index: ...
    @property
    def passages(self) -> Sequence: ...
    @property
    def articles(self) -> Sequence: ...
    @property
    def settings(self) -> Any: ...  # a dataclass with fingerprint()
    @property
    def skipped(self) -> list[Skipped]: ...
    @property
    def languages(self) -> frozenset[str]: ...
    @property
    def main_language(self) -> str | None: ...
    @property
    def build_seconds(self) -> float: ...
    @property
    def built_at(self) -> float: ...


@dataclass
class Stored:
    """One generation's parts, memory-mapped."""

    generation: Path
    manifest: dict
    index: Index
    passages: PassageTable
    articles: ArticleStore
    extras: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def settings(self) -> dict:
        return self.manifest.get("scoring") or {}

    @property
    def skipped(self) -> list[Skipped]:
        return [Skipped(p, r) for p, r in self.manifest.get("skipped", [])]


def save(engine: EngineParts, index_dir: Path, corpus_fp: dict | None = None, build_fp: dict | None = None) -> Path:
    """Write an engine's parts as the index in `index_dir`, atomically; the new generation's folder."""
    t0 = time.perf_counter()
    with GenerationWriter(index_dir) as w:
        w.arrays(engine_arrays(engine))
        gen = w.commit(manifest_fields(engine, corpus_fp, build_fp))
    log.info("index written to %s in %.2f s", gen, time.perf_counter() - t0)
    return gen


def engine_arrays(engine: EngineParts) -> dict[str, np.ndarray]:
    """Every array of an engine, by file name (without .npy)."""
    out = index_arrays(engine.index)
    passages = (
        engine.passages if isinstance(engine.passages, PassageTable) else PassageTable.from_passages(engine.passages)
    )
    out.update({"p_" + c: a for c, a in passages.columns().items()})
    arts = engine.articles
    if not isinstance(arts, ArticleStore):
        arts = ArticleStore.from_articles(arts, passages)
    out.update(arts.arrays())
    extras: dict[str, np.ndarray] = getattr(engine, "extras", None) or {}
    out.update({"x_" + name: np.asarray(a) for name, a in extras.items()})
    return out


def index_arrays(idx: Index) -> dict[str, np.ndarray]:
    out: dict[str, np.ndarray] = {
        "indptr": np.asarray(idx.indptr, dtype=np.int64),
        "doc_ids": np.asarray(idx.doc_ids, dtype=np.int32),
        "weights": np.asarray(idx.weights, dtype=np.float32),
        "doc_len": np.asarray(idx.doc_len, dtype=np.int32),
        "idf": np.asarray(idx.idf, dtype=np.float32),
        "max_w": np.asarray(idx.max_w, dtype=np.float32),
        "champ_terms": np.asarray(idx.champ_terms, dtype=np.int32),
        "champ_pos": np.asarray(idx.champ_pos, dtype=np.int32),
    }
    vocab = idx.vocab
    if isinstance(vocab, SortedVocabulary):
        out.update(
            {"vocab_keys": vocab.heads, "vocab_ids": vocab.ids, "vocab_blob": vocab.blob, "vocab_off": vocab.offsets}
        )
    else:
        out.update(SortedVocabulary.encode(vocab))
    return out


def manifest_fields(
    engine: EngineParts, corpus_fp: dict | None, build_fp: dict | None, skipped: Iterable[Skipped] | None = None
) -> dict:
    """What the manifest says about an engine (the files and the format are added by the writer)."""
    idx = engine.index
    return {
        "corpus": corpus_fp,
        "build": build_fp or build_fingerprint(engine.settings),
        "counts": {
            "articles": len(engine.articles),
            "passages": len(engine.passages),
            "terms": idx.vocabulary_size,
            "postings": len(idx.doc_ids),
        },
        "scoring": asdict(engine.settings),
        "languages": sorted(engine.languages),
        "main_language": engine.main_language,
        "skipped": [[s.path, s.reason] for s in (engine.skipped if skipped is None else skipped)],
        "build_seconds": engine.build_seconds,
        "built_at": engine.built_at,
    }


# --- reading -------------------------------------------------------------------------------------------


def open_index(index_dir: Path, verify: bool = False) -> Stored:
    """The parts of the index in use in `index_dir`, memory-mapped. StoreError when missing or unusable."""
    for attempt in range(2):
        try:
            return open_generation(current_generation(index_dir), verify)
        except FileNotFoundError as e:  # a writer swapped generations under us: look again once
            if attempt:
                raise StoreError(f"index files vanished while loading: {e}") from None
    raise AssertionError("unreachable")


def open_generation(gen: Path, verify: bool = False) -> Stored:
    """The parts in one generation folder (as `GenerationWriter.commit` returned it)."""
    gen = Path(gen)
    manifest = generation_manifest(gen)
    a = read_arrays(gen, manifest, verify)
    missing = [n for n in _NEEDED if n not in a]
    if missing:
        raise StoreError(f"{gen} lacks {', '.join(missing)}")
    _check_consistent(gen, a, manifest.get("counts", {}))
    try:
        scoring = ScoringSettings(**manifest["scoring"]["scoring"])
    except (KeyError, TypeError, ValueError) as e:
        raise StoreError(f"{MANIFEST} in {gen} has unusable settings: {e}") from None
    vocab = SortedVocabulary(a["vocab_keys"], a["vocab_ids"], a["vocab_blob"], a["vocab_off"])
    index = Index(
        vocab, a["indptr"], a["doc_ids"], a["weights"], a["doc_len"], a["idf"], scoring,
        max_w=a["max_w"], champ_terms=a["champ_terms"], champ_pos=a["champ_pos"],
    )  # fmt: skip
    try:
        articles = ArticleStore(a)
    except Exception as e:  # a corrupt dictionary
        raise StoreError(f"{gen} has unusable article records: {e}") from None
    passages = PassageTable(*(a["p_" + c] for c in PassageTable.COLUMNS))
    extras = {k[2:]: v for k, v in a.items() if k.startswith("x_")}
    return Stored(gen, manifest, index, passages, articles, extras)


def _check_consistent(gen: Path, a: dict[str, np.ndarray], counts: dict) -> None:
    n_terms, n_docs, n_arts = len(a["idf"]), len(a["doc_len"]), len(a["art_date"])
    checks = [
        (len(a["indptr"]) == n_terms + 1, "indptr/idf sizes"),
        (n_terms == 0 or (int(a["indptr"][0]) == 0 and int(a["indptr"][-1]) == len(a["doc_ids"])), "indptr ends"),
        (len(a["weights"]) == len(a["doc_ids"]), "weights/doc_ids sizes"),
        (
            len(a["max_w"]) == n_terms and len(a["vocab_ids"]) == n_terms and len(a["vocab_off"]) == n_terms + 1,
            "vocabulary sizes",
        ),
        (all(len(a["p_" + c]) == n_docs for c in PassageTable.COLUMNS), "passage columns"),
        (
            len(a["art_off"]) == n_arts + 1
            and int(a["art_off"][-1]) == len(a["art_rec"])
            and len(a["art_first"]) == n_arts + 1
            and int(a["art_first"][-1]) == n_docs
            and len(a["p_off"]) == n_docs + 1
            and int(a["p_off"][-1]) == len(a["p_rec"]),
            "article records",
        ),
        (
            counts.get("passages") == n_docs and counts.get("articles") == n_arts and counts.get("terms") == n_terms,
            "counts",
        ),
        (a["champ_pos"].ndim == 2 and len(a["champ_pos"]) == len(a["champ_terms"]), "champions"),
    ]
    for ok, what in checks:
        if not ok:
            raise StoreError(f"{gen} is inconsistent ({what})")


def verify(index_dir: Path) -> None:
    """Check every file of the index in use against its CRC-32 (reads it all); StoreError if bad."""
    open_generation(current_generation(index_dir), verify=True)


def describe(manifest: dict) -> dict[str, Any]:
    """Short facts for logs and `index` output."""
    c = manifest.get("counts", {})
    return {
        "articles": c.get("articles"),
        "passages": c.get("passages"),
        "terms": c.get("terms"),
        "created": manifest.get("created"),
    }
