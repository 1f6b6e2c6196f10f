"""The persisted index: an Engine on disk, loaded memory-mapped in well under a second.

Layout of an index folder (`BOT_INDEX_DIR`):

    CURRENT                 the name of the generation in use (replaced atomically)
    gen-<time>-<pid>/       one complete index: *.npy arrays and manifest.json, written last
    tmp-<pid>-<random>/     a generation being written (left behind only by a crash; cleaned up)

A writer fills a tmp- folder, fsyncs it, renames it to gen-..., then replaces CURRENT; so a reader sees
the old index or the new one, never a half-written one, and a crash at any point leaves the old one in
place. Older generations are removed after the switch (a process that has them memory-mapped keeps
reading them: unlinked files live on while mapped).

manifest.json says what the index was built from and how: the corpus fingerprint (every file's path,
size and modification time, hashed), the search settings and the versions of the code and libraries
that shape the index, the format version, and each file's size, dtype, shape and CRC-32; plus its own
SHA-256. A load checks all of that but the CRCs of the big arrays (`verify=True` checks those too).

Everything is a .npy array, memory-mapped on load:
- postings: indptr (int64), doc_ids (int32), weights (float32), idf, max_w (float32), champions;
- vocabulary: terms sorted by UTF-8 bytes, as fixed-width prefixes for np.searchsorted plus the full
  bytes (a dict of a million terms would take seconds to build); see `SortedVocabulary`;
- passages: five int32 columns (`PassageTable`);
- articles: metadata as one JSON array per article and paragraphs as one JSON array per article,
  zlib-compressed, each in a byte blob with offsets (`ArticleStore`); an article is decoded on access.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import os
import re
import shutil
import threading
import time
import uuid
import zlib
from collections import OrderedDict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from bot.articles import Article, Skipped
from bot.loaders import MODULES as LOADER_MODULES
from bot.passages import Passage

if TYPE_CHECKING:
    from bot.search import Engine, SearchSettings

log = logging.getLogger(__name__)

FORMAT = "corpus-bot-index"
VERSION = 1
CURRENT = "CURRENT"
MANIFEST = "manifest.json"
_GEN_RE = re.compile(r"gen-[0-9A-Za-z_-]+")
_TMP_RE = re.compile(r"tmp-(\d+)-[0-9a-f]+")
# files up to this size have their CRC checked on every load (the big arrays only with verify=True)
_CRC_ON_LOAD = 16 << 20


class StoreError(Exception):
    """The index folder holds no usable index: missing, foreign, corrupt, or written by another version."""


class NoIndex(StoreError):
    """There is no index at all (yet) in the folder."""


# --- compact forms ------------------------------------------------------------------------------------


class _ArraySequence(Sequence):
    """A read-only sequence over arrays: slices, negative indices and bounds here, `_item` in each."""

    NAME = "item"

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [self._item(j) for j in range(*i.indices(len(self)))]
        if i < 0:
            i += len(self)
        if not 0 <= i < len(self):
            raise IndexError(f"{self.NAME} index out of range")
        return self._item(i)

    def _item(self, i: int):
        raise NotImplementedError


class PassageTable(_ArraySequence):
    """The passages as five int32 columns; `Passage` objects are made on access.

    A million Passage objects take ~150 MB and a second to create; the columns take 20 MB and load
    memory-mapped in no time.
    """

    COLUMNS = ("article", "index", "count", "start", "end")

    def __init__(self, article, index, count, start, end):
        self.article, self.index, self.count, self.start, self.end = article, index, count, start, end

    @classmethod
    def from_passages(cls, passages: Sequence[Passage]) -> "PassageTable":
        cols = [np.fromiter((getattr(p, c) for p in passages), dtype=np.int32, count=len(passages)) for c in cls.COLUMNS]
        return cls(*cols)

    def columns(self) -> dict[str, np.ndarray]:
        return {c: np.asarray(getattr(self, c)) for c in self.COLUMNS}

    def __len__(self) -> int:
        return len(self.article)

    NAME = "passage"

    def _item(self, i: int) -> Passage:
        return Passage(int(self.article[i]), int(self.index[i]), int(self.count[i]), int(self.start[i]), int(self.end[i]))

    def __iter__(self) -> Iterator[Passage]:
        cols = [np.asarray(getattr(self, c)).tolist() for c in self.COLUMNS]
        return (Passage(*row) for row in zip(*cols))

    def __eq__(self, other) -> bool:
        if isinstance(other, PassageTable):
            return all(np.array_equal(getattr(self, c), getattr(other, c)) for c in self.COLUMNS)
        if isinstance(other, Sequence):
            return len(self) == len(other) and all(a == b for a, b in zip(self, other))
        return NotImplemented

    __hash__ = None


class PassageTableBuilder:
    """Collects passages column by column (array('i')), for Engine.build."""

    def __init__(self):
        import array

        self.cols = [array.array("i") for _ in PassageTable.COLUMNS]

    def extend(self, passages: Sequence[Passage]) -> None:
        a, i, c, s, e = self.cols
        for p in passages:
            a.append(p.article)
            i.append(p.index)
            c.append(p.count)
            s.append(p.start)
            e.append(p.end)

    def __len__(self) -> int:
        return len(self.cols[0])

    def span(self, i: int) -> tuple[int, int]:
        return self.cols[3][i], self.cols[4][i]

    def table(self) -> PassageTable:
        return PassageTable(*(np.frombuffer(c, dtype=np.int32).copy() if len(c) else np.zeros(0, np.int32) for c in self.cols))


_META_FIELDS = ("id", "title", "author", "source", "url", "published", "lang", "path")


class StoredArticle(Article):
    """An Article whose paragraphs are read from the store on first use (then kept)."""

    def __init__(self, *args, **kwargs):  # for dataclasses.replace & co: a plain, eager article
        super().__init__(*args, **kwargs)

    @property
    def paragraphs(self) -> list[str]:  # type: ignore[override]
        d = self.__dict__
        if "_paragraphs" not in d:
            d["_paragraphs"] = d.pop("_loader")()
        return d["_paragraphs"]

    @paragraphs.setter
    def paragraphs(self, value: list[str]) -> None:
        self.__dict__["_paragraphs"] = value
        self.__dict__.pop("_loader", None)

    def __eq__(self, other):
        if not isinstance(other, Article):
            return NotImplemented
        return all(getattr(self, f.name) == getattr(other, f.name) for f in fields(Article))

    __hash__ = None

    def __repr__(self) -> str:
        return f"StoredArticle(id={self.id!r}, title={self.title!r})"

    def __reduce__(self):  # pickles (and copies) as a plain, complete Article
        return (Article, tuple(getattr(self, f.name) for f in fields(Article)))


class ArticleStore(_ArraySequence):
    """The articles, decoded on access from two byte blobs (metadata, zlib'd paragraphs)."""

    CACHE = 4096  # articles kept decoded

    def __init__(self, meta: np.ndarray, meta_off: np.ndarray, text: np.ndarray, text_off: np.ndarray):
        self.meta, self.meta_off, self.text, self.text_off = meta, meta_off, text, text_off
        self._cache: OrderedDict[int, StoredArticle] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self.meta_off) - 1

    NAME = "article"

    def _item(self, i: int) -> StoredArticle:
        with self._lock:
            a = self._cache.get(i)
            if a is not None:
                self._cache.move_to_end(i)
                return a
        a = self._make(i)
        with self._lock:
            self._cache[i] = a
            if len(self._cache) > self.CACHE:
                self._cache.popitem(last=False)
        return a

    def __iter__(self) -> Iterator[Article]:
        for i in range(len(self)):
            yield self[i]

    def _make(self, i: int) -> StoredArticle:
        a0, a1 = int(self.meta_off[i]), int(self.meta_off[i + 1])
        values = json.loads(self.meta[a0:a1].tobytes())
        art = StoredArticle.__new__(StoredArticle)
        art.__dict__.update(zip(_META_FIELDS, values))
        art.__dict__["_loader"] = lambda: self.paragraphs_of(i)
        return art

    def paragraphs_of(self, i: int) -> list[str]:
        t0, t1 = int(self.text_off[i]), int(self.text_off[i + 1])
        return json.loads(zlib.decompress(self.text[t0:t1].tobytes()))

    @staticmethod
    def encode(articles: Sequence[Article]) -> dict[str, np.ndarray]:
        meta, text = bytearray(), bytearray()
        meta_off = np.zeros(len(articles) + 1, dtype=np.int64)
        text_off = np.zeros(len(articles) + 1, dtype=np.int64)
        comp = zlib.compressobj  # one stream per article: any article decodes alone
        for i, a in enumerate(articles):
            meta += json.dumps([getattr(a, f) for f in _META_FIELDS], ensure_ascii=False).encode()
            c = comp(1)
            text += c.compress(json.dumps(a.paragraphs, ensure_ascii=False).encode()) + c.flush()
            meta_off[i + 1] = len(meta)
            text_off[i + 1] = len(text)
        return {
            "art_meta": np.frombuffer(bytes(meta), dtype=np.uint8),
            "art_meta_off": meta_off,
            "art_text": np.frombuffer(bytes(text), dtype=np.uint8),
            "art_text_off": text_off,
        }


