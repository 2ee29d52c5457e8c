"""The other click models (`generate clicks --model cascade|taste`): seeded, known answers."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pyarrow.parquet as pq
import pytest

from embedrec.core.errors import ConfigError
from embedrec.pipelines.synthetic.clicks.cascade import AFTER_CLICK, AFTER_SKIP, cascade_examination
from embedrec.pipelines.synthetic.clicks.config import DEVICES, ClickLogConfig
from embedrec.pipelines.synthetic.clicks.model import build_world, examination_curve
from embedrec.pipelines.synthetic.clicks.taste import taste_effects
from embedrec.pipelines.synthetic.clicks.worlds import CLICK_MODELS, simulate_world, world_config

SIZES = {"queries": 300, "docs": 1200, "impressions": 20000, "users": 400, "seed": 5}


@pytest.fixture(scope="module")
def cascade():
    return simulate_world(world_config("cascade", **SIZES))


@pytest.fixture(scope="module")
def taste():
    return simulate_world(world_config("taste", **SIZES))


def test_every_model_is_seeded_and_shares_the_base_world():
    base = build_world(world_config("position", **SIZES))
    for model in CLICK_MODELS:
        config = world_config(model, **{**SIZES, "impressions": 500})
        world, log = simulate_world(config)
        _, again = simulate_world(config)
        assert world.doc_title == base.doc_title and world.query_text == base.query_text
        for field in dataclasses.fields(log):
            assert np.array_equal(getattr(log, field.name), getattr(again, field.name)), model
    with pytest.raises(ConfigError, match="click_model"):
        ClickLogConfig(click_model="dbn").validate()


def test_cascade_examination_is_the_known_recursion(cascade):
    _, log = cascade
    r = log.relevance
    assert np.allclose(log.examination[:, 0], 1.0)
    step = r[:, :-1] * AFTER_CLICK + (1 - r[:, :-1]) * AFTER_SKIP
    assert np.allclose(log.examination[:, 1:], log.examination[:, :-1] * step)
    assert np.allclose(log.p_click, log.examination * r)
    assert np.allclose(cascade_examination(r), log.examination)


def test_cascade_clicks_follow_the_marginal_p_click(cascade):
    _, log = cascade
    # Per position, the click rate over 20,000 impressions matches the mean true P(click)
    # within 4 standard errors, although clicks were drawn sequentially (reading stops).
    rate, expected = log.clicked.mean(axis=0), log.p_click.mean(axis=0)
    error = np.sqrt(expected * (1 - expected) / len(log.clicked))
    assert (np.abs(rate - expected) < 4 * error + 1e-4).all(), (rate, expected)
    # Examination falls with depth and is not a function of the position alone.
    assert (np.diff(log.examination.mean(axis=0)) < 0).all()
    assert log.examination[:, 5].std() > 0.01


def test_taste_logit_is_base_plus_device_and_region_taste(taste):
    world, log = taste
    config = world_config("taste", **SIZES)
    device_topic, region_topic = taste_effects(config)
    assert device_topic.shape == (len(DEVICES), config.topics)
    # Rebuild the true logit of a few shown results from the documented formula.
    for i in (0, 7, 1234):
        user, query = log.user[i], log.query[i]
        for j, doc in enumerate(log.docs[i][:3]):
            c = int(np.flatnonzero(world.candidates[query] == doc)[0])
            region = world.doc_region[doc]
            match = 0.0 if region < 0 else (1.0 if region == world.user_region[user] else -1.0)
            logit = (
                world.base_logit[query, c]
                + world.device_effect[world.user_device[user], world.doc_kind[doc]]
                + config.region_effect * match
                + device_topic[world.user_device[user], world.doc_topic[doc]]
                + region_topic[world.user_region[user], world.doc_topic[doc]]
            )
            assert log.relevance[i, j] == pytest.approx(1 / (1 + np.exp(-logit)))
    assert np.allclose(log.examination, examination_curve(10, 0.3))
    assert np.allclose(log.p_click, log.relevance * log.examination)


def test_generate_clicks_model_option_writes_the_truth(run_cli, tmp_path):
    out = tmp_path / "cascade"
    result = run_cli(
        "generate", "clicks", "--out", out, "--model", "cascade", "--queries", "50",
        "--docs", "200", "--impressions", "300", "--users", "40", "--seed", "3", "--json",
    )  # fmt: skip
    assert result.code == 0, result.err
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["config"]["click_model"] == "cascade"
    truth = {k: np.asarray(v) for k, v in pq.read_table(out / "truth.parquet").to_pydict().items()}
    second = truth["examination"][truth["position"] == 2]
    assert len(np.unique(second)) > 1  # depends on the doc above, not the position
    assert np.allclose(truth["p_click"], truth["examination"] * truth["relevance"])
    bad = run_cli("generate", "clicks", "--out", tmp_path / "x", "--model", "dbn")
    assert bad.code == 2 and "dbn" in bad.err
