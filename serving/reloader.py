"""Carrying reload requests (``POST /admin/reload``, SIGHUP) to this worker and to all workers.

One process (``--workers 1``): load beside the current index, swap (`ServiceState.reload`).
Several: the process that got the request loads and swaps first, then publishes through the
`ReloadBroadcast`; the others follow from their watch task, and the request waits for their
acks. Loading runs in a worker thread, so requests keep flowing on the event loop.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import anyio
import anyio.to_thread

from embedrec.core.errors import ConfigError, EmbedrecError
from embedrec.serving.errors import InvalidIndexError
from embedrec.serving.ranker_slot import RankerSlot
from embedrec.serving.reload_sync import POLL_SECONDS, ReloadBroadcast
from embedrec.serving.state import IndexSnapshot, ServiceState, open_snapshot

log = logging.getLogger(__name__)


class Reloader:
    """Reloads for one worker's `ServiceState`; ``broadcast`` is None with one worker."""

    def __init__(
        self,
        state: ServiceState,
        broadcast: ReloadBroadcast | None = None,
        *,
        on_refused: Callable[[], None] | None = None,
    ) -> None:
        self.state = state
        self.broadcast = broadcast
        self.on_refused = on_refused or (lambda: None)
        # Held while a reload is loaded and applied here, so the watch task never loads the
        # generation this process is itself publishing.
        self._apply_lock = threading.Lock()
        self._tasks: set[asyncio.Task[Any]] = set()
        self.ranker: RankerSlot | None = None  # set by the app when it serves a ranker

    async def reload(self, path: str | None = None, name: str | None = None) -> dict[str, Any]:
        """Load ``path`` (default: the current path again) as index ``name`` (default: the
        default index) everywhere; the answer of ``/admin/reload``. Raises
        `InvalidIndexError` (422) when it does not load, `UnknownIndexError` (404) for a
        name this service does not serve."""
        started = time.perf_counter()
        current = self.state.current(name)
        try:
            new, previous = await anyio.to_thread.run_sync(self._reload_here, path, current.name)
        except EmbedrecError as exc:
            self.on_refused()
            raise InvalidIndexError(
                f"{exc}; still serving {current.path} as index {current.name!r} "
                f"(generation {current.generation})"
            ) from None
        workers = await self._workers(new.generation)
        return {
            "status": "reloaded",
            "name": new.name,
            "index": new.describe(),
            "previous": previous.describe(),
            "workers": workers,
            "seconds": round(time.perf_counter() - started, 3),
        }

    async def reload_ranker(self, path: str | None = None) -> dict[str, Any]:
        """Load the ranker from ``path`` (default: its current directory) everywhere; the
        answer of ``/admin/reload-ranker``. 422 ``invalid_ranker`` when it does not load."""
        if self.ranker is None:
            raise ConfigError("ranker", None, "a service started with --ranker MODEL")
        started = time.perf_counter()
        try:
            answer = await anyio.to_thread.run_sync(self._reload_ranker_here, path)
        except EmbedrecError as exc:
            self.on_refused()
            raise InvalidIndexError(
                f"{exc}; still ranking with {self.ranker.path}", code="invalid_ranker"
            ) from None
        workers = await self._workers(self.ranker.generation)
        return {
            "status": "reloaded",
            **answer,
            "workers": workers,
            "seconds": round(time.perf_counter() - started, 3),
        }

    async def _workers(self, generation: int) -> dict[str, Any]:
        if self.broadcast is None:
            return {"expected": 1, "reloaded": 1, "failed": [], "complete": True}
        timeout = self.state.config.reload_timeout
        result: dict[str, Any] = await anyio.to_thread.run_sync(
            self.broadcast.wait_for, generation, timeout
        )
        return result

    def _reload_here(self, path: str | None, name: str) -> tuple[IndexSnapshot, IndexSnapshot]:
        with self._apply_lock:
            if self.broadcast is None:
                return self.state.reload(path, name=name)
            current = self.state.current(name)
            snapshot = open_snapshot(path or current.path, current.generation, name)
            desired = self.broadcast.publish(snapshot.path, name=name)
            snapshot = dataclasses.replace(snapshot, generation=desired.generation)
            previous = self.state.adopt(snapshot)
            self.broadcast.ack(desired.generation, self.state.current().path)
            return snapshot, previous

    def _reload_ranker_here(self, path: str | None) -> dict[str, Any]:
        assert self.ranker is not None
        with self._apply_lock:
            if self.broadcast is None:
                return dict(self.ranker.reload(path))
            answer = self.ranker.reload(path)  # loads (or raises) before anything is published
            desired = self.broadcast.publish_ranker(self.ranker.path)
            self.ranker.generation = desired.generation
            answer["ranker"]["generation"] = desired.generation
            self.broadcast.ack(desired.generation, self.state.current().path)
            return dict(answer)

    def follow(self) -> None:
        """Serve what the broadcast asks for: each index (and the ranker) whose generation
        there is newer than what this process serves is reloaded, then acked."""
        assert self.broadcast is not None
        with self._apply_lock:
            desired = self.broadcast.desired()
            entries = desired.indexes or {
                self.state.default_name: (desired.index, desired.generation)
            }
            errors: list[str] = []
            for name, (path, generation) in entries.items():
                snapshots = self.state.snapshots()
                if name not in snapshots or generation <= snapshots[name].generation:
                    continue
                try:
                    self.state.reload(path, generation=generation, name=name)
                except EmbedrecError as exc:
                    errors.append(f"index {name!r}: {exc}")
            if desired.ranker is not None and self.ranker is not None:
                path, generation = desired.ranker
                if generation > self.ranker.generation:
                    try:
                        self.ranker.reload(path, generation=generation)
                    except EmbedrecError as exc:
                        errors.append(f"ranker: {exc}")
            if errors:
                self.on_refused()
                log.error("generation %d refused here: %s", desired.generation, "; ".join(errors))
            error = "; ".join(errors) or None
            self.broadcast.ack(desired.generation, self.state.current().path, error=error)

    async def watch(self) -> None:
        """Follow the broadcast until cancelled (the lifespan runs this as a task)."""
        assert self.broadcast is not None
        while True:
            await anyio.sleep(POLL_SECONDS)
            try:
                if self.broadcast.changed():
                    await anyio.to_thread.run_sync(self.follow)
            except (OSError, ValueError, KeyError) as exc:  # a control file mid-rewrite
                log.warning("reading the reload broadcast failed: %s", exc)

    def on_sighup(self) -> None:
        """SIGHUP handler (on the event loop): reload every index from its current path, log
        the outcome."""
        log.info("SIGHUP: reloading %s", ", ".join(self.state.snapshots()))
        task = asyncio.get_running_loop().create_task(self._reload_logged())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _reload_logged(self) -> None:
        for name in self.state.snapshots():
            try:
                answer = await self.reload(None, name)
            except InvalidIndexError as exc:
                log.error("SIGHUP reload of %r refused: %s", name, exc.detail)
                continue
            log.info("SIGHUP reload of %r done: %s", name, answer["workers"])
