"""``embedrec index build``, ``eval analogies|similarity`` and ``plot pca`` through the CLI."""

from __future__ import annotations

import json

import numpy as np
from faiss.contrib.datasets import SyntheticDataset
from index_fixtures import planted_analogies

from embedrec.core.artifacts import read_manifest


def _questions(tmp_path, pairs):
    path = tmp_path / "questions.txt"
    lines = [": capitals"] + [f"{a} {b} {c} {d}" for a, b in pairs for c, d in pairs if a != c]
    path.write_text("\n".join([*lines, "nope nope nope nope"]) + "\n")
    return path


def test_help_shows_real_examples(run_cli):
    for command in (
        ["index", "build"],
        ["eval", "analogies"],
        ["eval", "similarity"],
        ["plot", "pca"],
    ):
        result = run_cli(*command, "--help")
        assert result.code == 0
        assert f"embedrec {' '.join(command)} " in result.out


def test_build_then_refuse_then_overwrite(run_cli, make_model, tmp_path):
    vectors = SyntheticDataset(16, 0, 1500, 0, seed=3).get_database()
    model = make_model(vectors)
    out = tmp_path / "index"
    result = run_cli("index", "build", model, "--out", out, "--kind", "hnsw", "--json")
    assert result.code == 0, result.err
    report = json.loads(result.out)
    assert report["factory"] == "HNSW32" and report["recall_at_10"] >= 0.95
    assert read_manifest(out)["recall_at_10"] == report["recall_at_10"]

    again = run_cli("index", "build", model, "--out", out, "--kind", "flat")
    assert again.code == 2
    assert again.err.strip().count("\n") == 0 and "--overwrite" in again.err
    assert "Traceback" not in again.err

    human = run_cli("index", "build", model, "--out", out, "--kind", "flat", "--overwrite")
    assert human.code == 0, human.err
    assert "exact search" in human.out and "1,500 vectors" in human.out


def test_build_errors_are_one_line(run_cli, make_model, tmp_path):
    model = make_model(np.random.default_rng(0).standard_normal((100, 8)).astype(np.float32))
    bad = run_cli("index", "build", model, "--out", tmp_path / "x", "--kind", "IVF8,Bogus")
    assert bad.code == 2
    assert bad.err.startswith("embedrec: error: kind: got 'IVF8,Bogus'")
    assert bad.err.strip().count("\n") == 0
    recall = run_cli("index", "build", model, "--out", tmp_path / "x", "--target-recall", "2")
    assert recall.code == 2 and "target_recall" in recall.err
    missing = run_cli("index", "build", tmp_path / "nothing", "--out", tmp_path / "y")
    assert missing.code == 2 and "does not exist" in missing.err


def test_eval_analogies_json_and_text(run_cli, make_model, tmp_path):
    vectors, tokens, pairs = planted_analogies()
    model = make_model(vectors, tokens)
    questions = _questions(tmp_path, pairs)
    result = run_cli("eval", "analogies", model, "--questions", questions, "--json")
    assert result.code == 0, result.err
    report = json.loads(result.out)
    assert report["accuracy"] == 1.0 and report["total"] == 56 and report["skipped_oov"] == 1
    assert report["sections"][0]["name"] == "capitals"
    text = run_cli(
        "eval",
        "analogies",
        model,
        "--questions",
        questions,
        "--method",
        "3cosmul",
        "--restrict-vocab",
        "50",
    )
    assert text.code == 0, text.err
    assert "capitals" in text.out and "100.0%" in text.out and "3cosmul" in text.out


def test_eval_similarity_json(run_cli, make_model, tmp_path):
    vectors, tokens, _ = planted_analogies()
    pairs = tmp_path / "pairs.tsv"
    pairs.write_text(
        "# w1\tw2\tscore\ncountry0\tcapital0\t9\ncountry0\tnoise1\t1\n"
        "capital0\tcapital1\t5\ncountry0\tmissing\t3\n"
    )
    result = run_cli("eval", "similarity", make_model(vectors, tokens), "--pairs", pairs, "--json")
    assert result.code == 0, result.err
    report = json.loads(result.out)
    assert report["pairs"] == 3 and report["oov_pairs"] == 1
    assert report["spearman"] == 1.0


def test_plot_pca_takes_words_after_the_flag(run_cli, make_model, tmp_path):
    vectors, tokens, _ = planted_analogies()
    model = make_model(vectors, tokens)
    out = tmp_path / "pca.png"
    result = run_cli(
        "plot",
        "pca",
        model,
        "--words",
        "country0",
        "capital0",
        "country1",
        "--words",
        "capital1,noise2",
        "--out",
        out,
    )
    assert result.code == 0, result.err
    assert "5 words" in result.out and out.stat().st_size > 1000
    unknown = run_cli("plot", "pca", model, "--words", "country0", "xyzzy", "--out", out)
    assert unknown.code == 2 and "unknown word 'xyzzy'" in unknown.err