_UNSEEN = object()


class SortedVocabulary(Mapping):
    """term -> id over terms sorted by their UTF-8 bytes: binary search instead of a dict.

    `keys` holds each term's first `width` bytes (numpy 'S' array, searchsorted); terms longer than that
    are told apart by their full bytes in `blob[offsets[i]:offsets[i+1]]`.
    """

    def __init__(self, keys: np.ndarray, ids: np.ndarray, blob: np.ndarray, offsets: np.ndarray):
        self.keys, self.ids, self.blob, self.offsets = keys, ids, blob, offsets
        self.width = keys.dtype.itemsize
        self._memo: dict[str, int | None] = {}

    @staticmethod
    def encode(vocab: Mapping[str, int]) -> dict[str, np.ndarray]:
        items = sorted(((t.encode("utf-8"), i) for t, i in vocab.items()), key=lambda x: x[0])
        longest = max((len(b) for b, _ in items), default=1)
        width = max(1, min(longest, 32))
        keys = np.array([b[:width] for b, _ in items], dtype=f"S{width}")
        ids = np.array([i for _, i in items], dtype=np.int32)
        blob = np.frombuffer(b"".join(b for b, _ in items), dtype=np.uint8)
        offsets = np.zeros(len(items) + 1, dtype=np.int64)
        np.cumsum([len(b) for b, _ in items], out=offsets[1:])
        return {"vocab_keys": keys, "vocab_ids": ids, "vocab_blob": blob, "vocab_off": offsets}

    def get(self, term: str, default=None):
        memo = self._memo
        tid = memo.get(term, _UNSEEN)
        if tid is _UNSEEN:
            tid = self._find(term)
            if len(memo) > 100_000:
                memo.clear()
            memo[term] = tid
        return default if tid is None else tid

    def _find(self, term: str) -> int | None:
        q = term.encode("utf-8")
        if not q or b"\0" in q:
            return None
        head = q[: self.width]
        i = int(np.searchsorted(self.keys, head))
        n = len(self.keys)
        while i < n and self.keys[i] == head:
            if len(q) < self.width or self.blob[self.offsets[i] : self.offsets[i + 1]].tobytes() == q:
                return int(self.ids[i])
            i += 1
        return None

    def __getitem__(self, term: str) -> int:
        tid = self.get(term)
        if tid is None:
            raise KeyError(term)
        return tid

    def __contains__(self, term) -> bool:
        return isinstance(term, str) and self.get(term) is not None

    def __len__(self) -> int:
        return len(self.ids)

    def __iter__(self) -> Iterator[str]:
        blob, off = self.blob, self.offsets
        for i in range(len(self.ids)):
            yield blob[off[i] : off[i + 1]].tobytes().decode("utf-8")


