"""Out of core: a corpus of 3 GB, nearly three times the whole cluster's memory, goes through
the text pipeline on ``dask worker --nworkers 2 --memory-limit 512MB``; no worker comes near
its limit, none is restarted, and the client's memory does not grow with the corpus.

The corpus is the shared 100 MB WikiExtractor dump repeated ``COPIES`` times (gzip members
concatenated, so each input file is itself a valid ``.gz``), which also gives the exact
answer: the vocabulary of the single dump with min-count 5 is the one of the big corpus
with min-count ``5 * COPIES``, every count times ``COPIES``. Measured once for
docs/dask-cluster.md (figures printed with ``-s``; 6-15 minutes on 2 busy cores)::

    pytest -m slow tests/pipelines/test_dask_out_of_core.py -s
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import threading
import time
from pathlib import Path

import psutil
import pyarrow.parquet as pq
import pytest
from dask_processes import BIN, process_cluster

# Only `slow` (it starts a real cluster too): `-m multiprocess` stays a one-minute run.
pytestmark = pytest.mark.slow

WIKI = Path("/work/shared/data/corpus/wiki-en-raw-100mb.wikiextractor.gz")
COPIES = 30  # 30 x 99.7 MB = 3.0 GB of text
FILES = 6
WORKERS = 2
MEMORY_LIMIT_MB = 512


class PeakMemory:
    """Peak RSS of a process and of everything under another, sampled every 0.2 s."""

    def __init__(self, client_pid: int, workers_parent_pid: int) -> None:
        self.client = psutil.Process(client_pid)
        self.workers = psutil.Process(workers_parent_pid)
        self.client_peak = 0
        self.worker_peaks: dict[int, int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        while not self._stop.is_set():
            with contextlib.suppress(psutil.Error):
                self.client_peak = max(self.client_peak, self.client.memory_info().rss)
            for proc in self.workers.children(recursive=True):
                try:
                    rss = proc.memory_info().rss
                except psutil.Error:
                    continue
                self.worker_peaks[proc.pid] = max(self.worker_peaks.get(proc.pid, 0), rss)
            time.sleep(0.2)

    def stop(self) -> dict[str, float]:
        self._stop.set()
        self._thread.join()
        workers = sorted(self.worker_peaks.values())[-WORKERS:]  # not the resource tracker
        return {
            "client_peak_mb": round(self.client_peak / 2**20, 1),
            "worker_peak_mb": [round(w / 2**20, 1) for w in workers],
        }


def run_measured(cluster, inputs: list[Path], out: Path, min_count: int) -> dict:
    job = subprocess.Popen(
        [
            str(BIN / "embedrec"), "text-pipeline", *map(str, inputs), "--out", str(out),
            "--scheduler", cluster.address, "--min-count", str(min_count),
            "--json", "--no-progress",
        ],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    started = time.monotonic()
    memory = PeakMemory(job.pid, cluster.processes[1].pid)
    try:
        stdout, stderr = job.communicate(timeout=3600)
    finally:
        job.kill()
        figures = memory.stop()
    assert job.returncode == 0, stderr
    return {
        **figures,
        "wall_s": round(time.monotonic() - started, 1),
        "counts": json.loads(stdout)["counts"],
    }


@pytest.mark.skipif(not WIKI.exists(), reason=f"needs the shared corpus {WIKI}")
def test_a_corpus_nearly_three_times_the_cluster_memory_completes(tmp_path):
    dump = WIKI.read_bytes()
    inputs = []
    for f in range(FILES):
        path = tmp_path / f"wiki-{f}.gz"
        with open(path, "wb") as out:
            for _ in range(COPIES // FILES):
                out.write(dump)
        inputs.append(path)

    limit = f"{MEMORY_LIMIT_MB}MB"
    with process_cluster(tmp_path / "cluster", workers=WORKERS, memory_limit=limit) as cluster:
        one = run_measured(cluster, [WIKI], tmp_path / "one", min_count=5)
        big = run_measured(cluster, inputs, tmp_path / "big", min_count=5 * COPIES)
        worker_log = cluster.log("worker")

    text_bytes = big["counts"]["bytes"]
    cluster_bytes = WORKERS * MEMORY_LIMIT_MB * 10**6
    report = {
        "corpus_gb": round(text_bytes / 1e9, 2),
        "times_cluster_memory": round(text_bytes / cluster_bytes, 2),
        "partitions": big["counts"]["partitions"],
        "one_dump": {k: v for k, v in one.items() if k != "counts"},
        "big": {k: v for k, v in big.items() if k != "counts"},
    }
    print("\nout-of-core:", json.dumps(report))
    (tmp_path / "report.json").write_text(json.dumps(report, indent=2))

    assert text_bytes == COPIES * one["counts"]["bytes"] and text_bytes > 2.5 * cluster_bytes
    # Completed without a worker going over its limit (the nanny restarts those) ...
    assert "Restarting worker" not in worker_log and "memory budget" not in worker_log
    assert max(big["worker_peak_mb"]) * 2**20 < MEMORY_LIMIT_MB * 10**6
    # ... and nothing proportional to the corpus reached the client.
    assert big["client_peak_mb"] < one["client_peak_mb"] + 50

    small = pq.read_table(tmp_path / "one" / "vocab.parquet")
    large = pq.read_table(tmp_path / "big" / "vocab.parquet")
    assert large.column("token").equals(small.column("token"))
    assert large.column("count").to_pylist() == [c * COPIES for c in small["count"].to_pylist()]
    for key in ("sentences", "corpus_tokens", "oov_tokens", "documents"):
        assert big["counts"][key] == COPIES * one["counts"][key], key
