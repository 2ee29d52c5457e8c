"""Reloading every worker: a small control directory shared by the processes of one service.

With ``--workers N`` each worker process holds its own copy of the index, and a reload
request (``POST /admin/reload`` or SIGHUP) reaches only one process. So the reload is
broadcast through files in the service's control directory::

    desired.json     {"generation": 7, "index": "/abs/path"}    what every worker should serve
    ack-<worker>.json {"generation": 7, "ok": true, ...}          what each worker serves
    lock             flock'ed while desired.json is read and bumped

The worker that takes a reload request loads the new index itself first (so a broken index
is refused with a 422 and nothing is published), then bumps ``desired.json``. Every worker
watches that file (a stat every `POLL_SECONDS`), loads the new index beside its current one,
swaps, and writes its ack; the requesting worker waits for all acks and reports them. The
uvicorn supervisor's SIGHUP publishes the current path again. A worker restarted after a
crash reads ``desired.json`` at start, so it serves what the others serve.

>>> broadcast = ReloadBroadcast("/tmp/embedrec-serve-x", workers=2)   # doctest: +SKIP
>>> broadcast.publish("/srv/indexes/wiki-2")                # → generation  # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from embedrec.core.artifacts import write_json

log = logging.getLogger(__name__)

POLL_SECONDS = 0.2
DESIRED = "desired.json"


@dataclass(frozen=True)
class Desired:
    generation: int
    index: str


@dataclass(frozen=True)
class WorkerAck:
    pid: int
    generation: int
    index: str
    ok: bool
    error: str | None


class ReloadBroadcast:
    """The control directory of one service with ``workers`` processes; ``worker_id`` names
    this process's ack file (default: its pid)."""

    def __init__(
        self, directory: str | Path, *, workers: int, worker_id: str | None = None
    ) -> None:
        self.directory = Path(directory)
        self.workers = workers
        self.worker_id = worker_id or str(os.getpid())
        self._seen: tuple[int, int] | None = None

    def initialise(self, index: str) -> None:
        """Called once by the supervisor before the workers start: generation 0."""
        self.directory.mkdir(parents=True, exist_ok=True)
        write_json(self.directory / DESIRED, {"generation": 0, "index": index})

    def desired(self) -> Desired:
        data = json.loads((self.directory / DESIRED).read_text())
        return Desired(int(data["generation"]), str(data["index"]))

    def changed(self) -> bool:
        """True when desired.json was rewritten since the last call (one stat)."""
        try:
            stat = (self.directory / DESIRED).stat()
        except FileNotFoundError:
            return False
        # Atomic rewrites rename a new file into place: a new inode even within one tick.
        seen = (stat.st_ino, stat.st_mtime_ns)
        if seen == self._seen:
            return False
        self._seen = seen
        return True

    def publish(self, index: str | None = None) -> Desired:
        """Ask every worker to serve ``index`` (default: the current path, reloaded)."""
        with self._locked():
            current = self.desired()
            desired = Desired(current.generation + 1, index or current.index)
            write_json(
                self.directory / DESIRED,
                {"generation": desired.generation, "index": desired.index},
            )
        log.info("reload broadcast: generation %d, %s", desired.generation, desired.index)
        return desired

    def ack(self, generation: int, index: str, error: str | None = None) -> None:
        """Record what this process serves now (``error``: why it refused ``generation``)."""
        write_json(
            self.directory / f"ack-{self.worker_id}.json",
            {
                "pid": os.getpid(),
                "generation": generation,
                "index": index,
                "ok": error is None,
                "error": error,
            },
        )

    def forget(self) -> None:
        """Remove this process's ack (at shutdown)."""
        with contextlib.suppress(FileNotFoundError):
            (self.directory / f"ack-{self.worker_id}.json").unlink()

    def acks(self) -> list[WorkerAck]:
        """The acks of live worker processes."""
        found = []
        for path in self.directory.glob("ack-*.json"):
            try:
                data: dict[str, Any] = json.loads(path.read_text())
            except (OSError, ValueError):
                continue
            pid = int(data.get("pid", 0))
            if not _alive(pid):
                with contextlib.suppress(FileNotFoundError):
                    path.unlink()
                continue
            found.append(
                WorkerAck(
                    pid,
                    int(data["generation"]),
                    str(data["index"]),
                    bool(data["ok"]),
                    data.get("error"),
                )
            )
        return found

    def wait_for(self, generation: int, timeout: float) -> dict[str, Any]:
        """Wait until every worker has answered ``generation``; a summary of the answers."""
        deadline = time.monotonic() + timeout
        while True:
            acks = [a for a in self.acks() if a.generation >= generation]
            done = [a for a in acks if a.ok]
            failed = [a for a in acks if not a.ok]
            if len(acks) >= self.workers or time.monotonic() >= deadline:
                break
            time.sleep(POLL_SECONDS / 2)
        return {
            "expected": self.workers,
            "reloaded": len(done),
            "failed": [{"pid": a.pid, "error": a.error} for a in failed],
            "complete": len(done) >= self.workers,
        }

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        with open(self.directory / "lock", "a+") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)


def _alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
