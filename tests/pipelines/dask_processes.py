"""A real Dask cluster for tests: ``dask scheduler`` and ``dask worker`` as subprocesses.

The way a user starts one (docs/dask-cluster.md), from this virtualenv's ``bin/``, on
127.0.0.1 with free ports, logs and worker space in the test's own directory. Each process
runs in its own session, so teardown kills the whole process group (nanny and workers)
even when a test failed half-way.

>>> with process_cluster(tmp_path, workers=2, memory_limit="512MB") as cluster:  # doctest: +SKIP
...     run(["embedrec", "text-pipeline", ..., "--scheduler", cluster.address])
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BIN = Path(sys.executable).parent
START_TIMEOUT_S = 180.0  # generous: on a loaded 2-core machine importing Dask takes a while


@dataclass
class ProcessCluster:
    """A started cluster: its address, dashboard, logs and processes."""

    address: str
    dashboard_port: int
    workdir: Path
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def client(self) -> Any:
        """A new ``distributed.Client`` to the scheduler (close it after use)."""
        from distributed import Client

        return Client(self.address, timeout=30)

    def log(self, name: str) -> str:
        """The text of ``scheduler.log`` or ``worker.log`` so far."""
        return (self.workdir / f"{name}.log").read_text(errors="replace")


def embedrec(*args: object, timeout: float = 300, env: dict[str, str] | None = None) -> Any:
    """Run ``embedrec ARGS`` as its own process (the console script of this virtualenv)."""
    return subprocess.run(
        [str(BIN / "embedrec"), *(str(a) for a in args)],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        check=False,
    )


@contextlib.contextmanager
def process_cluster(
    workdir: Path,
    *,
    workers: int = 2,
    memory_limit: str = "1GB",
    extra_worker_args: Sequence[str] = (),
) -> Iterator[ProcessCluster]:
    """Start ``dask scheduler`` and ``dask worker --nworkers N``; kill both on exit."""
    workdir.mkdir(parents=True, exist_ok=True)
    scheduler_file = workdir / "scheduler.json"
    procs: list[subprocess.Popen[bytes]] = []
    try:
        scheduler_args = [
            "scheduler", "--host", "127.0.0.1", "--port", "0",
            "--dashboard-address", "127.0.0.1:0", "--scheduler-file", scheduler_file,
        ]  # fmt: skip
        procs.append(_start(workdir / "scheduler.log", *scheduler_args))
        info = _wait_for_file(scheduler_file, procs[0])
        cluster = ProcessCluster(
            address=info["address"],
            dashboard_port=int(info["services"]["dashboard"]),
            workdir=workdir,
            processes=procs,
        )
        worker_args = [
            "worker", cluster.address, "--nworkers", str(workers), "--nthreads", "1",
            "--memory-limit", memory_limit, "--host", "127.0.0.1",
            "--local-directory", workdir / "worker-space", *extra_worker_args,
        ]  # fmt: skip
        procs.append(_start(workdir / "worker.log", *worker_args))
        with cluster.client() as client:
            client.wait_for_workers(workers, timeout=START_TIMEOUT_S)
        yield cluster
    finally:
        for proc in reversed(procs):
            _stop(proc)


def _start(log: Path, *args: object) -> subprocess.Popen[bytes]:
    with open(log, "ab") as out:
        return subprocess.Popen(
            [str(BIN / "dask"), *(str(a) for a in args)],
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: killed whole at teardown
        )


def _wait_for_file(path: Path, proc: subprocess.Popen[bytes]) -> dict[str, Any]:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"dask scheduler exited with {proc.returncode}")
        with contextlib.suppress(FileNotFoundError, json.JSONDecodeError):
            info: dict[str, Any] = json.loads(path.read_text())
            if info.get("address"):
                return info
        time.sleep(0.1)
    raise RuntimeError(f"dask scheduler wrote no {path.name} within {START_TIMEOUT_S} s")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM the process group, SIGKILL what is left after 10 s."""
    for sig, wait in ((signal.SIGTERM, 10.0), (signal.SIGKILL, 10.0)):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, sig)
        try:
            proc.wait(timeout=wait)
        except subprocess.TimeoutExpired:
            continue
        # The leader is gone; make sure no worker of its group outlived it.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        return
