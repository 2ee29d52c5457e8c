"""``embedrec train ranker``: the model directory, exact resume, warm start, every log format."""

from __future__ import annotations

import json
import shutil
import sys

import numpy as np
import pytest
import torch
from rank_processes import run_launched
from ranker_fixtures import generate_logs, ranker_world, train_tiny

from embedrec.core.artifacts import read_json, read_manifest, write_manifest
from embedrec.engine.ranker.files import load_model_state
from embedrec.engine.skipgram.files import SKIPGRAM_MODEL_KIND, write_embeddings
from embedrec.engine.skipgram.progress import read_metrics
from embedrec.pipelines.clicks.dataset import read_click_vocab
from embedrec.pipelines.text.dataset import Vocabulary

FAST = ["--threads", "1", "--dim", "16", "--mlp", "32", "--batch-size", "1024", "--no-progress"]


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    return ranker_world(tmp_path_factory)


def test_train_cli_writes_a_whole_model_directory(run_cli, world, tmp_path):
    out = tmp_path / "ranker"
    result = run_cli("train", "ranker", world.old, "--out", out, "--epochs", "1", *FAST, "--json")
    assert result.code == 0, result.err
    doc = json.loads(result.out)
    assert doc["groups"] == ["query", "title", "doc", "device", "region"]
    assert doc["position"] is True and doc["world_size"] == 1
    assert doc["examples"] == doc["train_examples"] == 36_000
    assert doc["plan"]["doc"]["sharding_type"] in ("table_wise", "data_parallel")
    assert 0.6 < doc["validation"]["auc"] < 1.0
    manifest = read_manifest(out)
    assert manifest["kind"] == "ranker-model" and manifest["features"]["position"]
    for name in ("model.pt", "config.json", "docs.parquet", "vocabs/doc.parquet"):
        assert (out / name).exists(), name
    assert read_manifest(out / "doc_embeddings")["kind"] == "doc-embeddings"
    assert read_click_vocab(out / "vocabs" / "doc.parquet").values[0] == "<unk>"
    metrics = read_metrics(out)
    assert any(line.get("epoch_end") for line in metrics)
    assert any("validation" in line for line in metrics)
    again = run_cli("train", "ranker", world.old, "--out", out, *FAST)
    assert again.code == 2 and "--overwrite" in again.err and "Traceback" not in again.err


def test_resume_continues_exactly(world, tmp_path):
    settings = {"epochs": 2, "checkpoint_every_steps": 25, "validate": False}
    straight = tmp_path / "straight"
    train_tiny(world.old, straight, **settings)
    # 36 steps per epoch: checkpoints at 25, 50 and 72 (the last two kept). Lose the last
    # one, as a crash after step 50 would, and resume from the middle of epoch 2.
    crashed = tmp_path / "crashed"
    shutil.copytree(straight, crashed)
    checkpoints = sorted((crashed / "checkpoints").iterdir())
    assert [p.name for p in checkpoints] == ["step-000000050", "step-000000072"]
    shutil.rmtree(checkpoints[-1])
    (crashed / "model.pt").unlink()
    result = train_tiny(world.old, crashed, resume=True, **settings)
    assert result.resumed_from.endswith("step-000000050") and result.steps == 22
    want, got = load_model_state(straight), load_model_state(crashed)
    assert want.keys() == got.keys()
    for key in want:
        assert torch.equal(want[key], got[key]), key


def test_resume_refuses_a_changed_shape(run_cli, world, tmp_path):
    out = tmp_path / "m"
    train_tiny(world.old, out, epochs=1, validate=False)
    result = run_cli("train", "ranker", world.old, "--out", out, *FAST, "--resume", "--dim", "8")
    assert result.code == 2
    assert "dim: got 8, expected 16" in result.err


def write_skipgram(directory, tokens, dim):
    vectors = np.random.default_rng(0).normal(size=(len(tokens), dim)).astype(np.float32)
    directory.mkdir()
    write_embeddings(directory, vectors, Vocabulary(tokens, np.ones(len(tokens), np.int64)))
    write_manifest(directory, kind=SKIPGRAM_MODEL_KIND, config={}, counts={})
    return vectors


