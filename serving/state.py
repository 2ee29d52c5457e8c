"""The service's state: the index being served, swapped whole on reload.

Requests read `ServiceState.current()` once and use that `IndexSnapshot` to the end, so a
reload never shows a request half of one index and half of another: the new index is
loaded and smoke-tested completely beside the old one, then one attribute assignment (atomic
under the GIL) makes it current. Requests already running finish on the old snapshot, which
is freed when the last of them drops it. A broken index raises before the swap and the old
one keeps serving.

>>> state = ServiceState.open(ServeConfig(index="indexes/wiki"))     # doctest: +SKIP
>>> state.current().index.neighbors("shark", k=3)  # doctest: +SKIP
>>> state.reload("indexes/wiki-hnsw")      # blocks while loading, then swaps  # doctest: +SKIP
"""

from __future__ import annotations

import datetime as _dt
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from embedrec.core.errors import ArtifactError, EmbedrecError
from embedrec.indexes.word_index import WordIndex
from embedrec.serving.config import ServeConfig

log = logging.getLogger(__name__)

T = TypeVar("T")
# OpenMP's thread count is per calling thread (set in one thread, it does not reach the
# others), so each thread that searches sets it once.
_omp = threading.local()


@dataclass(frozen=True)
class IndexSnapshot:
    """One loaded index and where it came from. ``generation`` counts reloads (0 at start;
    shared by all workers of one service)."""

    index: WordIndex
    path: str
    generation: int
    loaded_at: float
    load_seconds: float

    def describe(self) -> dict[str, Any]:
        """What /healthz, /metrics and reload answers say about the index."""
        manifest = self.index.manifest
        shards = manifest.get("shards")
        exact = bool(manifest.get("exact", False))
        recall = manifest.get("recall_at_10")
        return {
            "path": self.path,
            "kind": manifest.get("index_kind") or ("flat" if exact else "factory"),
            "factory": self.index.factory,
            "metric": self.index.metric,
            "exact": exact,
            "recall_at_10": 1.0 if exact and recall is None else recall,
            "search_params": dict(manifest.get("search_params") or {}),
            "vectors": len(self.index),
            "dim": self.index.dim,
            "shards": len(shards) if isinstance(shards, list) else 1,
            "in_memory_from_model": bool(manifest.get("in_memory", False)),
            "generation": self.generation,
            "loaded_at": _dt.datetime.fromtimestamp(self.loaded_at, _dt.UTC).isoformat(),
            "load_seconds": round(self.load_seconds, 3),
        }


def open_snapshot(path: str | Path, generation: int) -> IndexSnapshot:
    """Load ``path`` (index or model directory) and prove it answers a search.

    Raises an `EmbedrecError` (usually `ArtifactError`) naming what is wrong.
    """
    from embedrec.indexes import load_index

    started = time.perf_counter()
    resolved = Path(path).expanduser()
    if not resolved.is_dir():
        raise ArtifactError(resolved, "is not a directory")
    try:
        index = load_index(resolved)
    except (OSError, ValueError, RuntimeError) as exc:  # unreadable or cut-short files
        raise ArtifactError(resolved, f"cannot be loaded ({type(exc).__name__}: {exc})") from None
    if len(index) < 2:
        raise ArtifactError(resolved, f"holds {len(index)} vectors; a service needs at least 2")
    try:
        index.search(index.rows([0]), 1)
    except (RuntimeError, ValueError) as exc:
        raise ArtifactError(resolved, f"cannot be searched ({exc})") from None
    return IndexSnapshot(
        index=index,
        path=str(resolved.resolve()),
        generation=generation,
        loaded_at=time.time(),
        load_seconds=time.perf_counter() - started,
    )


class ServiceState:
    """The current index snapshot of one worker process, and the settings.

    This is the object route builders receive (see `serving.app`): ``current()`` (lock-free)
    gives the snapshot to use for a whole request, ``config`` the settings, ``run`` runs
    blocking work in the search thread pool. ``reload`` loads and swaps; concurrent reloads
    run one after another. ``on_swap`` callbacks (metrics) run after each swap.
    """

    def __init__(self, config: ServeConfig, snapshot: IndexSnapshot) -> None:
        self.config = config
        self._snapshot = snapshot
        self._reload_lock = threading.Lock()
        self._limiter: Any = None
        self.started_at = time.time()
        self.on_swap: list[Callable[[IndexSnapshot, IndexSnapshot | None], None]] = []

    @classmethod
    def open(cls, config: ServeConfig, *, path: str | None = None, generation: int = 0):
        """Load ``path`` (default ``config.index``) and wrap it; errors before serving."""
        return cls(config, open_snapshot(path or config.index, generation))

    def current(self) -> IndexSnapshot:
        """The snapshot to use for one whole request (one attribute read, no lock)."""
        return self._snapshot

    @property
    def index(self) -> WordIndex:
        """The current `WordIndex` (take `current()` once instead when using it twice)."""
        return self._snapshot.index

    def reload(
        self, path: str | Path | None = None, *, generation: int | None = None
    ) -> tuple[IndexSnapshot, IndexSnapshot]:
        """Load ``path`` (default: the current path again) and make it current.

        Returns ``(new, previous)``. On any error the previous snapshot stays current and
        the error propagates. ``generation`` (given by the multi-worker broadcast) defaults
        to the current one plus one.
        """
        with self._reload_lock:
            previous = self._snapshot
            target = path if path is not None else previous.path
            number = previous.generation + 1 if generation is None else generation
            try:
                snapshot = open_snapshot(target, number)
            except EmbedrecError:
                log.warning("reload of %s refused; still serving %s", target, previous.path)
                raise
            self._snapshot = snapshot
        log.info(
            "now serving %s (generation %d, %d vectors, loaded in %.2f s)",
            snapshot.path,
            snapshot.generation,
            len(snapshot.index),
            snapshot.load_seconds,
        )
        for callback in self.on_swap:
            callback(snapshot, previous)
        return snapshot, previous

    def adopt(self, snapshot: IndexSnapshot) -> IndexSnapshot:
        """Make an already loaded ``snapshot`` current; returns the previous one."""
        with self._reload_lock:
            previous, self._snapshot = self._snapshot, snapshot
        for callback in self.on_swap:
            callback(snapshot, previous)
        return previous

    async def run(self, func: Callable[..., T], *args: Any) -> T:
        """Run blocking ``func(*args)`` in the search thread pool (or inline, with 0 threads).

        FAISS releases the GIL while it searches, so searches from several threads use
        several cores; the pool size bounds how many run at once. FAISS's OpenMP threads per
        search are set to ``config.omp_threads`` in whichever thread runs it.
        """
        if self.config.search_threads == 0:
            return _with_omp(self.config.omp_threads, func, *args)
        import anyio.to_thread

        if self._limiter is None:
            self._limiter = anyio.CapacityLimiter(self.config.search_threads)
        return await anyio.to_thread.run_sync(
            _with_omp, self.config.omp_threads, func, *args, limiter=self._limiter
        )


def _with_omp(threads: int | None, func: Callable[..., T], *args: Any) -> T:
    if threads is not None and getattr(_omp, "threads", None) != threads:
        import faiss

        faiss.omp_set_num_threads(threads)
        _omp.threads = threads
    return func(*args)
