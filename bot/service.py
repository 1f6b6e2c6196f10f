"""Opening the corpus as a search engine, and keeping it current.

`open_engine` loads the persisted index when it is fresh, else builds the engine (and persists it when
given an `index_dir`). `Library` holds the current engine of a long-running bot and reloads it without
stalling the answers: the rebuild runs in a child process (or a worker thread), the new engine is
swapped in only when it is complete, and until then every question is answered from the old one.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import threading
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

from bot import store
from bot.build import BuildError, EmptyCorpus, build_parts, build_to, corpus_items
from bot.search import Engine
from bot.search_settings import SearchSettings

log = logging.getLogger(__name__)

__all__ = ["BuildError", "EmptyCorpus", "Library", "build_index", "load_fresh", "load_generation", "open_engine"]


def open_engine(
    corpus: Path,
    settings: SearchSettings = SearchSettings(),
    progress: bool = False,
    *,
    index_dir: Path | None = None,
    rebuild: bool = False,
) -> Engine:
    """The search engine of `corpus`.

    Without `index_dir`, it is built in memory. With it, the index persisted there is loaded
    (memory-mapped) when it is fresh: built from the same corpus files (paths, sizes, modification
    times), with the same settings and the same analysis code and libraries. Otherwise (or with
    `rebuild`) the index is built into a new generation there (the articles streamed to disk as they
    come) and loaded from it; a missing index is built quietly, a corrupt or foreign one is reported with
    a warning and replaced. Failing to write the index is a warning too: the engine is then built in
    memory and returned all the same.
    """
    corpus = Path(corpus)
    if index_dir is None:
        return _build_in_memory(corpus, settings, progress)
    index_dir = Path(index_dir)
    fingerprint = store.corpus_fingerprint(corpus, exclude=index_dir) if corpus.exists() else None
    if not rebuild and fingerprint is not None:
        engine = load_fresh(index_dir, settings, fingerprint)
        if engine is not None:
            return engine
    try:
        return load_generation(build_index(corpus, settings, index_dir, fingerprint, progress))
    except OSError as e:
        log.warning("could not write the index to %s (%s); answering from memory", index_dir, e)
    return _build_in_memory(corpus, settings, progress)


def load_fresh(index_dir: Path, settings: SearchSettings, fingerprint: dict) -> Engine | None:
    """The persisted engine if it matches the corpus fingerprint and the settings; else None (logged)."""
    t0 = time.perf_counter()
    try:
        manifest = store.read_manifest(index_dir)
        why = store.staleness(manifest, fingerprint, store.build_fingerprint(settings))
        if why:
            log.info("index in %s is out of date: %s; rebuilding", index_dir, why)
            return None
        engine = Engine.load(index_dir)
    except store.NoIndex as e:
        log.info("%s; building it", e)
        return None
    except store.StoreError as e:
        log.warning("index in %s is unusable: %s; rebuilding it", index_dir, e)
        return None
    log.info("index loaded from %s in %.2f s", index_dir, time.perf_counter() - t0)
    return engine


def load_generation(gen: Path) -> Engine:
    """The engine persisted in one generation folder (as `build_index` or `Engine.save` returned it)."""
    return Engine.from_stored(store.open_generation(Path(gen)))


def build_index(
    corpus: Path, settings: SearchSettings, index_dir: Path, fingerprint: dict | None = None, progress: bool = False
) -> Path:
    """Load, analyse and index the corpus straight into a new generation of `index_dir`; its folder.

    EmptyCorpus when no article could be loaded (the index in use, if any, stays), OSError when the index
    cannot be written.
    """
    with _progress_bar(progress) as tick:
        gen, built = build_to(index_dir, corpus_items(Path(corpus)), settings, corpus_fp=fingerprint, progress=tick)
    log.info(
        "indexed %d articles, %d passages in %.2f s into %s",
        len(built.articles), len(built.passages), built.build_seconds, gen,
    )  # fmt: skip
    return gen


def _build_in_memory(corpus: Path, settings: SearchSettings, progress: bool = False) -> Engine:
    with _progress_bar(progress) as tick:
        engine = Engine.from_built(build_parts(corpus_items(corpus), settings, tick))
    if not len(engine.articles):
        reasons = "; ".join(f"{s.path}: {s.reason}" for s in engine.skipped[:5])
        raise EmptyCorpus(f"no article could be loaded from {corpus}" + (f" ({reasons})" if reasons else ""))
    return engine


@contextlib.contextmanager
def _progress_bar(show: bool):
    """A tqdm bar of passages done (on a terminal), as a build's progress callback; None when not shown."""
    if not show:
        yield None
        return
    from tqdm import tqdm

    bar = tqdm(total=None, unit=" passages", disable=None, leave=False)

    def tick(done: int, total: int | None) -> None:
        bar.total = total
        bar.n = done
        bar.refresh()

    try:
        yield tick
    finally:
        bar.close()


