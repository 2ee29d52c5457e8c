"""Two ranks over gloo: same answer as one rank, and survival of a SIGKILL.

Run with ``pytest -m multiprocess tests/engine``. Tolerances: on the 300k-word world after
3 epochs the 1-rank torchrec run reaches loss ≈ 1.40 and ~92% of the planted analogies;
2 ranks see the same windows in a different order (each rank takes every other block), so
final loss must agree within 5% and accuracy within 10 points.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from pathlib import Path

import pytest
from rank_processes import launched, run_launched

from embedrec.engine.skipgram.progress import read_metrics
from embedrec.indexes import evaluate_analogies

pytestmark = [pytest.mark.multiprocess, pytest.mark.timeout(900)]

EMBEDREC = str(Path(sys.executable).with_name("embedrec"))
COMMON = [
    "--dim",
    "32",
    "--epochs",
    "3",
    "--kernel",
    "torchrec",
    "--threads",
    "1",
    "--no-progress",
    "--json",
]


def _train(world, out: Path, *extra: str) -> dict:
    cmd = [EMBEDREC, "train", "skipgram", str(world.dataset), "--out", str(out), *COMMON, *extra]
    done = run_launched(cmd, timeout=800)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def one_rank(tmp_path_factory, world):
    out = tmp_path_factory.mktemp("one") / "m"
    result = _train(world, out)
    return out, result


@pytest.mark.parametrize(
    ("sharding", "pieces"),
    [("table_wise", ["table_wise"]), ("column_wise", ["column_wise"]), ("row_wise", ["row_wise"])],
)
def test_two_ranks_match_one(tmp_path, world, one_rank, sharding, pieces):
    single_dir, single = one_rank
    out = tmp_path / "m"
    extra = ["--nproc", "2", "--sharding", sharding]
    if sharding == "column_wise":
        extra += ["--partitions", "2"]
    result = _train(world, out, *extra)
    assert result["world_size"] == 2
    assert {info["sharding_type"] for info in result["plan"].values()} == set(pieces)
    if sharding == "column_wise":  # really split: two 16-column shards per table
        assert [s["sizes"][1] for s in result["plan"]["word"]["shards"]] == [16, 16]
    assert abs(result["loss"] - single["loss"]) / single["loss"] < 0.05
    curve = [m["loss"] for m in read_metrics(out) if m.get("epoch_end")]
    single_curve = [m["loss"] for m in read_metrics(single_dir) if m.get("epoch_end")]
    assert len(curve) == len(single_curve) == 3
    for mine, theirs in zip(curve, single_curve, strict=True):
        assert abs(mine - theirs) / theirs < 0.08
    accuracy = evaluate_analogies(out, world.questions).accuracy
    single_accuracy = evaluate_analogies(single_dir, world.questions).accuracy
    print(  # the figures docs/cluster.md quotes (pytest -m multiprocess -s)
        f"\n{sharding}: final loss {result['loss']:.3f} vs 1 rank {single['loss']:.3f}; "
        f"analogy {accuracy:.1%} vs {single_accuracy:.1%}"
    )
    assert accuracy >= single_accuracy - 0.10


def _worker_pids(launcher) -> list[int]:
    """The rank processes under a `--nproc` launcher (grandchildren: launcher → torchrun)."""
    import psutil

    children = psutil.Process(launcher.pid).children(recursive=True)
    return [
        p.pid
        for p in children
        if "engine" in " ".join(p.cmdline())
        and "-m" in p.cmdline()
        and "torch.distributed.run" not in " ".join(p.cmdline())
        and "embedrec.engine.runtime.elastic_run" not in " ".join(p.cmdline())
    ]


def _wait_for_checkpoint(out: Path, launcher, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        steps = list((out / "checkpoints").glob("step-*")) if out.exists() else []
        if steps:
            return
        assert launcher.poll() is None, "training ended before its first checkpoint"
        time.sleep(0.2)
    raise AssertionError("no checkpoint appeared")


@pytest.mark.parametrize("elastic", [False, True])
def test_sigkill_mid_epoch_then_resume(tmp_path, world, one_rank, elastic):
    """A rank killed with SIGKILL: resumed by hand, or by torchrun's elastic restart."""
    _, single = one_rank
    out = tmp_path / "m"
    cmd = [
        EMBEDREC,
        "train",
        "skipgram",
        str(world.dataset),
        "--out",
        str(out),
        *COMMON,
        "--nproc",
        "2",
        "--checkpoint-every",
        "20",
        "--max-restarts",
        "2" if elastic else "0",
    ]
    with launched(cmd) as launcher:
        _wait_for_checkpoint(out, launcher)
        workers = _worker_pids(launcher)
        assert workers, "found no rank processes to kill"
        os.kill(workers[-1], signal.SIGKILL)
        stdout, stderr = launcher.communicate(timeout=800)
    if elastic:
        assert launcher.returncode == 0, stderr[-3000:]
        result = json.loads(stdout.strip().splitlines()[-1])
    else:
        assert launcher.returncode != 0  # the run really died
        result = _train(world, out, "--nproc", "2", "--resume")
    assert result["resumed_from"] is not None
    assert abs(result["loss"] - single["loss"]) / single["loss"] < 0.05
    assert evaluate_analogies(out, world.questions).accuracy > 0.5
