"""The persisted index: its parts on disk as .npy arrays, loaded memory-mapped in well under a second.

Layout of an index folder (`BOT_INDEX_DIR`):

    CURRENT                 the name of the generation in use (replaced atomically)
    gen-<time>-<pid>/       one complete index: *.npy arrays and manifest.json, written last
    tmp-<pid>-<random>/     a generation being written (left behind only by a crash; cleaned up)

A writer (`GenerationWriter`) fills a tmp- folder, fsyncs it, renames it to gen-..., then replaces
CURRENT; so a reader sees the old index or the new one, never a half-written one, and a crash at any
point leaves the old one in place. Older generations are removed after the switch (a process that has
them memory-mapped keeps reading them: unlinked files live on while mapped). A build streams the article
records into the tmp- folder as the articles come (`GenerationWriter.stream`), so they are never all in
memory.

manifest.json says what the index was built from and how (`bot.fingerprint`): the corpus fingerprint,
the search settings and the versions of the code and libraries that shape the index, the format version,
and each file's size, dtype, shape and CRC-32; plus its own SHA-256. A load checks all of that but the
CRCs of the big arrays (`verify=True` checks those too).

The arrays: postings (indptr, doc_ids, weights, doc_len, idf, max_w, champions), the vocabulary, the
passages and the articles in the compact forms of `bot.columns`; plus `x_<name>` arrays that a caller
persists with the index (`extras`).

This module knows the parts, not the Engine: `bot.search` makes an Engine of what `open_index` returns.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import io
import json
import logging
import os
import re
import shutil
import time
import uuid
import zlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from bot.articles import Skipped
from bot.columns import ArticleStore, PassageTable, SortedVocabulary, StoredArticle  # noqa: F401 (re-exported)
from bot.fingerprint import build_fingerprint, corpus_fingerprint, staleness  # noqa: F401 (re-exported)
from bot.index import Index, ScoringSettings

log = logging.getLogger(__name__)

FORMAT = "corpus-bot-index"
VERSION = 2
CURRENT = "CURRENT"
MANIFEST = "manifest.json"
_GEN_RE = re.compile(r"gen-[0-9A-Za-z_-]+")
_TMP_RE = re.compile(r"tmp-(\d+)-[0-9a-f]+")
# files up to this size have their CRC checked on every load (the big arrays only with verify=True)
_CRC_ON_LOAD = 16 << 20
_NEEDED = (
    "indptr doc_ids weights doc_len idf max_w champ_terms champ_pos vocab_keys vocab_ids vocab_blob vocab_off "
    "p_article p_index p_count p_start p_end art_rec art_off art_date art_zdict"
).split()


class StoreError(Exception):
    """The index folder holds no usable index: missing, foreign, corrupt, or written by another version."""


class NoIndex(StoreError):
    """There is no index at all (yet) in the folder."""


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


# --- writing -------------------------------------------------------------------------------------------


class GenerationWriter:
    """A generation being written in a tmp- folder of `index_dir`; `commit` publishes it atomically.

    Use as a context manager: leaving it without a commit (an exception) removes the tmp- folder.
    Raises OSError when it cannot write; the index in use, if any, stays as it was.
    """

    def __init__(self, index_dir: Path):
        self.index_dir = Path(index_dir)
        self.index_dir.mkdir(parents=True, exist_ok=True)
        _remove_stale_tmp(self.index_dir)
        self.tmp = self.index_dir / f"tmp-{os.getpid()}-{uuid.uuid4().hex[:12]}"
        self.tmp.mkdir()
        self.files: dict[str, dict] = {}
        self._streams: list[ByteStream] = []
        self.committed: Path | None = None

    def __enter__(self) -> GenerationWriter:
        return self

    def __exit__(self, *exc) -> None:
        if self.committed is None:
            self.abort()

    def array(self, name: str, arr: np.ndarray) -> None:
        self.files[name + ".npy"] = _write_array(self.tmp / (name + ".npy"), arr)

    def arrays(self, arrays: Mapping[str, np.ndarray]) -> None:
        for name, arr in arrays.items():
            self.array(name, arr)

    def stream(self, name: str) -> ByteStream:
        """A uint8 array written piece by piece (`write(bytes)`), finished at `commit`."""
        s = ByteStream(self.tmp / (name + ".npy"))
        self._streams.append(s)
        return s

    def commit(self, manifest: dict) -> Path:
        """Finish the streams, write the manifest, publish the generation; its folder."""
        for s in self._streams:
            self.files[s.path.name] = s.close()
        manifest = {"format": FORMAT, "version": VERSION, "created": time.time(), **manifest, "files": self.files}
        _write_manifest(self.tmp / MANIFEST, manifest)
        _fsync_dir(self.tmp)
        gen = self.index_dir / f"gen-{time.time_ns()}-{os.getpid()}"
        with _dir_lock(self.index_dir):
            os.rename(self.tmp, gen)
            _write_current(self.index_dir, gen.name)
            _remove_old_generations(self.index_dir, keep=gen.name)
        self.committed = gen
        return gen

    def abort(self) -> None:
        for s in self._streams:
            s.f.close()
        shutil.rmtree(self.tmp, ignore_errors=True)


class ByteStream:
    """A .npy file of uint8 written in pieces: the header, reserved at the start, is written last."""

    HEADER = 128

    def __init__(self, path: Path):
        self.path = path
        self.f = open(path, "wb")
        self.f.write(b"\0" * self.HEADER)
        self.n = 0

    def write(self, data: bytes) -> None:
        self.f.write(data)
        self.n += len(data)

    def close(self) -> dict:
        header = _npy_header(np.dtype(np.uint8), (self.n,))
        if len(header) != self.HEADER:
            raise AssertionError(f"unexpected .npy header size {len(header)}")
        self.f.seek(0)
        self.f.write(header)
        self.f.flush()
        os.fsync(self.f.fileno())
        self.f.close()
        return {"bytes": self.HEADER + self.n, "dtype": "|u1", "shape": [self.n], "crc32": _crc32(self.path)}


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
    arts = engine.articles if isinstance(engine.articles, ArticleStore) else ArticleStore.from_articles(engine.articles)
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


def _npy_header(dtype: np.dtype, shape: tuple[int, ...]) -> bytes:
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        buf, {"descr": np.lib.format.dtype_to_descr(dtype), "fortran_order": False, "shape": shape}
    )
    return buf.getvalue()


def _write_array(path: Path, arr: np.ndarray) -> dict:
    """One .npy file, fsynced; its manifest entry (the CRC-32 computed from memory, not read back)."""
    arr = np.ascontiguousarray(arr)
    header = _npy_header(arr.dtype, arr.shape)
    data = arr.data.cast("B") if arr.size else b""
    with open(path, "wb") as f:
        f.write(header)
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    return {
        "bytes": len(header) + arr.nbytes,
        "dtype": arr.dtype.str,
        "shape": list(arr.shape),
        "crc32": zlib.crc32(data, zlib.crc32(header)),
    }


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


def generation_manifest(gen: Path) -> dict:
    """The manifest of one generation folder, checked like `read_manifest`."""
    return _read_manifest(Path(gen))


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
    manifest = _read_manifest(gen)
    a = _read_arrays(gen, manifest, verify)
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
        articles = ArticleStore(a["art_rec"], a["art_off"], a["art_date"], a["art_zdict"])
    except Exception as e:  # a corrupt dictionary
        raise StoreError(f"{gen} has unusable article records: {e}") from None
    passages = PassageTable(*(a["p_" + c] for c in PassageTable.COLUMNS))
    extras = {k[2:]: v for k, v in a.items() if k.startswith("x_")}
    return Stored(gen, manifest, index, passages, articles, extras)


def _read_arrays(gen: Path, manifest: dict, verify: bool) -> dict[str, np.ndarray]:
    files = manifest.get("files")
    if not isinstance(files, dict):
        raise StoreError(f"{MANIFEST} in {gen} lists no files")
    arrays: dict[str, np.ndarray] = {}
    for fname, info in files.items():
        path = gen / fname
        size = path.stat().st_size  # FileNotFoundError: see open_index()
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
    return arrays


def _check_consistent(gen: Path, a: dict[str, np.ndarray], counts: dict) -> None:
    n_terms, n_docs, n_arts = len(a["idf"]), len(a["doc_len"]), len(a["art_off"]) - 1
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
            len(a["art_date"]) == n_arts and n_arts >= 0 and int(a["art_off"][-1]) == len(a["art_rec"]),
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


def index_size(index_dir: Path) -> int:
    """Bytes of the index in use."""
    gen = current_generation(index_dir)
    return sum(p.stat().st_size for p in gen.iterdir() if p.is_file())


def describe(manifest: dict) -> dict[str, Any]:
    """Short facts for logs and `index` output."""
    c = manifest.get("counts", {})
    return {
        "articles": c.get("articles"),
        "passages": c.get("passages"),
        "terms": c.get("terms"),
        "created": manifest.get("created"),
    }
