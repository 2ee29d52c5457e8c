"""Where pipeline jobs run: an embedded Dask LocalCluster, or an existing scheduler.

>>> with dask_client(ClusterConfig()) as client:                      # doctest: +SKIP
...     futures = client.map(count_tokens, partitions)

Every pipeline takes ``--scheduler ADDR`` (``tcp://host:8786``) to run on a cluster started
with ``dask scheduler`` / ``dask worker``; without it a LocalCluster is started for the job
and closed after. Workers of an external cluster must see the same filesystem paths as the
client (inputs and the output directory), as with any Dask job that writes files, and run
the same embedrec code (restart them after upgrading it: a worker keeps the modules it has
imported). See docs/dask-cluster.md.

Importing ``distributed`` configures logging: it sets its loggers to INFO, which would print
a line for every worker start and client connection. `dask_client` imports it keeping the
levels the application had set (the CLI: errors only, unless -vv).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from embedrec.core.errors import ConfigError, PipelineError

log = logging.getLogger(__name__)


@dataclass(frozen=True, kw_only=True)
class ClusterConfig:
    """Where to run: ``scheduler`` address, or a LocalCluster of ``workers`` processes."""

    scheduler: str | None = None
    workers: int | None = None  # LocalCluster worker processes; None = one per core
    threads_per_worker: int = 1
    memory_limit: str = "auto"  # per LocalCluster worker, dask syntax ("2GB")
    processes: bool = True  # False: threads in this process (tests, tiny inputs)
    connect_timeout_s: float = 10.0
    worker_timeout_s: float = 60.0  # --scheduler: wait this long for a first worker

    def __post_init__(self) -> None:
        if self.scheduler is not None and "://" not in self.scheduler:
            raise ConfigError("scheduler", self.scheduler, "an address like tcp://host:8786")
        if self.workers is not None and self.workers < 1:
            raise ConfigError("workers", self.workers, "an integer >= 1")
        if self.workers is not None and self.scheduler is not None:
            raise ConfigError("workers", self.workers, "no --workers with --scheduler (its own)")
        if self.threads_per_worker < 1:
            raise ConfigError("threads_per_worker", self.threads_per_worker, "an integer >= 1")
        for key in ("connect_timeout_s", "worker_timeout_s"):
            if not getattr(self, key) > 0:
                raise ConfigError(key, getattr(self, key), "a number of seconds > 0")


@contextlib.contextmanager
def dask_client(config: ClusterConfig) -> Iterator[object]:
    """Yield a ``distributed.Client`` for the job; a LocalCluster is closed on exit.

    With ``config.scheduler`` the job waits up to ``worker_timeout_s`` for a worker and
    raises `PipelineError` when the scheduler cannot be reached or has no worker. The
    dashboard address is logged (and printed by the CLI) so the job can be watched.
    The client, and the LocalCluster after it, run on an event loop of the job's own
    (`_event_loop`), stopped only once their closing has settled.
    """
    import_distributed()
    from distributed import Client, LocalCluster

    with _event_loop() as loop:
        if config.scheduler is not None:
            try:
                client = Client(config.scheduler, timeout=config.connect_timeout_s, loop=loop)
            except (OSError, TimeoutError) as exc:
                raise PipelineError(
                    f"cannot reach the Dask scheduler at {config.scheduler} ({exc}); "
                    "start one with `dask scheduler` or leave out --scheduler"
                ) from None
            try:
                _wait_for_a_worker(client, config)
                _set_up_workers(client)
                log.info(
                    "connected to Dask scheduler %s (%d worker(s)); dashboard %s",
                    config.scheduler,
                    len(client.scheduler_info().get("workers", {})),
                    client.dashboard_link,
                )
                with _worker_deaths_as_errors():
                    yield client
            finally:
                client.close()
            return

        workers = config.workers or max(1, os.cpu_count() or 1)
        cluster = LocalCluster(
            n_workers=workers,
            threads_per_worker=config.threads_per_worker,
            processes=config.processes,
            memory_limit=config.memory_limit,
            dashboard_address=":0",
            silence_logs=logging.ERROR,
            loop=loop,
        )
        try:
            client = Client(cluster)  # on the cluster's loop, ours
            try:
                _set_up_workers(client)
                log.info(
                    "started a LocalCluster of %d worker(s); dashboard %s",
                    workers,
                    client.dashboard_link,
                )
                with _worker_deaths_as_errors():
                    yield client
            finally:
                client.close()  # first: it tells the scheduler, which the cluster then stops
        finally:
            cluster.close()


# How long the job's event loop keeps running after the client and cluster closed: longer
# than the longest batching interval of distributed's streams (BatchedSend: 10 ms, the
# client's), so that every deadline they left scheduled has fired and been handled.
_LOOP_SETTLE_S = 0.05


@contextlib.contextmanager
def _event_loop() -> Iterator[Any]:
    """An event loop thread for the job's Client and LocalCluster, stopped after they close.

    Left to themselves, the last of them to close stops the loop they share right after its
    own close. But distributed's streams (``BatchedSend``) batch messages: after each send
    one waits until a deadline up to 10 ms later, with a timer that fails a future with
    ``TimeoutError`` when due, and the client's stream, whose far side the scheduler closes,
    is never told to stop. The loop shutdown (``asyncio.Runner``) does not cancel these
    (they are tornado coroutines, not tasks): when the timer comes due in the loop's last
    turn, its future is dropped unread and asyncio logs "Future exception was never
    retrieved ... TimeoutError" on stderr, seen on a loaded machine. Here the loop is
    ours: Client and LocalCluster only borrow it, and it runs ``_LOOP_SETTLE_S`` more
    before it is stopped, by which time every such timer has fired and been handled.
    """
    from distributed.utils import LoopRunner

    runner = LoopRunner()
    runner.start()
    try:
        yield runner.loop
    finally:
        try:
            runner.run_sync(asyncio.sleep, _LOOP_SETTLE_S)
        finally:
            runner.stop()


@contextlib.contextmanager
def _worker_deaths_as_errors() -> Iterator[None]:
    """A task whose workers kept dying (Dask's KilledWorker) as a one-line `PipelineError`.

    Dask reruns the tasks of a worker that died; only a task that was running each time
    ``distributed.scheduler.allowed-failures`` + 1 workers died fails, nearly always
    because it needs more memory than a worker may use.
    """
    from distributed import KilledWorker

    try:
        yield
    except KilledWorker as exc:
        raise PipelineError(
            f"task {exc.task!r} was running on {exc.allowed_failures + 1} Dask workers that "
            "each died (see the workers' logs; most often out of memory): give workers a "
            "larger --memory-limit, or make the pieces of work smaller (--partition-size, "
            "--block-size)"
        ) from None


def _set_up_workers(client: Any) -> None:
    """Register `pipelines.runtime.dask_worker_setup` on the workers (later ones too)."""
    from embedrec.pipelines.runtime.dask_worker_setup import ArrowSystemAllocator

    client.register_plugin(ArrowSystemAllocator())


def _wait_for_a_worker(client: object, config: ClusterConfig) -> None:
    from distributed import TimeoutError as DaskTimeoutError

    try:
        client.wait_for_workers(1, timeout=config.worker_timeout_s)  # type: ignore[attr-defined]
    except (TimeoutError, DaskTimeoutError):
        raise PipelineError(
            f"no Dask worker joined the scheduler at {config.scheduler} within "
            f"{config.worker_timeout_s:g} s; start some with `dask worker {config.scheduler}`"
        ) from None


def import_distributed() -> None:
    """Import ``distributed`` without letting it change the application's log levels.

    Its import sets ``distributed`` to INFO (``distributed.client`` and ``.gc`` to WARNING);
    the levels set before are put back. When it was imported earlier, by someone whose choice
    is unknown, its loggers are raised to ERROR if the root logger is above INFO.

    >>> logging.getLogger("distributed").setLevel(logging.ERROR)       # doctest: +SKIP
    >>> import_distributed()                                           # doctest: +SKIP
    >>> logging.getLogger("distributed").level == logging.ERROR        # doctest: +SKIP
    True
    """
    if "distributed" in sys.modules:
        if logging.getLogger().getEffectiveLevel() > logging.INFO:
            for name in _DISTRIBUTED_LOGGERS:
                logging.getLogger(name).setLevel(logging.ERROR)
        return
    saved = {name: logging.getLogger(name).level for name in _DISTRIBUTED_LOGGERS}
    import distributed  # noqa: F401

    for name, level in saved.items():
        logging.getLogger(name).setLevel(level)


# The loggers whose level importing distributed sets (distributed/config.py).
_DISTRIBUTED_LOGGERS = ("distributed", "distributed.client", "distributed.gc")


def dashboard_link(client: object) -> str:
    """The dashboard URL of a client (empty when the scheduler runs no dashboard)."""
    return str(getattr(client, "dashboard_link", "") or "")
