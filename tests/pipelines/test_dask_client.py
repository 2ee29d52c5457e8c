"""Where jobs run (pipelines.runtime.dask_cluster): log levels kept across the distributed import, a
scheduler without workers is a clear error, worker set-up, and a CLI run without -v prints
no Dask log line."""

from __future__ import annotations

import logging
import subprocess
import sys
from pathlib import Path

import pytest

from embedrec.core.errors import ConfigError, PipelineError
from embedrec.pipelines.runtime.dask_cluster import ClusterConfig, dask_client, import_distributed

ASSETS = Path(__file__).resolve().parents[1] / "assets"
BIN = Path(sys.executable).parent


def test_importing_distributed_keeps_the_levels_the_application_set():
    """In a fresh interpreter (here distributed is imported already): the CLI's choice of
    ERROR stays ERROR, and a logger nobody set stays unset instead of INFO."""
    code = (
        "import logging\n"
        "logging.getLogger('distributed').setLevel(logging.ERROR)\n"
        "from embedrec.pipelines.runtime.dask_cluster import import_distributed\n"
        "import_distributed()\n"
        "print(logging.getLogger('distributed').level,"
        " logging.getLogger('distributed.client').level)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    # A plain ``import distributed`` would have left INFO and WARNING.
    assert done.stdout.split() == [str(logging.ERROR), str(logging.NOTSET)]


def test_already_imported_distributed_is_quieted_when_root_is_above_info():
    import distributed  # noqa: F401  (someone imported it before the job started)

    loggers = [logging.getLogger(n) for n in ("distributed", "distributed.client")]
    saved = [lg.level for lg in loggers]
    root = logging.getLogger()
    root_level = root.level
    try:
        root.setLevel(logging.WARNING)
        for lg in loggers:
            lg.setLevel(logging.INFO)
        import_distributed()
        assert [lg.level for lg in loggers] == [logging.ERROR, logging.ERROR]
        root.setLevel(logging.INFO)  # -v: a user asking for INFO gets it
        loggers[0].setLevel(logging.INFO)
        import_distributed()
        assert loggers[0].level == logging.INFO
    finally:
        root.setLevel(root_level)
        for lg, level in zip(loggers, saved, strict=True):
            lg.setLevel(level)


def test_a_scheduler_without_workers_is_a_clear_error():
    from distributed import LocalCluster

    with LocalCluster(n_workers=0, processes=False, dashboard_address=":0") as empty:
        config = ClusterConfig(scheduler=empty.scheduler_address, worker_timeout_s=0.5)
        with pytest.raises(PipelineError) as raised, dask_client(config):
            pass
    message = str(raised.value)
    assert message.startswith(f"no Dask worker joined the scheduler at {empty.scheduler_address}")
    assert f"dask worker {empty.scheduler_address}" in message


def test_workers_allocate_arrow_memory_with_the_system_allocator():
    from distributed import LocalCluster

    def pool_name() -> str:
        import pyarrow as pa

        return pa.default_memory_pool().backend_name

    with LocalCluster(n_workers=1, processes=True, dashboard_address=":0") as cluster:
        config = ClusterConfig(scheduler=cluster.scheduler_address)
        with dask_client(config) as client:
            assert client.submit(pool_name, pure=False).result() == "system"  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("options", "key"),
    [
        ({"connect_timeout_s": 0}, "connect_timeout_s"),
        ({"worker_timeout_s": -1}, "worker_timeout_s"),
        ({"workers": 0}, "workers"),
        ({"workers": 2, "scheduler": "tcp://head:8786"}, "workers"),  # the cluster has its own
        ({"scheduler": "head:8786"}, "scheduler"),
    ],
)
def test_cluster_config_is_validated(options, key):
    with pytest.raises(ConfigError, match=f"^{key}: got "):
        ClusterConfig(**options)


def test_clicks_pipeline_without_v_prints_no_log_lines(tmp_path):
    """The real console script (logging configured as users get it): stderr is the dashboard
    line and progress bars, nothing from Dask's loggers."""
    _assert_clean_stderr(_run_clicks_pipeline([str(BIN / "embedrec")], tmp_path))


# The shutdown race that once printed asyncio's "Future exception was never retrieved ...
# TimeoutError" in the test above on a loaded machine (see dask_cluster._event_loop), made to
# happen on every run: the client's stream batches for 40 ms instead of 10 (a deadline of it
# is still pending when the cluster has closed) and the event loop thread stalls 60 ms in
# its last shutdown step, as a busy machine can stall it, so that the deadline comes due in
# the loop's last turn. Without the settling of the job's loop, each run prints the line.
_STALLED_LOOP_SHUTDOWN = """
import asyncio, sys, time
import distributed.batched, distributed.client

class SlowBatchedSend(distributed.batched.BatchedSend):
    def __init__(self, interval, loop=None, serializers=None):
        super().__init__("40ms", loop=loop, serializers=serializers)

distributed.client.BatchedSend = SlowBatchedSend
shutdown_default_executor = asyncio.BaseEventLoop.shutdown_default_executor

async def stalled(self, *args, **kwargs):
    await shutdown_default_executor(self, *args, **kwargs)
    time.sleep(0.06)

asyncio.BaseEventLoop.shutdown_default_executor = stalled
from embedrec.cli import main
main(sys.argv[1:])
"""


def test_a_stalled_loop_shutdown_prints_no_asyncio_error(tmp_path):
    _assert_clean_stderr(
        _run_clicks_pipeline([sys.executable, "-c", _STALLED_LOOP_SHUTDOWN], tmp_path)
    )


def _run_clicks_pipeline(command: list[str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            *command, "clicks-pipeline", ASSETS / "clicks" / "aol.txt",
            "--format", "aol", "--out", tmp_path / "ds", "--in-process", "--workers", "2",
        ],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def _assert_clean_stderr(done: subprocess.CompletedProcess[str]) -> None:
    assert done.returncode == 0, done.stderr
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert lines[0].startswith("embedrec: dask dashboard: http://")
    others = [line for line in lines[1:] if not line.startswith(("parse:", "write:"))]
    assert not others, others


@pytest.mark.multiprocess
def test_a_task_that_keeps_killing_its_workers_is_a_one_line_error():
    """Dask gives up on a task after ``allowed-failures`` worker deaths (KilledWorker); the
    pipelines say so in one line naming the likely cause instead of a traceback."""
    import os

    import dask
    from distributed import LocalCluster

    with (
        dask.config.set({"distributed.scheduler.allowed-failures": 0}),
        LocalCluster(n_workers=1, processes=True, dashboard_address=":0") as cluster,
    ):
        config = ClusterConfig(scheduler=cluster.scheduler_address)
        with pytest.raises(PipelineError) as raised, dask_client(config) as client:
            client.submit(os._exit, 1, pure=False).result()  # type: ignore[attr-defined]
    message = str(raised.value)
    assert "was running on 1 Dask workers that each died" in message
    assert "--memory-limit" in message and "--partition-size" in message
