"""bench/gpu_check.py end to end with ``--device cpu`` on a slice of the planted world.

The same script is the GPU check (``--device cuda``); running its CPU path here keeps every
step of it (package check, data, both trainers, the report) from rotting between GPU runs.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.timeout(600)


def test_gpu_check_runs_end_to_end_on_cpu(tmp_path, world):
    report = tmp_path / "check.json"
    cmd = [sys.executable, str(REPO / "bench" / "gpu_check.py"), "--device", "cpu"]
    cmd += ["--corpus", str(world.corpus), "--questions", str(world.questions)]
    cmd += ["--words", "30000", "--epochs", "1", "--dim", "16", "--threads", "1"]
    cmd += ["--gensim-threads", "1", "--work", str(tmp_path / "work")]
    cmd += ["--json-out", str(report), "--batch-size", "0,256"]  # one run per batch size
    cmd += ["--lr", "0,0.5"]  # ... and rate
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=550)
    assert done.returncode in (0, 1), done.stderr[-3000:]  # 1: over the budget, not broken
    assert "| gensim 4.4.0 | cpu | 1 |" in done.stdout
    assert "| embedrec (torchrec kernel, cpu) | cpu | 1 |" in done.stdout
    rows = json.loads(report.read_text())["rows"]
    assert [row["trainer"] for row in rows] == [
        "gensim 4.4.0",
        "embedrec (torchrec kernel, cpu)",
        "embedrec (torchrec kernel, cpu, lr 0.5)",
        "embedrec (torchrec kernel, cpu, batch 256)",
        "embedrec (torchrec kernel, cpu, batch 256, lr 0.5)",
    ]
    assert all(row["words_per_sec"] > 0 and row["analogy"] is not None for row in rows)
    saved = tmp_path / "work" / "embedrec-model-256-0.5" / "config.json"
    skipgram = json.loads(saved.read_text())["skipgram"]  # what the trainer was given
    assert (skipgram["batch_size"], skipgram["lr"]) == (256, 0.5)


def test_gpu_check_says_why_when_cuda_is_missing(tmp_path, world):
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    cmd = [sys.executable, str(REPO / "bench" / "gpu_check.py"), "--device", "cuda"]
    cmd += ["--corpus", str(world.corpus), "--work", str(tmp_path / "work")]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines()[-1].startswith("gpu check failed:")


def test_step_profile_names_every_phase_on_cpu(tmp_path, world):
    # bench/torchrec_step_profile.py is the GPU profile's script; its CPU path runs here.
    report = tmp_path / "profile.json"
    cmd = [sys.executable, str(REPO / "bench" / "torchrec_step_profile.py"), "--device", "cpu"]
    cmd += ["--corpus", str(world.corpus), "--words", "20000", "--batch-size", "64,256"]
    cmd += ["--dim", "16", "--threads", "1", "--work", str(tmp_path / "work")]
    cmd += ["--json-out", str(report)]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=550)
    assert done.returncode == 0, done.stderr[-3000:]
    results = json.loads(report.read_text())["results"]
    assert [r["batch_size"] for r in results] == [64, 256]
    for result in results:
        assert result["steps"] > 0 and result["ms_per_step"] > 0
        # the labels in TorchRecSkipGramStep.run: each phase's host time is measured
        assert all(result["phases"][p]["host_ms"] > 0 for p in ("batch", "lookup", "loss"))
        assert result["phases"]["backward"]["host_ms"] > 0


def test_without_an_install_the_check_links_the_checkout(tmp_path):
    # A GPU host's bare image has no embedrec installed: the check links the checkout's
    # folders into one package instead of failing on the checkout's partial `embedrec/`.
    script = f"""
import sys
from pathlib import Path
sys.meta_path = [f for f in sys.meta_path if "editable" not in (f.__module__ or "")]
sys.path.insert(0, {str(REPO / "bench")!r})
sys.path.insert(0, {str(REPO)!r})  # the checkout first, as with PYTHONPATH=$PWD
import gpu_check
assert gpu_check.embedrec_from_checkout(Path({str(tmp_path)!r}))
import embedrec.engine.skipgram.config as config
print(config.__file__)
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == str(
        tmp_path / "src" / "embedrec" / "engine" / "skipgram" / "config.py"
    )


def test_the_checks_package_folders_are_pyprojects():
    import tomllib

    sys.path.insert(0, str(REPO / "bench"))
    try:
        import gpu_check
    finally:
        sys.path.remove(str(REPO / "bench"))
    dirs = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["package-dir"]
    assert set(gpu_check.PACKAGE_DIRS) == {d for d in dirs.values() if d != "embedrec"}
