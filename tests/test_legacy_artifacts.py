"""Artifacts written before the move (commit bc4fc7e) still load: model, index, click data.

See tests/assets/legacy/README.md for how they were made.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

LEGACY = Path(__file__).parent / "assets" / "legacy"
WORD = "lisbon"  # a capital of the planted world, in the 416-word vocabulary


def test_the_index_and_the_model_answer_the_same_neighbours():
    from embedrec.indexes import load_index

    index = load_index(LEGACY / "index")
    model = load_index(LEGACY / "model")
    assert len(index) == len(model) == 416
    from_index = index.neighbors(WORD, k=5)
    from_model = model.neighbors(WORD, k=5)
    assert len(from_index) == 5 and WORD not in [hit.token for hit in from_index]
    assert [hit.token for hit in from_index] == [hit.token for hit in from_model]
    np.testing.assert_allclose(
        [hit.score for hit in from_index], [hit.score for hit in from_model], atol=1e-5
    )
    assert index.vector(WORD).shape == (8,)


def test_the_skipgram_files_load():
    from embedrec.engine.skipgram.files import load_embeddings

    embeddings = load_embeddings(LEGACY / "model")
    assert embeddings.vectors.shape == (416, 8) and embeddings.tokens[0] == "the"


def test_the_click_dataset_reads():
    from embedrec.pipelines import open_click_dataset

    dataset = open_click_dataset(LEGACY / "clicks")
    assert dataset.num_examples() == 3000
    assert dataset.sparse_features == ("device", "region")
    table = dataset.read(split="train")
    assert 0 < table.num_rows < 3000
    assert {"query_tokens", "doc", "label"} <= set(table.column_names)
    assert len(dataset.vocabs["doc"]) == 118


def test_query_and_eval_commands_on_old_artifacts(run_cli):
    neighbours = run_cli("query", "neighbors", LEGACY / "index", WORD, "-k", "3", "--json")
    assert neighbours.code == 0, neighbours.err
    assert len(json.loads(neighbours.out)["neighbors"]) == 3
    analogy = run_cli("query", "analogy", LEGACY / "model", "portugal", "lisbon", "chile")
    assert analogy.code == 0, analogy.err
    for artifact in ("index", "model"):
        analogies = run_cli(
            "eval", "analogies", LEGACY / artifact, "--questions",
            LEGACY / "questions-words.txt", "--json",
        )  # fmt: skip
        assert analogies.code == 0, analogies.err
        assert json.loads(analogies.out)["total"] > 0
    similarity = run_cli(
        "eval", "similarity", LEGACY / "model", "--pairs", LEGACY / "similarity.tsv", "--json"
    )
    assert similarity.code == 0, similarity.err


@pytest.mark.slow  # ~90 s on a busy 2-core machine: numba compiles the hogwild kernel
def test_an_old_run_resumes(tmp_path):
    from embedrec.engine.skipgram.config import SkipGramConfig
    from embedrec.engine.skipgram.train import train_skipgram

    model = shutil.copytree(LEGACY / "model", tmp_path / "model")
    config = json.loads((LEGACY / "model" / "config.json").read_text())["skipgram"]
    result = train_skipgram(
        LEGACY / "text",
        model,
        SkipGramConfig(**{**config, "epochs": 2}),
        resume=True,
        show_progress=False,
    )
    assert result.resumed_from is not None and "step-000000001" in result.resumed_from
    assert result.epochs == 2 and result.words > 0  # the second epoch ran on the old state


@pytest.mark.parametrize("artifact", ["model", "index", "clicks", "text"])
def test_the_fixture_stays_small(artifact):
    size = sum(p.stat().st_size for p in (LEGACY / artifact).rglob("*") if p.is_file())
    assert size < 200_000
