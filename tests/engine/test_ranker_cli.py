"""``embedrec eval ranker`` and ``embedrec explain ranker`` through the real entry point."""

from __future__ import annotations

import json

import pytest
from ranker_fixtures import ranker_world

from embedrec.pipelines.clicks.dataset import open_click_dataset


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    return ranker_world(tmp_path_factory)


def test_trained_ranker_beats_the_popularity_baseline(run_cli, world):
    result = run_cli("eval", "ranker", world.model, world.old, "--json")
    assert result.code == 0, result.err
    report = json.loads(result.out)
    model, popularity = report["position_free"], report["baselines"]["doc_popularity"]
    assert model["auc"] > popularity["auc"] + 0.05
    assert model["ndcg@10"] > popularity["ndcg@10"] + 0.03
    assert model["mrr"] > popularity["mrr"]
    assert report["with_position"]["rows"] == open_click_dataset(world.old).num_examples(
        "validation"
    )


def test_eval_human_table_names_every_scorer(run_cli, world):
    result = run_cli("eval", "ranker", world.model, world.old)
    assert result.code == 0, result.err
    for name in (
        "ranker (with position)",
        "ranker (position-free)",
        "baseline doc_popularity",
        "baseline query_doc_ctr",
        "baseline logged_order",
        "NDCG@10",
    ):
        assert name in result.out


def test_eval_on_newer_logs_maps_unseen_values_to_unknown(run_cli, world):
    result = run_cli("eval", "ranker", world.model, world.new, "--split", "all", "--json")
    assert result.code == 0, result.err
    report = json.loads(result.out)
    assert report["remapped"] is True
    assert 0 < report["unknown_share"]["doc"] < 0.5
    assert report["with_position"]["rows"] == open_click_dataset(world.new).num_examples()
    assert report["with_position"]["auc"] > 0.65
    human = run_cli("eval", "ranker", world.model, world.new)
    assert "ids mapped to <unk>" in human.out


def test_explain_shows_each_group_for_each_doc(run_cli, world):
    docs = open_click_dataset(world.old).vocabs["doc"].values[1:4]
    query = open_click_dataset(world.old).read(columns=["query"]).column("query")[0].as_py()
    args = [
        "explain",
        "ranker",
        world.model,
        *docs,
        "nosuchdoc",
        "--query",
        f"{query} qqzz",
        "-f",
        "device=mobile",
    ]
    result = run_cli(*args, "--json")
    assert result.code == 0, result.err
    doc = json.loads(result.out)
    assert [r["doc"] for r in doc["results"]] != [] and len(doc["results"]) == 3
    assert doc["unknown_docs"] == ["nosuchdoc"] and doc["unknown_words"] == ["qqzz"]
    scores = [r["score"] for r in doc["results"]]
    assert scores == sorted(scores, reverse=True)
    for item in doc["results"]:
        assert set(item["contributions"]) == {"query", "title", "doc", "device", "region"}
        assert item["contributions"]["region"] == 0.0  # not given
    human = run_cli(*args)
    assert human.code == 0 and "contribution = logit" in human.out and "nosuchdoc" in human.out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--query", "x", "nosuchdoc"], "no doc given is known to this ranker"),
        (["--query", "x", "d1", "-f", "colour=red"], "features: got 'colour'"),
        (["--query", "x", "d1", "-f", "device"], "NAME=VALUE"),
    ],
)
def test_explain_errors_are_one_line(run_cli, world, args, message):
    result = run_cli("explain", "ranker", world.model, *args)
    assert result.code == 2
    lines = result.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("embedrec: error: ") and message in lines[0]


def test_eval_of_something_that_is_not_a_ranker(run_cli, world):
    result = run_cli("eval", "ranker", world.old, world.old)
    assert result.code == 2 and "expected ranker-model" in result.err


@pytest.mark.parametrize(
    ("command", "example"),
    [
        ("train", "embedrec train ranker data/clicks --out models/ranker"),
        ("eval", "embedrec eval ranker models/ranker data/clicks"),
        ("explain", 'embedrec explain ranker models/ranker --query "cheap flights" d17'),
    ],
)
def test_help_shows_examples(run_cli, command, example):
    result = run_cli(command, "ranker", "--help")
    assert result.code == 0 and example in result.out