# --- fingerprints ---------------------------------------------------------------------------------------


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
    return {"root": str(corpus.resolve()), "files": files, "bytes": total, "digest": h.hexdigest()}


# Modules whose code decides what goes into an index: a change to any of them means a rebuild.
# (bot.index itself says when its postings or weights change: index.BUILD_VERSION.)
_CODE_MODULES = ("bot.analysis", "bot.stopwords", "bot.passages", "bot.articles", "bot.language", *LOADER_MODULES)
_LIBRARIES = ("PyStemmer", "stopwordsiso", "py3langid", "trafilatura", "charset-normalizer", "PyYAML")


def build_fingerprint(settings: "SearchSettings") -> dict:
    """The settings and the code that shape an index (sources of the modules, library versions)."""
    import importlib
    from importlib import metadata

    code = hashlib.sha256()
    for name in _CODE_MODULES:
        mod = importlib.import_module(name)
        try:
            code.update(Path(mod.__file__).read_bytes())
        except (OSError, TypeError):
            code.update(name.encode())
    libs = {}
    for lib in _LIBRARIES:
        try:
            libs[lib] = metadata.version(lib)
        except metadata.PackageNotFoundError:
            libs[lib] = None
    from bot.index import BUILD_VERSION

    code.update(f"index-build-{BUILD_VERSION}".encode())
    return {"settings": settings.fingerprint(), "code": code.hexdigest()[:16], "libraries": libs}


