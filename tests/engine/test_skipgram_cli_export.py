"""``embedrec train skipgram`` and ``embedrec export`` through the real CLI."""

from __future__ import annotations

import json

import numpy as np
import pytest

from embedrec.engine.skipgram.files import load_embeddings


@pytest.fixture(scope="module")
def trained(tmp_path_factory, world):
    from embedrec.engine.skipgram.config import SkipGramConfig
    from embedrec.engine.skipgram.train import train_skipgram

    out = tmp_path_factory.mktemp("cli") / "model"
    train_skipgram(world.dataset, out, SkipGramConfig(dim=16, epochs=1), show_progress=False)
    return out


def test_train_json_is_one_document(run_cli, tmp_path, world):
    result = run_cli(
        "train",
        "skipgram",
        world.dataset,
        "--out",
        tmp_path / "m",
        "--dim",
        "16",
        "--epochs",
        "1",
        "--json",
    )
    assert result.code == 0, result.err
    document = json.loads(result.out)  # exactly one JSON document, nothing else on stdout
    assert document["kernel"] == "hogwild"
    assert document["words"] == document["corpus_words"]
    assert document["loss"] > 0
    assert set(document["plan"]) == {"word", "context"}
    manifest = json.loads((tmp_path / "m" / "manifest.json").read_text())
    assert manifest["kind"] == "skipgram-model"
    assert manifest["config"]["dim"] == 16


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--dim", "0"], "dim: got 0"),
        (["--dim", "x"], "--dim"),
        (["--negative", "0"], "negative"),
        (["--kernel", "hogwild", "--device", "cuda"], "kernel"),
    ],
)
def test_user_mistakes_are_one_line(run_cli, tmp_path, world, args, message):
    result = run_cli("train", "skipgram", world.dataset, "--out", tmp_path / "m", *args)
    assert result.code == 2
    assert message in result.err
    assert "Traceback" not in result.err
    assert len(result.err.strip().splitlines()) == 1


def test_missing_dataset_and_existing_output(run_cli, tmp_path, trained, world):
    missing = run_cli("train", "skipgram", tmp_path / "nope", "--out", tmp_path / "m")
    assert missing.code == 2 and "does not exist" in missing.err
    exists = run_cli("train", "skipgram", world.dataset, "--out", trained, "--epochs", "1")
    assert exists.code == 2 and "--overwrite" in exists.err


@pytest.mark.parametrize("fmt", ["word2vec-text", "word2vec-binary"])
def test_export_reads_back_in_gensim(run_cli, tmp_path, trained, fmt):
    from gensim.models import KeyedVectors

    out = tmp_path / "vectors"
    result = run_cli("export", trained, "--format", fmt, "--out", out, "--json")
    assert result.code == 0, result.err
    loaded = KeyedVectors.load_word2vec_format(str(out), binary=fmt.endswith("binary"))
    emb = load_embeddings(trained)
    assert loaded.index_to_key == emb.tokens
    np.testing.assert_allclose(loaded.vectors, np.asarray(emb.vectors), rtol=1e-5, atol=1e-6)
