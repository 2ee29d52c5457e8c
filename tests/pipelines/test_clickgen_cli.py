"""``embedrec generate clicks`` through the real CLI entry point."""

from __future__ import annotations

import json

TINY = ["--queries", "40", "--docs", "120", "--impressions", "300", "--users", "30"]


def test_help_shows_an_example(run_cli):
    result = run_cli("generate", "clicks", "--help")
    assert result.code == 0
    assert "embedrec generate clicks --out logs/ --queries 5000" in result.out
    assert "--bad-lines" in result.out


def test_json_prints_one_document(run_cli, tmp_path):
    out = tmp_path / "logs"
    result = run_cli(
        "generate", "clicks", "--out", out, *TINY, "--seed", "2", "--bad-lines", "13", "--json"
    )
    assert result.code == 0, result.err
    document = json.loads(result.out)  # exactly one JSON document on stdout
    assert result.out.count("\n") == 1
    assert document["counts"]["impressions"] == 300 and document["counts"]["bad_lines"] == 13
    assert 0.5 < document["oracle"]["auc_all"] < 1.0
    assert (out / "truth.parquet").exists() and (out / "oracle.json").exists()
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["kind"] == "synthetic-clicks" and manifest["config"]["seed"] == 2


def test_human_output_names_the_oracle(run_cli, tmp_path):
    result = run_cli("generate", "clicks", "--out", tmp_path / "logs", *TINY)
    assert result.code == 0, result.err
    assert "oracle on validation" in result.out and "AUC" in result.out


def test_refuses_an_existing_output_unless_overwrite(run_cli, tmp_path):
    out = tmp_path / "logs"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    refused = run_cli("generate", "clicks", "--out", out, *TINY)
    assert refused.code == 2
    assert (
        refused.err.strip()
        == f"embedrec: error: {out}: already exists; pass --overwrite to replace it"
    )
    assert (out / "keep.txt").read_text() == "mine"
    replaced = run_cli("generate", "clicks", "--out", out, *TINY, "--overwrite", "--json")
    assert replaced.code == 0, replaced.err
    assert not (out / "keep.txt").exists() and (out / "impressions.jsonl").exists()


def test_bad_value_is_one_line_naming_the_flag(run_cli, tmp_path):
    result = run_cli("generate", "clicks", "--out", tmp_path / "logs", "--docs", "5")
    assert result.code == 2
    assert "Traceback" not in result.err
    assert result.err.startswith("embedrec: error: docs: got 5, expected an integer >= 30")
    assert not (tmp_path / "logs").exists()