# --- writing -------------------------------------------------------------------------------------------


def save(engine: "Engine", index_dir: Path, corpus_fp: dict | None = None, build_fp: dict | None = None) -> Path:
    """Write `engine` as the index in `index_dir`, atomically; the new generation's folder.

    Raises OSError when it cannot write; the previous index, if any, stays as it was.
    """
    t0 = time.perf_counter()
    index_dir = Path(index_dir)
    index_dir.mkdir(parents=True, exist_ok=True)
    _remove_stale_tmp(index_dir)
    tmp = index_dir / f"tmp-{os.getpid()}-{uuid.uuid4().hex[:12]}"
    tmp.mkdir()
    try:
        arrays = _engine_arrays(engine)
        files = {}
        for name, arr in arrays.items():
            files[name + ".npy"] = _write_array(tmp / (name + ".npy"), arr)
        idx = engine.index
        manifest = {
            "format": FORMAT,
            "version": VERSION,
            "created": time.time(),
            "corpus": corpus_fp,
            "build": build_fp or build_fingerprint(engine.settings),
            "counts": {
                "articles": len(engine.articles),
                "passages": len(engine.passages),
                "terms": idx.vocabulary_size,
                "postings": int(len(idx.doc_ids)),
            },
            "scoring": _settings_dict(engine.settings),
            "languages": sorted(engine.languages),
            "main_language": engine.main_language,
            "skipped": [[s.path, s.reason] for s in engine.skipped],
            "build_seconds": engine.build_seconds,
            "built_at": engine.built_at,
            "files": files,
        }
        _write_manifest(tmp / MANIFEST, manifest)
        _fsync_dir(tmp)
        gen = index_dir / f"gen-{time.time_ns()}-{os.getpid()}"
        with _dir_lock(index_dir):
            os.rename(tmp, gen)
            _write_current(index_dir, gen.name)
            _remove_old_generations(index_dir, keep=gen.name)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    log.info("index written to %s in %.2f s", gen, time.perf_counter() - t0)
    return gen


def _engine_arrays(engine: "Engine") -> dict[str, np.ndarray]:
    idx = engine.index
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
        out.update(vocab_keys=vocab.keys, vocab_ids=vocab.ids, vocab_blob=vocab.blob, vocab_off=vocab.offsets)
    else:
        out.update(SortedVocabulary.encode(vocab))
    passages = engine.passages if isinstance(engine.passages, PassageTable) else PassageTable.from_passages(engine.passages)
    out.update({"p_" + c: a for c, a in passages.columns().items()})
    arts = engine.articles
    if isinstance(arts, ArticleStore):
        out.update(art_meta=arts.meta, art_meta_off=arts.meta_off, art_text=arts.text, art_text_off=arts.text_off)
    else:
        out.update(ArticleStore.encode(arts))
    return out


def _settings_dict(settings) -> dict:
    from dataclasses import asdict

    return asdict(settings)


def _write_array(path: Path, arr: np.ndarray) -> dict:
    arr = np.asarray(arr)
    with open(path, "wb") as f:
        np.lib.format.write_array(f, np.ascontiguousarray(arr), allow_pickle=False)
        f.flush()
        os.fsync(f.fileno())
        size = f.tell()
    return {"bytes": size, "dtype": arr.dtype.str, "shape": list(arr.shape), "crc32": _crc32(path)}


def _crc32(path: Path) -> int:
    crc = 0
    with open(path, "rb") as f:
        while chunk := f.read(8 << 20):
            crc = zlib.crc32(chunk, crc)
    return crc