def test_warm_start_copies_vectors_of_matching_words(run_cli, world, tmp_path):
    words = read_click_vocab(world.old / "vocabs" / "query_token.parquet").values
    tokens = [*words[1:40], "zzz-not-a-query-word"]
    vectors = write_skipgram(tmp_path / "sg", tokens, 16)
    out = tmp_path / "warm"
    # A learning rate so small the rows stay where the warm start put them.
    result = train_tiny(
        world.old, out, epochs=1, validate=False, table_lr=1e-7, warm_start=str(tmp_path / "sg")
    )
    assert result.warm_start["matched"] == 39 and result.warm_start["rows"] == len(words)
    table = load_model_state(out)["sparse.embedding_bags.query_token.weight"].numpy()
    np.testing.assert_allclose(table[1:40], vectors[:39], atol=1e-4)
    bad = run_cli(
        "train",
        "ranker",
        world.old,
        "--out",
        tmp_path / "w8",
        *FAST,
        "--warm-start",
        tmp_path / "sg",
        "--dim",
        "8",
    )
    assert bad.code == 2 and "--dim 16" in bad.err and "Traceback" not in bad.err


@pytest.fixture(scope="module")
def bad_logs(tmp_path_factory):
    """Logs with one planted bad line of each kind in each format."""
    return generate_logs(
        tmp_path_factory.mktemp("bad") / "logs",
        seed=5,
        bad_lines=13,
        queries=60,
        docs=300,
        impressions=1500,
        users=200,
    )


@pytest.mark.parametrize(
    ("fmt", "file", "groups", "position"),
    [
        ("jsonl", "impressions.jsonl", ["query", "title", "doc", "device", "region"], True),
        ("aol", "aol.tsv", ["query", "doc"], False),
        ("criteo", "criteo.tsv", [*(f"c{i}" for i in range(1, 27)), "dense"], False),
    ],
)
def test_each_format_end_to_end(run_cli, bad_logs, tmp_path, fmt, file, groups, position):
    planted = read_json(bad_logs / "bad_lines.json")["by_file"][file]
    data = tmp_path / "data"
    built = run_cli(
        "clicks-pipeline", bad_logs / file, "--format", fmt, "--out", data, "--in-process", "--json"
    )
    assert built.code == 0, built.err
    assert json.loads(built.out)["rejected"] == planted  # every bad-line kind, counted exactly
    model = tmp_path / "model"
    trained = run_cli("train", "ranker", data, "--out", model, "--epochs", "1", *FAST, "--json")
    assert trained.code == 0, trained.err
    doc = json.loads(trained.out)
    assert doc["groups"] == groups and doc["position"] is position
    evaluated = run_cli("eval", "ranker", model, data, "--json")
    assert evaluated.code == 0, evaluated.err
    report = json.loads(evaluated.out)
    assert 0.5 < report["with_position"]["auc"] <= 1.0
    expected_baselines = {"jsonl": 3, "aol": 3, "criteo": 0}[fmt]
    assert len(report["baselines"]) == expected_baselines


@pytest.mark.multiprocess
def test_two_ranks_under_torchrun(world, tmp_path):
    out = tmp_path / "two"
    command = [
        sys.executable,
        "-m",
        "embedrec.cli",
        "train",
        "ranker",
        str(world.old),
        "--out",
        str(out),
        "--epochs",
        "4",
        "--patience",
        "1",
        "--table-lr",
        "0.5",  # overfits within a few epochs: early stopping decides on both ranks alike
        "--nproc",
        "2",
        *FAST,
    ]
    completed = run_launched(command, timeout=600)
    assert completed.returncode == 0, completed.stderr[-3000:]
    manifest = read_manifest(out)
    assert manifest["world_size"] == 2
    assert 0.6 < manifest["validation"]["auc"] < 1.0
    curve = [line["validation"]["auc"] for line in read_metrics(out) if "validation" in line]
    stop = manifest["early_stop"]
    assert stop["epochs_run"] == len(curve)
    assert stop["kept_epoch"] == 1 + max(range(len(curve)), key=curve.__getitem__)
    assert manifest["validation"]["auc"] == max(curve)
    if stop["stop_reason"] == "patience":
        assert len(curve) < 4
    exported, best = load_model_state(out), load_model_state(out / "best")
    assert all(torch.equal(exported[k], best[k]) for k in exported)
