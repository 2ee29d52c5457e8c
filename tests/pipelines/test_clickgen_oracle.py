"""oracle.json: its figures equal independent computations from truth.parquet."""

from __future__ import annotations

import json
import math
from collections import defaultdict

import numpy as np
import pyarrow.parquet as pq
import pytest
from scipy.stats import mannwhitneyu

from embedrec.pipelines.synthetic.clicks.config import ClickLogConfig
from embedrec.pipelines.synthetic.clicks.generate import generate_click_logs
from embedrec.pipelines.synthetic.clicks.oracle import baseline_scores, oracle_report

CONFIG = ClickLogConfig(queries=200, docs=800, impressions=2000, users=300, seed=9)


@pytest.fixture(scope="module")
def logs(tmp_path_factory):
    out = tmp_path_factory.mktemp("clickgen-oracle") / "logs"
    generate_click_logs(CONFIG, out)
    oracle = json.loads((out / "oracle.json").read_text())
    return out, oracle, pq.read_table(out / "truth.parquet")


def mann_whitney_auc(scores, labels):
    pos, neg = scores[labels], scores[~labels]
    return mannwhitneyu(pos, neg).statistic / (len(pos) * len(neg))


def plain_ndcg_and_mrr(rows, score_key, k=10):
    """Per impression, sort by score (no ties in continuous scores) and read off the clicks."""
    impressions = defaultdict(list)
    for row in rows:
        impressions[row["impression_id"]].append(row)
    ndcgs, rrs = [], []
    for results in impressions.values():
        clicks = sum(r["clicked"] for r in results)
        if clicks == 0:
            continue
        ranked = sorted(results, key=lambda r: -r[score_key])
        dcg = sum(1 / math.log2(i + 2) for i, r in enumerate(ranked[:k]) if r["clicked"])
        ideal = sum(1 / math.log2(i + 2) for i in range(min(clicks, k)))
        ndcgs.append(dcg / ideal)
        rrs.append(next(1 / (i + 1) for i, r in enumerate(ranked) if r["clicked"]))
    return float(np.mean(ndcgs)), float(np.mean(rrs))


def test_oracle_auc_equals_mann_whitney(logs):
    _, oracle, truth = logs
    p = truth.column("p_click").to_numpy()
    clicked = truth.column("clicked").to_numpy(zero_copy_only=False)
    validation = np.array([s == "validation" for s in truth.column("split").to_pylist()])
    assert oracle["oracle"]["all"]["p_click"]["auc"] == pytest.approx(
        mann_whitney_auc(p, clicked), abs=1e-12
    )
    assert oracle["oracle"]["validation"]["p_click"]["auc"] == pytest.approx(
        mann_whitney_auc(p[validation], clicked[validation]), abs=1e-12
    )
    relevance = truth.column("relevance").to_numpy()
    assert oracle["oracle"]["validation"]["relevance"]["auc"] == pytest.approx(
        mann_whitney_auc(relevance[validation], clicked[validation]), abs=1e-12
    )
    assert oracle["summary"]["auc"] == oracle["oracle"]["validation"]["p_click"]["auc"]


def test_oracle_ndcg_and_mrr_equal_a_plain_loop(logs):
    _, oracle, truth = logs
    rows = [r for r in truth.to_pylist() if r["split"] == "validation"]
    for scorer in ("p_click", "relevance"):
        ndcg, mrr = plain_ndcg_and_mrr(rows, scorer)
        assert oracle["oracle"]["validation"][scorer]["ndcg@10"] == pytest.approx(ndcg, abs=1e-12)
        assert oracle["oracle"]["validation"][scorer]["mrr"] == pytest.approx(mrr, abs=1e-12)
    assert oracle["oracle"]["validation"]["relevance"]["ndcg@10_relevance"] == pytest.approx(1.0)


def test_oracle_log_loss_equals_a_plain_mean(logs):
    _, oracle, truth = logs
    rows = truth.to_pylist()
    plain = -sum(math.log(r["p_click"] if r["clicked"] else 1 - r["p_click"]) for r in rows) / len(
        rows
    )
    assert oracle["oracle"]["all"]["p_click"]["log_loss"] == pytest.approx(plain, rel=1e-9)


def test_oracle_is_learnable_but_not_trivial(logs):
    _, oracle, _ = logs
    summary = oracle["summary"]
    assert 0.7 < summary["auc"] < 0.95 and 0.7 < summary["auc_all"] < 0.95
    baselines = oracle["baselines"]["validation"]
    assert baselines["random"]["auc"] == 0.5
    for name, figures in baselines.items():
        assert figures["auc"] < summary["auc"], name
        assert figures["ndcg@10_relevance"] < 1.0, name
    # A random order is the floor of every ranking metric.
    for name in ("logged_order", "query_doc_ctr"):
        assert baselines["random"]["ndcg@10"] < baselines[name]["ndcg@10"], name
        assert baselines["random"]["mrr"] < baselines[name]["mrr"], name
    assert baselines["random"]["ndcg@10"] < summary["ndcg@10"] - 0.1


def test_split_and_criteo_figures(logs):
    _, oracle, truth = logs
    split = oracle["split"]
    assert split["validation_impressions"] == 200 and split["train_impressions"] == 1800
    times = truth.column("time").to_pylist()
    splits = truth.column("split").to_pylist()
    start = min(t for t, s in zip(times, splits, strict=True) if s == "validation")
    assert split["validation_start"] == start.strftime("%Y-%m-%dT%H:%M:%SZ")
    criteo = oracle["criteo"]["all"]
    assert criteo["rows"] == CONFIG.impressions
    marked = [r for r in truth.to_pylist() if r["criteo_line"] is not None]
    p = np.array([r["p_click"] for r in marked])
    y = np.array([r["clicked"] for r in marked])
    assert criteo["clicks"] == int(y.sum())
    assert criteo["auc"] == pytest.approx(mann_whitney_auc(p, y), abs=1e-12)


def test_baselines_use_only_the_train_part(logs):
    _, _, truth = logs
    train = np.array([s == "train" for s in truth.column("split").to_pylist()])
    scores = baseline_scores(truth, train)
    rows = truth.to_pylist()
    clicks_by_doc: dict[str, int] = defaultdict(int)
    for row, is_train in zip(rows, train, strict=True):
        if is_train and row["clicked"]:
            clicks_by_doc[row["doc"]] += 1
    assert scores["doc_popularity"].tolist() == [clicks_by_doc[r["doc"]] for r in rows]
    # Changing validation clicks changes no baseline score.
    flipped = truth.set_column(
        truth.schema.get_field_index("clicked"),
        "clicked",
        [
            [
                (not c) if not t else c
                for c, t in zip(truth.column("clicked").to_pylist(), train, strict=True)
            ]
        ],
    )
    again = baseline_scores(flipped, train)
    for name in scores:
        assert np.array_equal(scores[name], again[name]), name


def test_report_recomputes_from_the_truth_file(logs):
    _, oracle, truth = logs
    again = json.loads(
        json.dumps(oracle_report(truth, validation_fraction=CONFIG.validation_fraction))
    )
    assert again == oracle
