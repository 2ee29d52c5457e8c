"""Ranking metrics against hand computations and brute force (every pair, every tie order)."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from embedrec.core.ranking_metrics import (
    MetricError,
    auc,
    log_loss,
    mrr,
    ndcg_at_k,
    ndcg_per_group,
    oracle_metrics,
    ranking_report,
    reciprocal_rank_per_group,
)


def pairwise_auc(scores, labels):
    """AUC by counting every (clicked, unclicked) pair: the definition, O(n²)."""
    pos = [s for s, y in zip(scores, labels, strict=True) if y]
    neg = [s for s, y in zip(scores, labels, strict=True) if not y]
    wins = sum(1.0 if p > n else 0.5 if p == n else 0.0 for p in pos for n in neg)
    return wins / (len(pos) * len(neg))


def dcg(gains_in_rank_order, k):
    return sum(g / math.log2(r + 2) for r, g in enumerate(gains_in_rank_order[:k]))


def brute_ndcg_one(scores, gains, k):
    """Mean NDCG@k over every order of the tied scores (each order equally likely)."""
    ideal = dcg(sorted(gains, reverse=True), k)
    values = []
    for perm in itertools.permutations(range(len(scores))):
        # A permutation is a tie-break: sort by score descending, then by the permutation.
        order = sorted(range(len(scores)), key=lambda i: (-scores[i], perm.index(i)))
        values.append(dcg([gains[i] for i in order], k) / ideal)
    return float(np.mean(values))


def brute_rr_one(scores, labels):
    values = []
    for perm in itertools.permutations(range(len(scores))):
        order = sorted(range(len(scores)), key=lambda i: (-scores[i], perm.index(i)))
        values.append(next(1.0 / (r + 1) for r, i in enumerate(order) if labels[i]))
    return float(np.mean(values))


def test_auc_hand_computed_cases():
    assert auc([0.9, 0.8, 0.2, 0.1], [1, 1, 0, 0]) == 1.0
    assert auc([0.1, 0.2, 0.8, 0.9], [1, 1, 0, 0]) == 0.0
    # 2 clicked × 2 unclicked = 4 pairs: (0.9>0.2), (0.9>0.6), (0.4>0.2), (0.4<0.6) → 3/4.
    assert auc([0.9, 0.2, 0.6, 0.4], [1, 0, 0, 1]) == 0.75
    assert auc([0.5, 0.5, 0.5], [1, 0, 0]) == 0.5
    assert auc([1.0, 1.0, 0.0], [True, False, False]) == 0.75


def test_auc_equals_pairwise_count_with_many_ties():
    rng = np.random.default_rng(3)
    scores = rng.integers(0, 6, size=300).astype(float)  # six distinct values: many ties
    labels = rng.random(300) < 0.3
    assert auc(scores, labels) == pytest.approx(
        pairwise_auc(scores.tolist(), labels.tolist()), abs=1e-12
    )


def test_auc_is_undefined_without_both_classes():
    with pytest.raises(MetricError, match="clicked and unclicked"):
        auc([0.1, 0.2], [0, 0])
    with pytest.raises(MetricError, match="0/1"):
        auc([0.1, 0.2], [0, 2])
    with pytest.raises(MetricError, match="NaN"):
        auc([0.1, float("nan")], [0, 1])


def test_log_loss_hand_computed():
    assert log_loss([0.5, 0.5], [1, 0]) == pytest.approx(math.log(2))
    assert log_loss([0.9, 0.2], [1, 0]) == pytest.approx(-(math.log(0.9) + math.log(0.8)) / 2)
    assert log_loss([1.0, 0.0], [0, 1]) == pytest.approx(-math.log(1e-15), rel=1e-4)  # clipped
    with pytest.raises(MetricError, match=r"\[0, 1\]"):
        log_loss([1.5], [1])


def test_ndcg_hand_computed_cases():
    # One click ranked 2nd of 3: DCG = 1/log2(3), ideal 1.
    assert ndcg_at_k([3, 2, 1], [0, 1, 0], [7, 7, 7]) == pytest.approx(1 / math.log2(3))
    # Two clicks at ranks 1 and 3: (1 + 1/2) / (1 + 1/log2 3).
    expected = (1 + 0.5) / (1 + 1 / math.log2(3))
    assert ndcg_at_k([3, 2, 1], [1, 0, 1], [1, 1, 1]) == pytest.approx(expected)
    # A click below the cut-off counts nothing.
    assert ndcg_at_k([3, 2, 1], [0, 0, 1], [1, 1, 1], k=2) == 0.0
    # Graded gains are linear.
    graded = dcg([0.2, 0.9], 10) / dcg([0.9, 0.2], 10)
    assert ndcg_at_k([2, 1], [0.2, 0.9], [1, 1]) == pytest.approx(graded)


def test_ndcg_and_mrr_average_over_impressions_with_a_click():
    scores = [3, 2, 1, 3, 2, 1, 5, 4]
    clicks = [1, 0, 0, 0, 1, 0, 0, 0]  # impression "b" clicked at rank 2; "c" never clicked
    groups = ["a", "a", "a", "b", "b", "b", "c", "c"]
    assert ndcg_at_k(scores, clicks, groups) == pytest.approx((1 + 1 / math.log2(3)) / 2)
    assert mrr(scores, clicks, groups) == pytest.approx((1 + 0.5) / 2)
    per_group = ndcg_per_group(scores, clicks, groups)
    assert np.isnan(per_group[2]) and per_group[0] == 1.0


def test_rows_of_an_impression_need_not_be_adjacent():
    rng = np.random.default_rng(0)
    scores, clicks = rng.random(40), (rng.random(40) < 0.3).astype(int)
    groups = np.repeat(np.arange(8), 5)
    shuffled = rng.permutation(40)
    assert ndcg_at_k(scores[shuffled], clicks[shuffled], groups[shuffled], k=3) == pytest.approx(
        ndcg_at_k(scores, clicks, groups, k=3)
    )
    assert mrr(scores[shuffled], clicks[shuffled], groups[shuffled]) == pytest.approx(
        mrr(scores, clicks, groups)
    )


@pytest.mark.parametrize("k", [1, 2, 3, 10])
def test_tied_scores_give_the_mean_over_every_tie_order(k):
    rng = np.random.default_rng(k)
    for _ in range(25):
        size = int(rng.integers(2, 7))
        scores = rng.integers(0, 3, size=size).astype(float).tolist()  # heavy ties
        gains = rng.integers(0, 2, size=size)
        if gains.sum() == 0:
            gains[0] = 1
        got = ndcg_at_k(scores, gains, [0] * size, k=k)
        assert got == pytest.approx(brute_ndcg_one(scores, gains.tolist(), k), abs=1e-12)
        got_rr = mrr(scores, gains, [0] * size)
        assert got_rr == pytest.approx(brute_rr_one(scores, gains.tolist()), abs=1e-12)


def test_constant_score_measures_a_random_order():
    # One click among 4 rows, all tied: expected 1/rank = (1 + 1/2 + 1/3 + 1/4) / 4.
    assert mrr([0, 0, 0, 0], [0, 0, 1, 0], [1, 1, 1, 1]) == pytest.approx(
        (1 + 1 / 2 + 1 / 3 + 1 / 4) / 4
    )
    values = reciprocal_rank_per_group([0.0, 0.0], [1, 1], ["g", "g"])
    assert values.tolist() == [1.0]


def test_ranking_report_keys_and_undefined_metrics():
    report = ranking_report(
        [0.9, 0.1, 0.5, 0.7],
        [1, 0, 0, 1],
        ["a", "a", "b", "b"],
        k=2,
        relevance=[0.8, 0.1, 0.2, 0.6],
    )
    assert report["rows"] == 4 and report["impressions"] == 2 and report["clicks"] == 2
    assert report["impressions_with_clicks"] == 2
    assert report["auc"] == 1.0 and report["ndcg@2"] == 1.0 and report["mrr"] == 1.0
    assert report["ndcg@2_relevance"] == 1.0
    empty = ranking_report([0.3, 0.2], [0, 0], [1, 1])
    assert empty["auc"] is None and empty["ndcg@10"] is None and empty["mrr"] is None


def test_oracle_metrics_scores_p_click_and_relevance():
    p = np.array([0.5, 0.1, 0.3, 0.05])
    rel = np.array([0.5, 0.2, 0.3, 0.4])
    clicked = np.array([1, 0, 0, 1])
    figures = oracle_metrics(p, rel, clicked, [0, 0, 1, 1])
    assert figures["p_click"]["auc"] == pytest.approx(pairwise_auc(p, clicked))
    assert figures["p_click"]["log_loss"] == pytest.approx(log_loss(p, clicked))
    assert figures["relevance"]["ndcg@10_relevance"] == 1.0
    assert figures["relevance"]["mrr"] == pytest.approx(
        1.0
    )  # relevance puts the click first in both


def test_mismatched_lengths_are_refused():
    with pytest.raises(MetricError, match="rows"):
        ndcg_at_k([1, 2, 3], [0, 1], [0, 0, 0])
    with pytest.raises(MetricError, match="k"):
        ndcg_at_k([1, 2], [0, 1], [0, 0], k=0)
