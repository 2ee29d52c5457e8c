"""Where pipeline jobs run: an embedded Dask LocalCluster, or an existing scheduler.

>>> with dask_client(ClusterConfig()) as client:                      # doctest: +SKIP
...     futures = client.map(count_tokens, partitions)

Every pipeline takes ``--scheduler ADDR`` (``tcp://host:8786``) to run on a cluster started
with ``dask scheduler`` / ``dask worker``; without it a LocalCluster is started for the job
and closed after. Workers of an external cluster must see the same filesystem paths as the
client (inputs and the output directory), as with any Dask job that writes files.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass

from pipelines.errors import ConfigError, PipelineError

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

    def __post_init__(self) -> None:
        if self.scheduler is not None and "://" not in self.scheduler:
            raise ConfigError("scheduler", self.scheduler, "an address like tcp://host:8786")
        if self.workers is not None and self.workers < 1:
            raise ConfigError("workers", self.workers, "an integer >= 1")
        if self.threads_per_worker < 1:
            raise ConfigError("threads_per_worker", self.threads_per_worker, "an integer >= 1")


@contextlib.contextmanager
def dask_client(config: ClusterConfig) -> Iterator[object]:
    """Yield a ``distributed.Client`` for the job; a LocalCluster is closed on exit.

    The dashboard address is logged (and printed by the CLI) so the job can be watched.
    """
    from distributed import Client, LocalCluster

    # Importing distributed sets its own loggers to INFO; keep them at the level the
    # application chose for the root logger (the CLI: warnings unless -v).
    root_level = logging.getLogger().getEffectiveLevel()
    if root_level > logging.INFO:
        logging.getLogger("distributed").setLevel(logging.ERROR)

    if config.scheduler is not None:
        try:
            client = Client(config.scheduler, timeout=config.connect_timeout_s)
        except (OSError, TimeoutError) as exc:
            raise PipelineError(
                f"cannot reach the Dask scheduler at {config.scheduler} ({exc}); "
                "start one with `dask scheduler` or leave out --scheduler"
            ) from None
        log.info(
            "connected to Dask scheduler %s; dashboard %s", config.scheduler, client.dashboard_link
        )
        try:
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
    )
    client = Client(cluster)
    log.info("started a LocalCluster of %d worker(s); dashboard %s", workers, client.dashboard_link)
    try:
        yield client
    finally:
        client.close()
        cluster.close()


def dashboard_link(client: object) -> str:
    """The dashboard URL of a client (empty when the scheduler runs no dashboard)."""
    return str(getattr(client, "dashboard_link", "") or "")