def _manifest_digest(manifest: dict) -> str:
    body = {k: v for k, v in manifest.items() if k != "sha256"}
    return hashlib.sha256(json.dumps(body, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def _write_manifest(path: Path, manifest: dict) -> None:
    manifest = dict(manifest)
    manifest["sha256"] = _manifest_digest(manifest)
    with open(path, "w", encoding="utf-8") as f:
        json.dump(manifest, f, ensure_ascii=False, indent=1)
        f.flush()
        os.fsync(f.fileno())


def _write_current(index_dir: Path, name: str) -> None:
    tmp = index_dir / f".{CURRENT}.{os.getpid()}.tmp"
    with open(tmp, "w", encoding="ascii") as f:
        f.write(name + "\n")
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, index_dir / CURRENT)
    _fsync_dir(index_dir)


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


@contextlib.contextmanager
def _dir_lock(index_dir: Path):
    """An exclusive lock on the index folder while a generation is published and old ones removed."""
    with open(index_dir / ".lock", "a+") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def _remove_old_generations(index_dir: Path, keep: str) -> None:
    for p in index_dir.iterdir():
        if p.name != keep and _GEN_RE.fullmatch(p.name) and p.is_dir():
            shutil.rmtree(p, ignore_errors=True)


def _remove_stale_tmp(index_dir: Path) -> None:
    """Remove tmp- folders of writers that are gone (a crash mid-write)."""
    for p in index_dir.iterdir():
        m = _TMP_RE.fullmatch(p.name)
        if m and p.is_dir() and not _alive(int(m.group(1))):
            log.info("removing %s, left by an interrupted index write", p)
            shutil.rmtree(p, ignore_errors=True)


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


# --- reading -------------------------------------------------------------------------------------------


def current_generation(index_dir: Path) -> Path:
    """The folder of the index in use; StoreError when there is none."""
    index_dir = Path(index_dir)
    try:
        name = (index_dir / CURRENT).read_text(encoding="ascii").strip()
    except FileNotFoundError:
        raise NoIndex(f"no index in {index_dir}") from None
    except (OSError, UnicodeDecodeError) as e:
        raise StoreError(f"unreadable {CURRENT} in {index_dir}: {e}") from None
    if not _GEN_RE.fullmatch(name):
        raise StoreError(f"{CURRENT} in {index_dir} names no index generation ({name[:40]!r})")
    gen = index_dir / name
    if not gen.is_dir():
        raise StoreError(f"{CURRENT} in {index_dir} names a missing generation {name}")
    return gen


def read_manifest(index_dir: Path) -> dict:
    """The manifest of the index in use, checked (format, version, its own digest); else StoreError."""
    return _read_manifest(current_generation(index_dir))


def _read_manifest(gen: Path) -> dict:
    try:
        manifest = json.loads((gen / MANIFEST).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise StoreError(f"{gen} has no {MANIFEST}") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise StoreError(f"unreadable {MANIFEST} in {gen}: {e}") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise StoreError(f"{gen} holds no {FORMAT} index (a foreign folder?)")
    if manifest.get("version") != VERSION:
        raise StoreError(f"{gen} is index format version {manifest.get('version')!r}; this code reads {VERSION}")
    if manifest.get("sha256") != _manifest_digest(manifest):
        raise StoreError(f"{MANIFEST} in {gen} fails its checksum (corrupt or edited)")
    return manifest


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


def load(index_dir: Path, verify: bool = False) -> "Engine":
    """The Engine persisted in `index_dir`, memory-mapped. StoreError when missing or unusable."""
    for attempt in range(2):
        try:
            gen = current_generation(index_dir)
            return _load_generation(gen, verify)
        except FileNotFoundError as e:  # a writer swapped generations under us: look again once
            if attempt:
                raise StoreError(f"index files vanished while loading: {e}") from None
    raise AssertionError("unreachable")


def load_generation(gen: Path, verify: bool = False) -> "Engine":
    """The Engine in one generation folder (as `save` returned it)."""
    return _load_generation(Path(gen), verify)


def _load_generation(gen: Path, verify: bool) -> "Engine":
    from bot.index import Index, ScoringSettings
    from bot.analysis import AnalysisSettings
    from bot.search import Engine, SearchSettings

    manifest = _read_manifest(gen)
    files = manifest.get("files")
    if not isinstance(files, dict):
        raise StoreError(f"{MANIFEST} in {gen} lists no files")
    arrays: dict[str, np.ndarray] = {}
    for fname, info in files.items():
        path = gen / fname
        size = path.stat().st_size  # FileNotFoundError: see load()
        if size != info.get("bytes"):
            raise StoreError(f"{path} is {size} bytes, the manifest says {info.get('bytes')} (truncated or replaced)")
        if (verify or size <= _CRC_ON_LOAD) and _crc32(path) != info.get("crc32"):
            raise StoreError(f"{path} fails its CRC-32 check (corrupt)")
        try:
            arr = np.load(path, mmap_mode="r", allow_pickle=False)
        except (ValueError, OSError) as e:
            raise StoreError(f"{path} is not a readable array: {e}") from None
        if arr.dtype.str != info.get("dtype") or list(arr.shape) != info.get("shape"):
            raise StoreError(f"{path} holds {arr.dtype.str}{list(arr.shape)}, not what the manifest says")
        arrays[fname[: -len(".npy")]] = np.asarray(arr) if arr.size else np.array(arr)
    need = (
        "indptr doc_ids weights doc_len idf max_w champ_terms champ_pos vocab_keys vocab_ids vocab_blob vocab_off "
        "p_article p_index p_count p_start p_end art_meta art_meta_off art_text art_text_off"
    ).split()
    missing = [n for n in need if n not in arrays]
    if missing:
        raise StoreError(f"{gen} lacks {', '.join(missing)}")
    a = arrays
    counts = manifest.get("counts", {})
    n_terms, n_docs, n_arts = len(a["idf"]), len(a["doc_len"]), len(a["art_meta_off"]) - 1
    checks = [
        (len(a["indptr"]) == n_terms + 1, "indptr/idf sizes"),
        (n_terms == 0 or (int(a["indptr"][0]) == 0 and int(a["indptr"][-1]) == len(a["doc_ids"])), "indptr ends"),
        (len(a["weights"]) == len(a["doc_ids"]), "weights/doc_ids sizes"),
        (len(a["max_w"]) == n_terms and len(a["vocab_ids"]) == n_terms and len(a["vocab_off"]) == n_terms + 1, "vocabulary sizes"),
        (all(len(a["p_" + c]) == n_docs for c in PassageTable.COLUMNS), "passage columns"),
        (len(a["art_text_off"]) == n_arts + 1, "article offsets"),
        (counts.get("passages") == n_docs and counts.get("articles") == n_arts and counts.get("terms") == n_terms, "counts"),
        (a["champ_pos"].ndim == 2 and len(a["champ_pos"]) == len(a["champ_terms"]), "champions"),
    ]
    for ok, what in checks:
        if not ok:
            raise StoreError(f"{gen} is inconsistent ({what})")

    sd = manifest.get("scoring") or {}
    try:
        settings = SearchSettings(
            passage_chars=sd["passage_chars"],
            analysis=AnalysisSettings(**sd["analysis"]),
            scoring=ScoringSettings(**sd["scoring"]),
        )
    except (KeyError, TypeError, ValueError) as e:
        raise StoreError(f"{MANIFEST} in {gen} has unusable settings: {e}") from None
    vocab = SortedVocabulary(a["vocab_keys"], a["vocab_ids"], a["vocab_blob"], a["vocab_off"])
    index = Index(
        vocab, a["indptr"], a["doc_ids"], a["weights"], a["doc_len"], a["idf"], settings.scoring,
        max_w=a["max_w"], champ_terms=a["champ_terms"], champ_pos=a["champ_pos"],
    )  # fmt: skip
    passages = PassageTable(*(a["p_" + c] for c in PassageTable.COLUMNS))
    articles = ArticleStore(a["art_meta"], a["art_meta_off"], a["art_text"], a["art_text_off"])
    skipped = [Skipped(p, r) for p, r in manifest.get("skipped", [])]
    engine = Engine(
        articles, passages, index, settings,
        skipped=skipped,
        build_seconds=float(manifest.get("build_seconds", 0.0)),
        built_at=float(manifest.get("built_at", manifest.get("created", 0.0))),
        languages=manifest.get("languages", []),
        main_language=manifest.get("main_language"),
    )  # fmt: skip
    engine.store_path = gen
    engine.manifest = manifest
    return engine


def verify(index_dir: Path) -> None:
    """Check every file of the index in use against its CRC-32 (reads it all); StoreError if bad."""
    _load_generation(current_generation(index_dir), verify=True)


def index_size(index_dir: Path) -> int:
    """Bytes of the index in use."""
    gen = current_generation(index_dir)
    return sum(p.stat().st_size for p in gen.iterdir() if p.is_file())


def describe(manifest: dict) -> dict[str, Any]:
    """Short facts for logs and `index` output."""
    c = manifest.get("counts", {})
    return {"articles": c.get("articles"), "passages": c.get("passages"), "terms": c.get("terms"), "created": manifest.get("created")}
