"""``embedrec generate text`` through the real CLI entry point."""

from __future__ import annotations

import json


def test_json_prints_one_document_and_writes_the_world(run_cli, tmp_path) -> None:
    out = tmp_path / "world"
    result = run_cli("generate", "text", "--out", out, "--words", "12000", "--seed", "4", "--json")
    assert result.code == 0, result.err
    document = json.loads(result.out)  # exactly one JSON document
    assert document["out"] == str(out)
    assert document["seed"] == 4
    assert document["words"] >= 12000
    assert document["questions"] == {
        "capital-world": 870,
        "family": 870,
        "gram7-past-tense": 870,
        "gram8-plural": 870,
    }
    names = {p.name for p in out.iterdir()}
    assert names == {
        "corpus.txt",
        "questions-words.txt",
        "similarity.tsv",
        "world.json",
        "manifest.json",
    }
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["kind"] == "synthetic-text"
    assert manifest["config"]["seed"] == 4 and manifest["config"]["words"] == 12000


def test_existing_output_is_refused_without_overwrite(run_cli, tmp_path) -> None:
    out = tmp_path / "world"
    assert run_cli("generate", "text", "--out", out, "--words", "10000").code == 0
    before = (out / "corpus.txt").read_bytes()
    refused = run_cli("generate", "text", "--out", out, "--words", "10000", "--seed", "1")
    assert refused.code == 2
    assert "already exists" in refused.err and "--overwrite" in refused.err
    assert "Traceback" not in refused.err
    assert (out / "corpus.txt").read_bytes() == before
    args = ("generate", "text", "--out", out, "--words", "10000", "--seed", "1", "--overwrite")
    replaced = run_cli(*args)
    assert replaced.code == 0, replaced.err
    assert (out / "corpus.txt").read_bytes() != before


def test_human_output_names_the_sizes(run_cli, tmp_path) -> None:
    result = run_cli(
        "generate", "text", "--out", tmp_path / "w", "--words", "10000", "--pairs", "4"
    )
    assert result.code == 0, result.err
    assert "words" in result.out and "capital-world 12" in result.out


def test_bad_value_is_one_line_naming_the_flag(run_cli, tmp_path) -> None:
    result = run_cli("generate", "text", "--out", tmp_path / "w", "--words", "50")
    assert result.code == 2
    assert result.err.startswith("embedrec: error: words: got 50")
    assert not (tmp_path / "w").exists()


def test_help_shows_a_real_example(run_cli) -> None:
    result = run_cli("generate", "text", "--help")
    assert result.code == 0
    assert "embedrec generate text --out world" in result.out
    assert "generate" in run_cli("--help").out
