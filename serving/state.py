"""The service's state: the index being served, swapped whole on reload.

Requests read `ServiceState.current()` once and use that `IndexSnapshot` to the end, so a
reload never shows a request half of one index and half of another: the new index is
loaded and smoke-tested completely beside the old one, then one attribute assignment (atomic
under the GIL) makes it current. Requests already running finish on the old snapshot, which
is freed when the last of them drops it. A broken index raises before the swap and the old
one keeps serving.

Needs built indexes, so not run as a doctest:

>>> state = ServiceState.open(ServeConfig(index="indexes/wiki"))     # doctest: +SKIP
>>> state.current().index.neighbors("shark", k=3)                    # doctest: +SKIP
>>> state.reload("indexes/wiki-hnsw")  # blocks while loading, swaps  # doctest: +SKIP
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
from embedrec.serving.errors import UnknownIndexError
from embedrec.serving.index_names import DEFAULT_NAME

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
    name: str = DEFAULT_NAME

    def describe(self) -> dict[str, Any]:
        """What /healthz, /metrics and reload answers say about the index."""
        manifest = self.index.manifest
        shards = manifest.get("shards")
        exact = bool(manifest.get("exact", False))
        recall = manifest.get("recall_at_10")
        return {
            "name": self.name,
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


def open_snapshot(path: str | Path, generation: int, name: str = DEFAULT_NAME) -> IndexSnapshot:
    """Load ``path`` (index or model directory) as index ``name``; prove it answers a search.

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
        name=name,
    )


class ServiceState:
    """The current index snapshots of one worker process (one per served index name), and
    the settings.

    This is the object route builders receive (see `serving.app`): ``current()`` (lock-free)
    gives the default index's snapshot to use for a whole request, ``current(name)`` a named
    one (`UnknownIndexError`, 404, for a name not served), ``config`` the settings, ``run``
    runs blocking work in the search thread pool. ``reload`` loads and swaps one index;
    concurrent reloads run one after another. ``on_swap`` callbacks (metrics) run after each
    swap.
    """

    def __init__(
        self,
        config: ServeConfig,
        snapshot: IndexSnapshot,
        *others: IndexSnapshot,
        default: str | None = None,
    ) -> None:
        self.config = config
        # Replaced whole on every swap (one atomic assignment), never mutated in place.
        self._snapshots = {s.name: s for s in (snapshot, *others)}
        self.default_name = default if default in self._snapshots else snapshot.name
        self._reload_lock = threading.Lock()
        self._limiter: Any = None
        self.started_at = time.time()
        self.on_swap: list[Callable[[IndexSnapshot, IndexSnapshot | None], None]] = []

    @classmethod
    def open(
        cls,
        config: ServeConfig,
        *,
        path: str | None = None,
        generation: int = 0,
        served: dict[str, tuple[str, int]] | None = None,
    ) -> ServiceState:
        """Load every index of ``config`` and wrap them; errors before serving.

        ``served``: name → (directory, generation) to load instead of the configured ones
        (what the other workers serve now); ``path``/``generation``: the same for the first
        index alone.
        """
        snapshots = []
        for number, (name, directory) in enumerate(config.named_indexes().items()):
            target, gen = (served or {}).get(name, (directory, 0))
            if number == 0 and path is not None:
                target, gen = path, generation
            snapshots.append(open_snapshot(target, gen, name))
        return cls(config, *snapshots, default=config.default_name)

    def current(self, name: str | None = None) -> IndexSnapshot:
        """The snapshot to use for one whole request (one attribute read, no lock):
        the default index, or the one named ``name``."""
        snapshots = self._snapshots
        found = snapshots.get(self.default_name if name is None else name)
        if found is None:
            raise UnknownIndexError(
                f"no index named {name!r}; this service serves " + ", ".join(snapshots),
                extra={"index": name, "indexes": list(snapshots)},
            )
        return found

    def snapshots(self) -> dict[str, IndexSnapshot]:
        """Every served index by name, in the order given (``default_name`` says which
        one requests without ``index=`` use)."""
        return dict(self._snapshots)

    @property
    def index(self) -> WordIndex:
        """The default `WordIndex` (take `current()` once instead when using it twice)."""
        return self.current().index

    def reload(
        self,
        path: str | Path | None = None,
        *,
        generation: int | None = None,
        name: str | None = None,
    ) -> tuple[IndexSnapshot, IndexSnapshot]:
        """Load ``path`` (default: the current path again) as index ``name`` (default: the
        default index) and make it current.

        Returns ``(new, previous)``. On any error the previous snapshot stays current and
        the error propagates. ``generation`` (given by the multi-worker broadcast) defaults
        to the current one plus one.
        """
        with self._reload_lock:
            previous = self.current(name)
            target = path if path is not None else previous.path
            number = previous.generation + 1 if generation is None else generation
            try:
                snapshot = open_snapshot(target, number, previous.name)
            except EmbedrecError:
                log.warning("reload of %s refused; still serving %s", target, previous.path)
                raise
            self._snapshots = {**self._snapshots, snapshot.name: snapshot}
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
            previous = self.current(snapshot.name)
            self._snapshots = {**self._snapshots, snapshot.name: snapshot}
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