# --- keeping the engine current ------------------------------------------------------------------------


@dataclass
class ReloadSummary:
    """What a reload did. On failure (`ok` False) the previous engine is still the current one."""

    ok: bool
    before_articles: int
    before_passages: int
    after_articles: int  # == before_* when the reload failed
    after_passages: int
    seconds: float
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (file, reason) left out of the corpus
    error: str | None = None  # why it failed
    coalesced: bool = False  # this request shared a reload that another request had asked for

    def summary(self) -> str:
        if not self.ok:
            return f"reload failed after {self.seconds:.2f} s: {self.error}"
        return (
            f"articles {self.before_articles} -> {self.after_articles}, passages {self.before_passages} -> "
            f"{self.after_passages}, {self.seconds:.2f} s, {len(self.skipped)} skipped"
        )


class Library:
    """The current Engine of a corpus, and reloads that never stall the answers. Thread-safe.

        library = Library(corpus_dir, settings, index_dir=index_dir)
        library.open()                      # the first engine: loads a fresh index, else builds one
        engine = library.engine             # take it once per question; an Engine never changes
        summary = await library.reload()    # from any event loop; or library.reload_blocking()

    A reload rebuilds from the corpus off the caller's thread and swaps the new engine in only when it
    is complete; questions keep being answered by the old one meanwhile. With an `index_dir` the build
    runs in a child process (`isolate`, the default there), which writes the new index to disk; this
    process then only maps it in (a fraction of a second), so neither the build's CPU time (no GIL
    contention with the answers) nor its memory land here. Without one, it runs in a worker thread.

    Requests arriving while a reload runs are coalesced into one more reload after it (so a file added
    meanwhile is picked up), shared by all of them (`coalesced=True` for all but the first). A failed
    reload (an error, or a corpus with no usable article) keeps the old engine; the summary says why.
    """

    def __init__(
        self,
        corpus: Path,
        settings: SearchSettings = SearchSettings(),
        *,
        index_dir: Path | None = None,
        engine: Engine | None = None,
        isolate: bool | None = None,
    ):
        self.corpus = Path(corpus)
        self.settings = settings
        self.index_dir = Path(index_dir) if index_dir is not None else None
        self.isolate = (self.index_dir is not None) if isolate is None else isolate
        if self.isolate and self.index_dir is None:
            raise ValueError("isolate needs an index_dir: the child process hands the index over on disk")
        self._engine = engine
        self._lock = threading.Lock()
        self._running: concurrent.futures.Future | None = None  # the reload in progress
        self._pending: concurrent.futures.Future | None = None  # the one to run after it
        self._pending_requests = 0
        self.reloads = 0  # completed reload runs (successful or not)

    # -- the engine ---------------------------------------------------------------------------------

    @property
    def engine(self) -> Engine:
        engine = self._engine
        if engine is None:
            raise RuntimeError("the library has no engine yet: call open() first")
        return engine

    def open(self, progress: bool = False) -> Engine:
        """Set up the first engine (blocking): the persisted index when fresh, else a build."""
        if self.isolate:
            fingerprint = (
                store.corpus_fingerprint(self.corpus, exclude=self.index_dir) if self.corpus.exists() else None
            )
            engine = load_fresh(self._isolated_dir(), self.settings, fingerprint) if fingerprint else None
            if engine is None:
                engine = self._rebuild_isolated()
        else:  # loads a fresh persisted index itself, else builds (and persists, with an index_dir)
            engine = open_engine(self.corpus, self.settings, progress, index_dir=self.index_dir)
        with self._lock:
            self._engine = engine
        return engine

    def changed(self) -> str | None:
        """Why the corpus (or the settings/code) no longer match the current engine; None if they do.

        A walk over the corpus' file names, sizes and times: cheap enough to poll every few seconds.
        """
        manifest = self._engine.manifest if self._engine is not None else None
        if manifest is None:
            return "the current engine was not loaded from a persisted index"
        if not self.corpus.exists():
            return f"the corpus {self.corpus} is gone"
        fingerprint = store.corpus_fingerprint(self.corpus, exclude=self.index_dir)
        return store.staleness(manifest, fingerprint, store.build_fingerprint(self.settings))

    # -- reloading ----------------------------------------------------------------------------------

    async def reload(self) -> ReloadSummary:
        """Rebuild off the event loop and swap the new engine in; see the class docstring."""
        return await asyncio.wrap_future(self.request_reload())

    async def reload_if_changed(self) -> ReloadSummary | None:
        """Reload when `changed()` says so (e.g. from a periodic check or SIGHUP); else None."""
        why = await asyncio.to_thread(self.changed)
        if why is None:
            return None
        log.info("reloading: %s", why)
        return await self.reload()

    def reload_blocking(self, timeout: float | None = None) -> ReloadSummary:
        """`reload` for threads without an event loop."""
        return self.request_reload().result(timeout)

    def request_reload(self) -> concurrent.futures.Future:
        """Start (or join) a reload; a Future of its ReloadSummary."""
        with self._lock:
            if self._running is None:
                run = self._running = concurrent.futures.Future()
                threading.Thread(target=self._worker, args=(run,), name="library-reload", daemon=True).start()
                coalesced = False
            else:
                if self._pending is None:
                    self._pending = concurrent.futures.Future()
                    self._pending_requests = 0
                run = self._pending
                coalesced = self._pending_requests > 0
                self._pending_requests += 1
        mine: concurrent.futures.Future = concurrent.futures.Future()

        def done(f: concurrent.futures.Future) -> None:
            summary = f.result()
            mine.set_result(replace(summary, coalesced=True) if coalesced else summary)

        run.add_done_callback(done)
        return mine

    @property
    def reloading(self) -> bool:
        return self._running is not None

    def _worker(self, first: concurrent.futures.Future) -> None:
        run: concurrent.futures.Future | None = first
        while run is not None:
            try:
                summary = self._reload_once()
            except BaseException as e:  # never leave requesters waiting
                log.exception("reload crashed")
                old = self._engine
                n_a, n_p = (len(old.articles), len(old.passages)) if old is not None else (0, 0)
                summary = ReloadSummary(False, n_a, n_p, n_a, n_p, 0.0, error=f"{type(e).__name__}: {e}")
            with self._lock:
                self.reloads += 1
                nxt = self._pending
                self._pending = None
                self._running = nxt
            run.set_result(summary)
            run = nxt

    def _reload_once(self) -> ReloadSummary:
        old = self._engine
        before = (len(old.articles), len(old.passages)) if old is not None else (0, 0)
        t0 = time.perf_counter()

        def failed(error: str, skipped=()) -> ReloadSummary:
            log.warning("reload failed, keeping the current engine: %s", error)
            return ReloadSummary(False, *before, *before, time.perf_counter() - t0, list(skipped), error)

        try:
            if self.isolate:
                new = self._rebuild_isolated()
            else:
                new = open_engine(self.corpus, self.settings, index_dir=self.index_dir, rebuild=True)
        except _BuildFailed as e:
            return failed(e.reason, e.skipped)
        except EmptyCorpus as e:
            return failed(str(e))
        except Exception as e:
            log.exception("reload failed")
            return failed(f"{type(e).__name__}: {e}")
        if len(new.passages) == 0:
            return failed("the corpus gives no passages", [(s.path, s.reason) for s in new.skipped])
        with self._lock:
            self._engine = new
        seconds = time.perf_counter() - t0
        log.info("reloaded in %.2f s: %d articles, %d passages", seconds, len(new.articles), len(new.passages))
        return ReloadSummary(
            True, *before, len(new.articles), len(new.passages), seconds, [(s.path, s.reason) for s in new.skipped]
        )

    def _rebuild_isolated(self) -> Engine:
        """Build and persist in a child process; then map the new index in here."""
        import multiprocessing

        index_dir = str(self._isolated_dir())
        ctx = multiprocessing.get_context("spawn")
        with concurrent.futures.ProcessPoolExecutor(max_workers=1, mp_context=ctx) as pool:
            try:
                result = pool.submit(_build_and_save, str(self.corpus), self.settings, index_dir).result()
            except concurrent.futures.process.BrokenProcessPool as e:
                raise _BuildFailed(f"the build process died ({e}); out of memory?") from None
        if result.get("error"):
            raise _BuildFailed(result["error"], result.get("skipped", []))
        try:
            return load_generation(Path(result["generation"]))
        except (FileNotFoundError, store.StoreError):  # replaced meanwhile by another writer
            return Engine.load(self._isolated_dir())

    def _isolated_dir(self) -> Path:
        """The folder an isolated library's child process builds into (__init__ makes sure there is one)."""
        if self.index_dir is None:
            raise RuntimeError("isolate needs an index_dir")
        return self.index_dir


class _BuildFailed(Exception):
    def __init__(self, reason: str, skipped=()):
        super().__init__(reason)
        self.reason = reason
        self.skipped = [tuple(s) for s in skipped]


def _build_and_save(corpus: str, settings: SearchSettings, index_dir: str) -> dict:
    """In a child process: load, build and persist; a small picklable report."""
    try:
        fingerprint = store.corpus_fingerprint(Path(corpus), exclude=Path(index_dir)) if Path(corpus).exists() else None
        gen = build_index(Path(corpus), settings, Path(index_dir), fingerprint)
        manifest = store.generation_manifest(gen)
    except EmptyCorpus as e:
        return {"error": str(e)}
    except Exception as e:  # reported to the parent, which keeps its engine
        return {"error": f"{type(e).__name__}: {e}"}
    return {
        "generation": str(gen),
        "articles": manifest["counts"]["articles"],
        "passages": manifest["counts"]["passages"],
        "skipped": manifest.get("skipped", []),
    }
