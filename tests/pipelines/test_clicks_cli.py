"""``embedrec clicks-pipeline`` through the real entry point."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from embedrec.pipelines.clicks.dataset import open_click_dataset

ASSETS = Path(__file__).resolve().parents[1] / "assets" / "clicks"


def test_json_output_is_one_document(run_cli, tmp_path):
    out = tmp_path / "ds"
    result = run_cli(
        "clicks-pipeline", ASSETS / "criteo.tsv", "--format", "criteo", "--out", out,
        "--valid-fraction", "0.4", "--in-process", "--workers", "2", "--block-size", "100",
        "--json",
    )  # fmt: skip
    assert result.code == 0, result.err
    doc = json.loads(result.out)
    assert doc["out"] == str(out) and doc["format"] == "criteo"
    assert doc["counts"]["examples"] == 5 and doc["rejected"]["bad_label"] == 1
    assert doc["split"]["examples"] == {"train": 3, "validation": 2}
    assert doc["vocab_sizes"]["c1"] == 3
    assert "dask dashboard: " in result.err
    assert open_click_dataset(out).manifest["config"]["block_size"] == 100


def test_human_summary_and_overwrite(run_cli, tmp_path):
    args = ["clicks-pipeline", ASSETS / "aol.txt", "--format", "aol", "--out", tmp_path / "ds"]
    first = run_cli(*args, "--in-process", "--aol-negatives", "4")
    assert first.code == 0, first.err
    assert "27 examples (6 clicked) from 6 impressions" in first.out
    assert "short of negatives: 3" in first.out
    refused = run_cli(*args, "--in-process")
    assert refused.code == 2
    assert refused.err.strip().splitlines()[-1].startswith("embedrec: error: ")
    assert "--overwrite" in refused.err and "Traceback" not in refused.err
    again = run_cli(*args, "--in-process", "--overwrite", "--aol-negatives", "0")
    assert again.code == 0 and "6 examples (6 clicked)" in again.out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["missing.jsonl", "--format", "jsonl"], "missing.jsonl: does not exist"),
        ([ASSETS / "aol.txt", "--format", "tsv"], "format: got 'tsv'"),
        ([ASSETS / "aol.txt", "--format", "aol", "--split", "random"], "split: got 'random'"),
        ([ASSETS / "aol.txt", "--format", "aol", "--valid-fraction", "1"], "valid_fraction"),
        ([ASSETS / "aol.txt", "--format", "aol", "--block-size", "lots"], "block_size"),
        ([ASSETS / "aol.txt", "--format", "aol", "--scheduler", "nowhere"], "scheduler"),
    ],
)
def test_user_errors_are_one_line(run_cli, tmp_path, args, message):
    result = run_cli("clicks-pipeline", *args, "--out", tmp_path / "ds", "--in-process")
    assert result.code == 2
    lines = result.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("embedrec: error: ")
    assert message in lines[0]
    assert not (tmp_path / "ds").exists()


def test_help_shows_examples(run_cli):
    result = run_cli("clicks-pipeline", "--help")
    assert result.code == 0
    assert "embedrec clicks-pipeline logs/*.jsonl --format jsonl --out data/clicks" in result.out


@pytest.mark.multiprocess
def test_default_local_cluster_of_worker_processes(run_cli, tmp_path):
    result = run_cli(
        "clicks-pipeline", ASSETS / "impressions.jsonl", "--format", "jsonl",
        "--out", tmp_path / "ds", "--workers", "2", "--block-size", "200", "--json",
    )  # fmt: skip
    assert result.code == 0, result.err
    assert json.loads(result.out)["counts"]["examples"] == 9
    assert open_click_dataset(tmp_path / "ds").num_examples() == 9


def test_runs_on_an_existing_scheduler_and_leaves_it_running(run_cli, tmp_path):
    from distributed import LocalCluster

    with LocalCluster(n_workers=1, processes=False, dashboard_address=":0") as cluster:
        result = run_cli(
            "clicks-pipeline", ASSETS / "impressions.jsonl", "--format", "jsonl",
            "--out", tmp_path / "ds", "--scheduler", cluster.scheduler_address, "--json",
        )  # fmt: skip
        assert result.code == 0, result.err
        assert len(cluster.scheduler.workers) == 1  # not closed by the pipeline
    assert json.loads(result.out)["counts"]["examples"] == 9
