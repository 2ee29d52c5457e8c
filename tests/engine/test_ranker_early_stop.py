"""Early stopping keeps the best epoch; regularisation knobs reach the optimizers."""

from __future__ import annotations

import json
import shutil

import pytest
import torch
from ranker_fixtures import ranker_world, train_tiny

from embedrec.engine.errors import EngineError
from embedrec.engine.ranker.early_stop import (
    StopRule,
    initial_state,
    load_best,
    observe,
    should_stop,
)
from embedrec.engine.ranker.files import load_model_state
from embedrec.engine.skipgram.progress import read_metrics

# Learning rates far too high for 4000 impressions: validation AUC peaks early, then falls.
OVERFIT = {
    "table_lr": 0.5,
    "table_eps": 1e-8,
    "dense_lr": 0.02,
    "dim": 32,
    "mlp": (64,),
    "epochs": 8,
}


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    return ranker_world(tmp_path_factory)


@pytest.fixture(scope="module")
def overfit(world, tmp_path_factory):
    out = tmp_path_factory.mktemp("overfit") / "model"
    return out, train_tiny(world.old, out, patience=2, **OVERFIT)


def test_rule_counts_epochs_without_gain():
    rule = StopRule(metric="log_loss", patience=1)
    state = initial_state()
    assert observe(state, rule, 0, {"log_loss": 0.30}) and not should_stop(state, rule)
    assert not observe(state, rule, 1, {"log_loss": 0.31})
    assert should_stop(state, rule) and state["stopped"] == "patience"
    assert state["best_epoch"] == 0 and state["epochs_run"] == 2
    never = StopRule(patience=None)
    state = initial_state()
    for epoch in range(5):
        observe(state, never, epoch, {"auc": 0.5})
    assert not should_stop(state, never) and state["best_epoch"] == 0


def test_an_overfitting_run_stops_and_keeps_its_best_epoch(overfit):
    out, result = overfit
    stop = result.early_stop
    curve = [line["validation"]["auc"] for line in read_metrics(out) if "validation" in line]
    best = max(range(len(curve)), key=curve.__getitem__)
    assert stop["stop_reason"] == "patience", curve
    assert stop["epochs_run"] == len(curve) == best + 3 < OVERFIT["epochs"], curve
    assert stop["kept_epoch"] == best + 1 and curve[-1] < curve[best]
    assert result.validation["auc"] == curve[best]
    # The exported model is the best epoch's weights, not the last epoch's.
    exported, kept = load_model_state(out), load_model_state(out / "best")
    assert all(torch.equal(exported[k], kept[k]) for k in exported)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["early_stop"]["kept_epoch"] == best + 1
    assert read_metrics(out)[-1]["kept"]["stop_reason"] == "patience"


def test_resumed_after_stopping_it_stops_again_at_once(world, overfit, tmp_path):
    out, first = overfit
    again = tmp_path / "again"
    shutil.copytree(out, again)
    result = train_tiny(world.old, again, resume=True, patience=2, **OVERFIT)
    assert result.steps == 0 and result.early_stop["kept_epoch"] == first.early_stop["kept_epoch"]
    assert result.validation["auc"] == first.validation["auc"]
    with pytest.raises(EngineError, match="holds epoch"):
        load_best(again, first.early_stop["kept_epoch"])  # 0-based epoch expected: mismatch


def test_stopping_survives_an_interrupted_run(world, overfit, tmp_path):
    out, straight = overfit
    # The same run cut after two epochs and resumed: same counters, same kept weights.
    cut = tmp_path / "cut"
    train_tiny(world.old, cut, patience=2, **{**OVERFIT, "epochs": 2})
    resumed = train_tiny(world.old, cut, resume=True, patience=2, **OVERFIT)
    assert resumed.early_stop["kept_epoch"] == straight.early_stop["kept_epoch"]
    assert resumed.early_stop["epochs_run"] == straight.early_stop["epochs_run"]
    want, got = load_model_state(out), load_model_state(cut)
    assert all(torch.equal(want[k], got[k]) for k in want)


def test_table_weight_decay_shrinks_the_embedding_rows(world, tmp_path):
    # The live weights of plain row-wise Adagrad (eps 1e-8 everywhere, no average, the
    # former retrieval weight): what the L2 acts on, without the defaults damping the doc rows.
    live = {
        "epochs": 1,
        "validate": False,
        "table_eps": 1e-8,
        "doc_table_eps": None,
        "ema_decay": None,
        "retrieval_weight": 0.25,
    }
    plain = train_tiny(world.old, tmp_path / "plain", **live)
    decayed = train_tiny(world.old, tmp_path / "decayed", table_weight_decay=0.5, **live)
    assert plain.early_stop["stop_reason"] == decayed.early_stop["stop_reason"] == "no_validation"
    key = "sparse.embedding_bags.doc.weight"
    a = load_model_state(tmp_path / "plain")[key].norm()
    b = load_model_state(tmp_path / "decayed")[key].norm()
    assert b < 0.9 * a, (a, b)


def test_table_eps_damps_the_steps_of_the_embedding_rows(world, tmp_path):
    """Row-wise Adagrad steps lr · g / (sqrt(G) + eps): with eps far above sqrt(G) the rows
    move much less than with a tiny eps (the start is the same: same seed), and
    ``doc_table_eps`` does that to the doc table alone."""
    runs = {}
    for name, settings in (
        ("start", {"table_lr": 1e-7}),
        ("tiny_eps", {"table_eps": 1e-8, "doc_table_eps": None}),
        ("large_eps", {"table_eps": 1.0, "doc_table_eps": None}),
        ("large_doc_eps", {"table_eps": 1e-8, "doc_table_eps": 1.0}),
    ):
        train_tiny(world.old, tmp_path / name, epochs=1, validate=False, ema_decay=None, **settings)
        runs[name] = load_model_state(tmp_path / name)

    def moved(name: str, table: str) -> float:
        key = f"sparse.embedding_bags.{table}.weight"
        return float((runs[name][key] - runs["start"][key]).norm())

    assert moved("large_eps", "doc") < 0.1 * moved("tiny_eps", "doc")
    assert moved("large_doc_eps", "doc") < 0.1 * moved("tiny_eps", "doc")
    assert moved("large_doc_eps", "query_token") > 0.5 * moved("tiny_eps", "query_token")


def test_the_exported_weights_are_the_moving_average(world, tmp_path):
    """With ``ema_decay`` the export is the average of the steps' weights: between the
    start and the live weights of the last step, which the checkpoint keeps."""
    key = "sparse.embedding_bags.doc.weight"
    live = train_tiny(world.old, tmp_path / "live", epochs=2, validate=False, ema_decay=None)
    averaged = train_tiny(world.old, tmp_path / "avg", epochs=2, validate=False, ema_decay=0.9)
    assert live.steps == averaged.steps
    a = load_model_state(tmp_path / "live")[key]
    b = load_model_state(tmp_path / "avg")[key]
    assert not torch.equal(a, b)
    assert (a - b).norm() < 0.5 * a.norm()
