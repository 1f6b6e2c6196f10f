"""The index folder: generations written aside and published atomically, and their manifests.

Layout of an index folder (`BOT_INDEX_DIR`):

    CURRENT                 the name of the generation in use (replaced atomically)
    gen-<time>-<pid>/       one complete index: *.npy arrays and manifest.json, written last
    tmp-<pid>-<random>/     a generation being written (left behind only by a crash; cleaned up)

A writer (`GenerationWriter`) fills a tmp- folder, fsyncs it, renames it to gen-..., then replaces
CURRENT; so a reader sees the old index or the new one, never a half-written one, and a crash at any
point leaves the old one in place. Older generations are removed after the switch (a process that has
them memory-mapped keeps reading them: unlinked files live on while mapped). Big arrays can be streamed
into the tmp- folder piece by piece (`GenerationWriter.stream`).

manifest.json lists each file's size, dtype, shape and CRC-32, plus whatever the writer adds (see
`bot.store`), and its own SHA-256. Reading checks the format, the version and the digest, then each
file's size and header; the CRCs of files up to 16 MB always, of the big ones with `verify=True`.
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
from collections.abc import Mapping
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

FORMAT = "corpus-bot-index"
VERSION = 4  # 4: each passage's sentence spans kept (x_sent_values, x_sent_off: bot.sentence_table)
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


def read_arrays(gen: Path, manifest: dict, verify: bool) -> dict[str, np.ndarray]:
    """Every file the manifest lists, checked against it and memory-mapped, by name (without .npy)."""
    files = manifest.get("files")
    if not isinstance(files, dict):
        raise StoreError(f"{MANIFEST} in {gen} lists no files")
    arrays: dict[str, np.ndarray] = {}
    for fname, info in files.items():
        path = gen / fname
        size = path.stat().st_size  # FileNotFoundError: a writer replaced it (callers retry)
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


def index_size(index_dir: Path) -> int:
    """Bytes of the index in use."""
    gen = current_generation(index_dir)
    return sum(p.stat().st_size for p in gen.iterdir() if p.is_file())
