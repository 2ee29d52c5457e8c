"""``embedrec text-pipeline`` through the real CLI entry point (embedrec.pipelines.text.cli)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from embedrec.pipelines.text.dataset import open_text_dataset

ASSETS = Path(__file__).resolve().parents[1] / "assets" / "text"


@pytest.fixture(scope="module")
def scheduler():
    """Address of a Dask cluster started here, as a user would pass with --scheduler."""
    from distributed import LocalCluster

    with LocalCluster(
        n_workers=1, threads_per_worker=1, processes=False, dashboard_address=":0"
    ) as local:
        yield local.scheduler_address


def test_help_shows_a_real_example(run_cli):
    result = run_cli("text-pipeline", "--help")
    assert result.code == 0
    assert "embedrec text-pipeline wiki-en-raw-100mb.wikiextractor.gz --out data/wiki" in result.out
    assert "--phrases" in result.out and "--scheduler" in result.out


def test_runs_on_an_existing_cluster_with_scheduler(run_cli, tmp_path, scheduler):
    out = tmp_path / "ds"
    result = run_cli(
        "text-pipeline", ASSETS / "wiki_00", ASSETS / "plain.txt", "--out", out,
        "--min-count", "1", "--scheduler", scheduler,
    )  # fmt: skip
    assert result.code == 0, result.err
    assert "dask dashboard:" in result.err
    assert f"wrote {out}" in result.out
    assert "2 read, 0 skipped" in result.out and "3 documents" in result.out
    ds = open_text_dataset(out)
    assert ds.manifest["counts"]["documents"] == 3  # two <doc> blocks and one plain file
    assert ds.vocab.tokens[0] == "the"


def test_json_prints_exactly_one_document(run_cli, tmp_path, scheduler):
    result = run_cli(
        "text-pipeline", ASSETS / "plain.txt", "--out", tmp_path / "ds", "--min-count", "2",
        "--scheduler", scheduler, "--json", "--phrases", "1",
    )  # fmt: skip
    assert result.code == 0, result.err
    document = json.loads(result.out)
    assert document["out"] == str(tmp_path / "ds")
    assert document["counts"]["vocab_size"] == 4  # the 4, quick 3, dog 2, fox 2
    assert document["counts"]["phrases"] == 0
    assert document["seconds"] > 0
    assert (tmp_path / "ds" / "phrases.parquet").exists()


def test_missing_path_is_one_line_and_exit_2(run_cli, tmp_path):
    missing = tmp_path / "nope" / "corpus.txt.gz"
    result = run_cli("text-pipeline", ASSETS / "plain.txt", missing, "--out", tmp_path / "ds")
    assert result.code == 2
    assert "Traceback" not in result.err
    assert result.err.strip() == f"embedrec: error: {missing}: no such file or directory"
    assert not (tmp_path / "ds").exists()


def test_unusable_inputs_are_a_clear_error(run_cli, tmp_path, scheduler):
    (tmp_path / "empty.txt").write_bytes(b"")
    result = run_cli(
        "text-pipeline", tmp_path / "empty.txt", "--out", tmp_path / "ds", "--scheduler", scheduler
    )
    assert result.code == 2
    assert "Traceback" not in result.err
    assert "warning: skipped 1 input(s) as empty" in result.err
    assert "no usable text input" in result.err.splitlines()[-1]


def test_existing_output_is_refused_without_overwrite(run_cli, tmp_path, scheduler):
    args = ["text-pipeline", ASSETS / "plain.txt", "--out", tmp_path / "ds", "--min-count", "1"]
    assert run_cli(*args, "--scheduler", scheduler).code == 0
    refused = run_cli(*args, "--scheduler", scheduler)
    assert refused.code == 2
    assert "already exists; pass --overwrite" in refused.err
    assert "Traceback" not in refused.err
    assert run_cli(*args, "--scheduler", scheduler, "--overwrite").code == 0


def test_bad_flag_values_name_the_key(run_cli, tmp_path):
    result = run_cli(
        "text-pipeline", ASSETS / "plain.txt", "--out", tmp_path / "ds", "--min-count", "0"
    )
    assert result.code == 2
    assert "min_count: got 0, expected an integer >= 1" in result.err
    result = run_cli(
        "text-pipeline", ASSETS / "plain.txt", "--out", tmp_path / "ds", "--partition-size", "big"
    )
    assert result.code == 2 and "partition-size" in result.err
    result = run_cli(
        "text-pipeline", ASSETS / "plain.txt", "--out", tmp_path / "ds",
        "--scheduler", "tcp://127.0.0.1:1", "--workers", "2",
    )  # fmt: skip
    assert result.code == 2 and "--workers" in result.err


def test_default_embedded_cluster_of_worker_processes(run_cli, tmp_path):
    result = run_cli(
        "text-pipeline", ASSETS / "plain.txt", "--out", tmp_path / "ds", "--min-count", "1",
        "--workers", "1", "--no-progress",
    )  # fmt: skip
    assert result.code == 0, result.err
    assert "dask dashboard: http" in result.err
    assert open_text_dataset(tmp_path / "ds").manifest["cluster"]["processes"] is True
