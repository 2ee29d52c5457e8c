"""A Dask worker killed with SIGKILL in the middle of a pipeline: Dask runs its tasks again on
the other worker (and on the one its nanny restarts), and the dataset is the same, byte for
byte, as a run nobody disturbed."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
from dask_processes import BIN, START_TIMEOUT_S, process_cluster

pytestmark = pytest.mark.multiprocess


def start_pipeline(*args: object) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [str(BIN / "embedrec"), *(str(a) for a in args)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def kill_a_busy_worker(client, prefix: str, after: int, timeout: float = 120.0) -> int:
    """Once ``after`` tasks of ``prefix`` have finished, SIGKILL a worker that is running one.

    Returns the pid killed. Polls the scheduler's own task table through the client.
    """

    def progress(dask_scheduler, prefix):
        done = sum(
            1
            for ts in dask_scheduler.tasks.values()
            if ts.prefix.name == prefix and ts.state == "memory"
        )
        busy = [
            ws.pid
            for ws in dask_scheduler.workers.values()
            if any(ts.prefix.name == prefix for ts in ws.processing)
        ]
        return done, busy

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done, busy = client.run_on_scheduler(progress, prefix=prefix)
        if done >= after and busy:
            os.kill(busy[0], signal.SIGKILL)
            return int(busy[0])
        time.sleep(0.02)
    raise AssertionError(f"no worker was running a {prefix} task after {after} had finished")


def files_by_name(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and p.name != "manifest.json"
    }


def run_and_kill(tmp_path: Path, args: list[object], prefix: str, after: int) -> None:
    """Run ``args`` undisturbed, then again killing a worker mid-stage; same files."""
    with process_cluster(tmp_path / "cluster", workers=2, memory_limit="1GB") as cluster:
        address = cluster.address
        quiet = start_pipeline(*args, "--out", tmp_path / "quiet", "--scheduler", address)
        out, err = quiet.communicate(timeout=300)
        assert quiet.returncode == 0, err
        with cluster.client() as client:
            job = start_pipeline(*args, "--out", tmp_path / "killed", "--scheduler", address)
            try:
                pid = kill_a_busy_worker(client, prefix, after)
                out_killed, err_killed = job.communicate(timeout=300)
            finally:
                job.kill()
            assert job.returncode == 0, err_killed
            client.wait_for_workers(2, timeout=START_TIMEOUT_S)  # the nanny started a new one
        assert f"Worker process {pid} was killed by signal 9" in cluster.log("worker")
        assert "Remove worker" in cluster.log("scheduler")
    assert "Traceback" not in err_killed

    quiet_files = files_by_name(tmp_path / "quiet")
    killed_files = files_by_name(tmp_path / "killed")
    assert quiet_files.keys() == killed_files.keys()
    for name, data in quiet_files.items():
        assert killed_files[name] == data, name
    assert json.loads(out)["counts"] == json.loads(out_killed)["counts"]


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("world")
    made = subprocess.run(
        [str(BIN / "embedrec"), "generate", "text", "--out", root, "--words", "1000000"],
        capture_output=True,
        check=False,
    )
    assert made.returncode == 0, made.stderr
    return root / "corpus.txt"


def test_text_pipeline_survives_a_worker_killed_while_tokenizing(tmp_path, world):
    args: list[object] = ["text-pipeline", world, "--partition-size", "64KiB", "--phrases", "1"]
    run_and_kill(tmp_path, [*args, "--json", "--no-progress"], "tokenize_partition", after=3)


def test_text_pipeline_survives_a_worker_killed_while_writing(tmp_path, world):
    args: list[object] = ["text-pipeline", world, "--partition-size", "64KiB"]
    run_and_kill(tmp_path, [*args, "--json", "--no-progress"], "write_corpus_partition", after=5)


def test_clicks_pipeline_survives_a_worker_killed_while_parsing(tmp_path):
    logs = tmp_path / "logs"
    made = subprocess.run(
        [str(BIN / "embedrec"), "generate", "clicks", "--out", logs, "--impressions", "5000",
         "--queries", "500", "--docs", "2000", "--users", "300", "--bad-lines", "13"],
        capture_output=True,
        check=False,
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    args: list[object] = ["clicks-pipeline", logs / "impressions.jsonl", "--format", "jsonl"]
    args += ["--block-size", "256KiB", "--json"]
    run_and_kill(tmp_path, args, "clicks-parse", after=3)
