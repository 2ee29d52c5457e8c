"""``oracle.json``: what the true click model scores on the generated logs, and baselines.

Everything here is computed from ``truth.parquet`` alone (`oracle_report(table)`), with
the metric definitions of `embedrec.core.ranking_metrics`, so a later evaluation can recompute
or extend it. Scorers, each judged by `ranking_report` on the rows of a part:

- ``p_click`` — the true P(click) of the row at its logged position. The oracle of any
  model that sees the logged position: the AUC, log loss, NDCG@10 and MRR to reach.
- ``relevance`` — the true position-free P(click | examined). The oracle of a ranking
  (``ndcg@10_relevance`` = 1 by construction). On logged clicks it scores lower than
  ``p_click`` and even than the logged order, because clicks favour the top positions.
- baselines, on the validation part, fitted on the train part only:
  ``doc_popularity`` (train clicks of the doc), ``query_doc_ctr`` (train CTR of the
  (query, doc) pair, smoothed: (clicks + ctr) / (shown + 1) with ctr the global train CTR,
  which unseen pairs get), ``logged_order`` (−position: the production ranker's order) and
  ``random`` (a constant: the expected figures of a random order, via the tie rule).

Parts: ``all`` rows, and ``validation`` = the impressions of split ``validation`` (the
time-last share, see `embedrec.pipelines.synthetic.clicks.truth`). ``criteo`` repeats AUC and log
loss of ``p_click`` on the rows written to ``criteo.tsv``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from embedrec.core.ranking_metrics import MetricError, auc, log_loss, oracle_metrics, ranking_report

ORACLE_FILE = "oracle.json"

DEFINITIONS = {
    "rows": "one row per (impression, shown result)",
    "auc": "ROC AUC of the score against clicked over all rows of the part; ties count 1/2",
    "log_loss": "mean binary cross-entropy (natural log) of p_click against clicked",
    "ndcg@k": "per impression with >= 1 click: DCG@k of the results ranked by score "
    "(gain = clicked, discount 1/log2(rank + 1)) over the DCG@k of the clicks ranked first; "
    "mean over those impressions",
    "ndcg@k_relevance": "the same with gain = true relevance, over all impressions",
    "mrr": "per impression with >= 1 click: 1/rank of the first clicked result ranked by "
    "score; mean over those impressions",
    "ties": "tied scores count in every order equally (expected NDCG and reciprocal rank)",
    "p_click": "oracle score: true P(click) at the logged position (examination * relevance)",
    "relevance": "oracle score: true P(click | examined), independent of the position",
    "validation": "impressions of split 'validation': the time-last validation_fraction",
    "doc_popularity": "score = clicks of the doc in the train part",
    "query_doc_ctr": "score = (train clicks of (query, doc) + global train CTR) / "
    "(train impressions of (query, doc) + 1)",
    "logged_order": "score = -position (the order the production ranker showed)",
    "random": "a constant score: the expected figures of a random order",
}


def oracle_report(
    truth: pa.Table, *, k: int = 10, validation_fraction: float | None = None
) -> dict[str, Any]:
    """The ``oracle.json`` document for a truth table (`CLICK_TRUTH_SCHEMA`)."""
    group = truth.column("jsonl_line").to_numpy()
    clicked = truth.column("clicked").to_numpy(zero_copy_only=False)
    p_click = truth.column("p_click").to_numpy()
    relevance = truth.column("relevance").to_numpy()
    position = truth.column("position").to_numpy()
    validation = pc.equal(truth.column("split"), "validation").to_numpy(zero_copy_only=False)
    criteo = ~pc.is_null(truth.column("criteo_line")).to_numpy(zero_copy_only=False)
    times = truth.column("time")

    def oracle_on(rows: np.ndarray) -> dict[str, Any]:
        return oracle_metrics(p_click[rows], relevance[rows], clicked[rows], group[rows], k=k)

    everything = np.ones(len(group), dtype=bool)
    report: dict[str, Any] = {
        "k": k,
        "split": _split_summary(group, validation, times, validation_fraction),
        "oracle": {"all": oracle_on(everything), "validation": oracle_on(validation)},
        "criteo": {
            "all": _probability_figures(p_click[criteo], clicked[criteo]),
            "validation": _probability_figures(
                p_click[criteo & validation], clicked[criteo & validation]
            ),
        },
    }
    baselines = baseline_scores(truth, ~validation)
    report["baselines"] = {
        "validation": {
            name: ranking_report(
                scores[validation],
                clicked[validation],
                group[validation],
                k=k,
                relevance=relevance[validation],
            )
            for name, scores in baselines.items()
        }
    }
    report["baselines"]["validation"]["logged_order"] = ranking_report(
        -position[validation],
        clicked[validation],
        group[validation],
        k=k,
        relevance=relevance[validation],
    )
    report["baselines"]["validation"]["random"] = ranking_report(
        np.zeros(int(validation.sum())),
        clicked[validation],
        group[validation],
        k=k,
        relevance=relevance[validation],
    )
    report["summary"] = summary(report)
    report["definitions"] = {key.replace("@k", f"@{k}"): text for key, text in DEFINITIONS.items()}
    return report


def baseline_scores(truth: pa.Table, train: np.ndarray) -> dict[str, np.ndarray]:
    """Scores (n,) of every truth row under the two count baselines, fitted on ``train`` rows.

    ``doc_popularity``: clicks of the doc among train rows. ``query_doc_ctr``: smoothed
    train CTR of the (query, doc) pair, (clicks + ctr) / (shown + 1), ctr = train CTR.
    """
    clicked = truth.column("clicked").to_numpy(zero_copy_only=False).astype(np.float64)
    doc = _codes(truth.column("doc"))
    query = _codes(truth.column("query"))
    pair = query.astype(np.int64) * (int(doc.max(initial=0)) + 1) + doc
    pair_codes, pair_index = np.unique(pair, return_inverse=True)
    train_clicks = np.where(train, clicked, 0.0)
    doc_clicks = np.bincount(doc, weights=train_clicks)
    pair_clicks = np.bincount(pair_index, weights=train_clicks, minlength=len(pair_codes))
    pair_shown = np.bincount(
        pair_index, weights=train.astype(np.float64), minlength=len(pair_codes)
    )
    ctr = float(train_clicks.sum() / max(train.sum(), 1))
    return {
        "doc_popularity": doc_clicks[doc],
        "query_doc_ctr": ((pair_clicks + ctr) / (pair_shown + 1.0))[pair_index],
    }


def summary(report: dict[str, Any]) -> dict[str, Any]:
    """The headline figures: the ``p_click`` oracle on validation and on all rows."""
    k = report["k"]
    validation = report["oracle"]["validation"]["p_click"]
    everything = report["oracle"]["all"]["p_click"]
    return {
        "auc": validation["auc"],
        "log_loss": validation["log_loss"],
        f"ndcg@{k}": validation[f"ndcg@{k}"],
        "mrr": validation["mrr"],
        "auc_all": everything["auc"],
        f"ndcg@{k}_all": everything[f"ndcg@{k}"],
        "auc_relevance": report["oracle"]["validation"]["relevance"]["auc"],
    }


def _split_summary(
    group: np.ndarray, validation: np.ndarray, times: pa.ChunkedArray, fraction: float | None
) -> dict[str, Any]:
    validation_groups = np.unique(group[validation])
    start = pc.min(pc.filter(times, pa.array(validation))).as_py() if validation.any() else None
    return {
        "rule": "impressions in time order; the last round(validation_fraction * n) (at least 1, "
        "at most n - 1) are validation; times are unique, so that is every impression "
        "with time >= validation_start",
        "validation_fraction": fraction,
        "train_impressions": len(np.unique(group)) - len(validation_groups),
        "validation_impressions": len(validation_groups),
        "validation_start": start.strftime("%Y-%m-%dT%H:%M:%SZ") if start is not None else None,
    }


def _probability_figures(p: np.ndarray, clicked: np.ndarray) -> dict[str, Any]:
    figures: dict[str, Any] = {"rows": len(p), "clicks": int(clicked.sum())}
    for name, metric in (("auc", auc), ("log_loss", log_loss)):
        try:
            figures[name] = metric(p, clicked)
        except MetricError:  # no rows, or only one class: undefined
            figures[name] = None
    return figures


def _codes(column: pa.ChunkedArray) -> np.ndarray:
    """Integer codes of a string column (equal strings, equal codes)."""
    encoded = pc.dictionary_encode(column.combine_chunks())
    return np.asarray(encoded.indices.to_numpy(zero_copy_only=False), dtype=np.int64)
