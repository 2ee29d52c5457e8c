"""Any ``--dim`` >= 1: the tables are padded to fbgemm's 4-float unit inside, and everything
a user sees (embeddings, manifest, word2vec export, index, service) has exactly ``dim``."""

from __future__ import annotations

import json

import numpy as np
import pytest

from embedrec.engine.skipgram.config import SkipGramConfig
from embedrec.engine.skipgram.files import load_embeddings


@pytest.mark.parametrize("dim", [1, 50, 150])
def test_any_dim_end_to_end(run_cli, tmp_path, world, dim):
    model, index = tmp_path / "m", tmp_path / "i"
    trained = run_cli(
        "train", "skipgram", world.dataset, "--out", model, "--dim", str(dim),
        "--epochs", "1", "--threads", "1", "--json", "--no-progress",
    )  # fmt: skip
    assert trained.code == 0, trained.err
    emb = load_embeddings(model)
    assert emb.vectors.shape[1] == dim
    assert np.all(np.isfinite(emb.vectors)) and np.abs(emb.vectors).max() > 0
    manifest = json.loads((model / "manifest.json").read_text())
    assert manifest["config"]["dim"] == dim and manifest["counts"]["dim"] == dim

    exported = run_cli("export", model, "--format", "word2vec-text", "--out", tmp_path / "v.txt")
    assert exported.code == 0, exported.err
    header = (tmp_path / "v.txt").read_text().split("\n", 1)[0]
    assert header == f"{len(emb)} {dim}"

    built = run_cli("index", "build", model, "--out", index, "--kind", "flat", "--json")
    assert built.code == 0, built.err
    assert json.loads((index / "manifest.json").read_text())["dim"] == dim
    near = run_cli("query", "neighbors", index, emb.tokens[3], "-k", "3", "--json")
    assert near.code == 0, near.err


def test_padding_columns_stay_zero_and_are_not_exported(tmp_path, world):
    from embedrec.engine.runtime.distributed import distributed
    from embedrec.engine.skipgram.model import WORD, SkipGramTables

    config = SkipGramConfig(dim=6, epochs=1, threads=1)
    assert config.table_dim == 8
    with distributed("cpu") as ctx:
        tables = SkipGramTables.build(50, config, ctx)
        weights = tables.local_weights()
        assert weights[WORD].shape == (50, 8)
        assert np.all(weights[WORD].numpy()[:, 6:] == 0)
        assert np.abs(weights[WORD].numpy()[:, :6]).max() > 0
        gathered = tables.gather(WORD)
        assert gathered is not None and gathered.shape == (50, 6)
