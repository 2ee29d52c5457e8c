"""``embedrec query neighbors|analogy`` on a local index or model directory."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from embedrec.core.artifacts import write_manifest
from embedrec.engine.skipgram.files import write_embeddings
from embedrec.pipelines.text.dataset import Vocabulary


@pytest.fixture
def model(tmp_path: Path) -> Path:
    """Countries and capitals one shared offset apart, plus noise words (seeded)."""
    rng = np.random.default_rng(0)
    dim = 48
    offset = rng.standard_normal(dim)
    countries = rng.standard_normal((6, dim))
    capitals = countries + 1.2 * offset / np.linalg.norm(offset) * np.sqrt(dim)
    noise = rng.standard_normal((100, dim))
    vectors = np.vstack([countries, capitals, noise]).astype(np.float32)
    tokens = [f"country{i}" for i in range(6)] + [f"capital{i}" for i in range(6)]
    tokens += [f"noise{i}" for i in range(100)]
    directory = tmp_path / "model"
    write_embeddings(directory, vectors, Vocabulary(tokens, np.arange(len(tokens), 0, -1)))
    write_manifest(directory, kind="skipgram-model", config={}, counts={})
    return directory


@pytest.fixture
def index(run_cli, model: Path, tmp_path: Path) -> Path:
    out = tmp_path / "index"
    assert run_cli("index", "build", model, "--out", out, "--kind", "flat").code == 0
    return out


def test_neighbors_json(run_cli, index):
    result = run_cli("query", "neighbors", index, "capital0", "-k", "3", "--json")
    assert result.code == 0, result.err
    doc = json.loads(result.out)
    assert doc["word"] == "capital0" and doc["k"] == 3 and doc["metric"] == "cosine"
    tokens = [n["token"] for n in doc["neighbors"]]
    assert len(tokens) == 3 and "capital0" not in tokens
    # Its own country first, then capitals (they share the offset), never noise.
    assert tokens[0] == "country0" and all(t.startswith("capital") for t in tokens[1:])
    scores = [n["score"] for n in doc["neighbors"]]
    assert scores == sorted(scores, reverse=True)


def test_analogy_json_both_methods_and_model_dir(run_cli, index, model):
    for source in (index, model):
        for method in ("3cosadd", "3cosmul"):
            result = run_cli(
                "query",
                "analogy",
                source,
                "country1",
                "capital1",
                "country4",
                "--method",
                method,
                "-k",
                "2",
                "--json",
            )
            assert result.code == 0, result.err
            doc = json.loads(result.out)
            assert doc["method"] == method
            assert doc["answers"][0]["token"] == "capital4"
            assert {"country1", "capital1", "country4"}.isdisjoint(
                a["token"] for a in doc["answers"]
            )


def test_human_output_is_a_ranked_table(run_cli, index):
    result = run_cli("query", "neighbors", index, "CAPITAL2", "-k", "2")
    assert result.code == 0, result.err
    lines = result.out.strip().splitlines()
    assert lines[0].startswith("nearest to 'CAPITAL2'")
    assert lines[1].split()[0] == "1" and len(lines) == 3
    analogy = run_cli("query", "analogy", index, "country0", "capital0", "country3")
    assert "country0 : capital0 :: country3 : ?" in analogy.out
    assert analogy.out.splitlines()[1].split()[1] == "capital3"


def test_unknown_word_is_one_line_exit_2(run_cli, index):
    result = run_cli("query", "neighbors", index, "xyzzy")
    assert result.code == 2
    assert result.err.startswith("embedrec: error: unknown word 'xyzzy'")
    assert result.err.strip().count("\n") == 0 and "Traceback" not in result.err
    typo = run_cli("query", "analogy", index, "country0", "captal0", "country1")
    assert typo.code == 2 and "did you mean 'capital0'" in typo.err


def test_bad_k_is_one_line_exit_2(run_cli, index):
    for k in ("0", "-3", "1000"):
        result = run_cli("query", "neighbors", index, "capital0", "-k", k)
        assert result.code == 2
        assert result.err.startswith("embedrec: error: k: got")
        assert result.err.strip().count("\n") == 0


def test_not_an_index(run_cli, tmp_path):
    result = run_cli("query", "neighbors", tmp_path, "word")
    assert result.code == 2 and "manifest.json" in result.err


def test_help_shows_examples(run_cli):
    assert (
        "embedrec query neighbors indexes/wiki shark" in run_cli("query", "neighbors", "--help").out
    )
    assert "embedrec query analogy" in run_cli("query", "analogy", "--help").out
