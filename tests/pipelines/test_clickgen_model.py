"""The simulated world: seeded, shaped as documented, learnable but not trivial."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from embedrec.core.errors import ConfigError
from embedrec.core.ranking_metrics import auc
from embedrec.pipelines.synthetic.clicks.config import ClickLogConfig
from embedrec.pipelines.synthetic.clicks.model import (
    GENERIC_WORDS,
    examination_curve,
    simulate_clicks,
)

# Default model settings, small sizes: 3000 impressions = 30,000 shown results.
SMALL = ClickLogConfig(queries=300, docs=1200, impressions=3000, users=400, seed=11)


@pytest.fixture(scope="module")
def simulated():
    return simulate_clicks(SMALL)


def test_same_seed_same_arrays_other_seed_other_arrays(simulated):
    world, log = simulated
    world2, log2 = simulate_clicks(SMALL)
    for field in dataclasses.fields(log):
        assert np.array_equal(getattr(log, field.name), getattr(log2, field.name)), field.name
    assert world.query_text == world2.query_text and world.doc_title == world2.doc_title
    _, other = simulate_clicks(dataclasses.replace(SMALL, seed=12))
    assert not np.array_equal(log.docs, other.docs)


def test_shapes_and_truth_identities(simulated):
    world, log = simulated
    n, r = SMALL.impressions, SMALL.results_per_impression
    assert log.docs.shape == log.p_click.shape == log.relevance.shape == log.clicked.shape == (n, r)
    assert np.allclose(log.p_click, log.relevance * examination_curve(r, 0.7))
    assert np.allclose(log.examination[:3], [1.0, 2**-0.7, 3**-0.7])
    assert ((log.relevance > 0) & (log.relevance < 1)).all()
    # Results of one impression are distinct docs.
    sorted_docs = np.sort(log.docs, axis=1)
    assert (sorted_docs[:, 1:] != sorted_docs[:, :-1]).all()
    assert len(set(world.query_text)) == SMALL.queries


def test_times_strictly_increase_over_the_weeks(simulated):
    _, log = simulated
    start = int(SMALL.start_time().timestamp())
    assert (np.diff(log.time) > 0).all()
    assert (
        log.time[0] >= start and log.time[-1] < start + SMALL.weeks * 7 * 86400 + SMALL.impressions
    )
    days = (log.time - start) // 86400
    assert days.max() - days.min() >= 7 * SMALL.weeks - 2  # spread over the weeks, not bunched


def test_position_bias_is_visible_in_the_clicks(simulated):
    _, log = simulated
    ctr = log.clicked.mean(axis=0)
    assert (np.diff(ctr[:5]) < 0).all(), ctr
    assert ctr[0] > 2 * ctr[4]
    # Beyond the shown order: clicks per unit of relevance fall with position too.
    clicks_per_relevance = log.clicked.sum(axis=0) / log.relevance.sum(axis=0)
    assert clicks_per_relevance[0] > 1.5 * clicks_per_relevance[4]


def test_oracle_auc_is_clearly_between_chance_and_certainty(simulated):
    _, log = simulated
    y = log.clicked.ravel()
    oracle = auc(log.p_click.ravel(), y)
    assert 0.75 < oracle < 0.95
    # Position alone is worse than the oracle: the query/doc/user part must be learned.
    position_only = auc(-np.tile(np.arange(SMALL.results_per_impression), SMALL.impressions), y)
    assert position_only < oracle - 0.04
    assert 0.5 < auc(log.relevance.ravel(), y) < oracle


def test_queries_of_a_topic_share_words_and_latent_direction(simulated):
    world, _ = simulated
    topic_of_word: dict[str, set[int]] = {}
    for text, topic in zip(world.query_text, world.query_topic.tolist(), strict=True):
        for word in text.split():
            if word not in GENERIC_WORDS:
                topic_of_word.setdefault(word, set()).add(topic)
    assert all(
        len(topics) == 1 for topics in topic_of_word.values()
    )  # topic words belong to one topic
    shared = sum(len(t) for t in topic_of_word.values())
    assert shared < sum(len(q.split()) for q in world.query_text)  # words repeat across queries
    v = world.query_vectors / np.linalg.norm(world.query_vectors, axis=1, keepdims=True)
    same = world.query_topic[:, None] == world.query_topic[None, :]
    cosine = v @ v.T
    assert cosine[same].mean() > cosine[~same].mean() + 0.4


def test_candidates_come_mostly_from_the_query_topic(simulated):
    world, log = simulated
    shown_topics = world.doc_topic[log.docs]
    same_topic = shown_topics == world.query_topic[log.query][:, None]
    assert same_topic.mean() > 0.6


def test_popularity_is_skewed(simulated):
    _, log = simulated
    counts = np.sort(np.bincount(log.query, minlength=SMALL.queries))[::-1]
    assert counts[: SMALL.queries // 10].sum() > 0.3 * SMALL.impressions  # top 10% of queries


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("queries", 0, "queries: got 0"),
        ("docs", 10, "docs: got 10"),
        ("bad_lines", -1, "bad_lines: got -1"),
        ("words_per_topic", 5, "words_per_topic: got 5, expected an integer >= 6"),
        ("validation_fraction", 1.0, "validation_fraction"),
        ("start", "05/01/2026", "start: got '05/01/2026', expected a date YYYY-MM-DD"),
        ("impressions", 2.5, "impressions: got 2.5, expected an integer >= 1"),
    ],
)
def test_bad_config_names_the_key(field, value, message):
    with pytest.raises(ConfigError, match=message.replace("(", r"\(")):
        dataclasses.replace(SMALL, **{field: value}).validate()
