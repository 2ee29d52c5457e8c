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

from embedrec.core.errors import EmbedrecError
from embedrec.serving.errors import InvalidIndexError
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

    async def reload(self, path: str | None = None) -> dict[str, Any]:
        """Load ``path`` (default: the current path again) everywhere; the answer of
        ``/admin/reload``. Raises `InvalidIndexError` (422) when it does not load."""
        started = time.perf_counter()
        current = self.state.current()
        try:
            new, previous = await anyio.to_thread.run_sync(self._reload_here, path)
        except EmbedrecError as exc:
            self.on_refused()
            raise InvalidIndexError(
                f"{exc}; still serving {current.path} (generation {current.generation})"
            ) from None
        if self.broadcast is None:
            workers: dict[str, Any] = {"expected": 1, "reloaded": 1, "failed": [], "complete": True}
        else:
            timeout = self.state.config.reload_timeout
            workers = await anyio.to_thread.run_sync(
                self.broadcast.wait_for, new.generation, timeout
            )
        return {
            "status": "reloaded",
            "index": new.describe(),
            "previous": previous.describe(),
            "workers": workers,
            "seconds": round(time.perf_counter() - started, 3),
        }

    def _reload_here(self, path: str | None) -> tuple[IndexSnapshot, IndexSnapshot]:
        with self._apply_lock:
            if self.broadcast is None:
                return self.state.reload(path)
            current = self.state.current()
            snapshot = open_snapshot(path or current.path, current.generation)
            desired = self.broadcast.publish(snapshot.path)
            snapshot = dataclasses.replace(snapshot, generation=desired.generation)
            previous = self.state.adopt(snapshot)
            self.broadcast.ack(desired.generation, snapshot.path)
            return snapshot, previous

    def follow(self) -> None:
        """Serve what the broadcast asks for, if newer than what this process serves."""
        assert self.broadcast is not None
        with self._apply_lock:
            desired = self.broadcast.desired()
            current = self.state.current()
            if desired.generation <= current.generation:
                return
            try:
                self.state.reload(desired.index, generation=desired.generation)
            except EmbedrecError as exc:
                self.on_refused()
                log.error("generation %d refused here: %s", desired.generation, exc)
                self.broadcast.ack(desired.generation, current.path, error=str(exc))
                return
            self.broadcast.ack(desired.generation, desired.index)

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
        """SIGHUP handler (on the event loop): reload the current path, log the outcome."""
        log.info("SIGHUP: reloading %s", self.state.current().path)
        task = asyncio.get_running_loop().create_task(self._reload_logged())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _reload_logged(self) -> None:
        try:
            answer = await self.reload(None)
        except InvalidIndexError as exc:
            log.error("SIGHUP reload refused: %s", exc.detail)
            return
        log.info("SIGHUP reload done: %s", answer["workers"])
