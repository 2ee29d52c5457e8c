"""Evaluate a ranker on a click dataset: AUC, log loss, NDCG@k and MRR, next to baselines.

The dataset may be the one the model was trained on or one built later from newer logs:
its ids are mapped through the model's own vocabularies (`embedrec.engine.ranker.batches`), values
the model never saw going to ``<unk>``; ``unknown_share`` says how many did.

Two scorers of the model, both judged by `embedrec.core.ranking_metrics.ranking_report` with
the rows of an impression as one ranked list:

- ``with_position``: P(click) at the logged position = P(examined | position) ×
  P(click | examined). Comparable with the generator's ``p_click`` oracle (the AUC and log
  loss to reach).
- ``position_free``: P(click | examined), what serving ranks by. Comparable with the
  ``relevance`` oracle and with the baselines, which ignore the position too.

Baselines, fitted on the dataset's train split only (as `embedrec.pipelines.synthetic.clicks.oracle`
defines them): ``doc_popularity`` (train clicks of the doc), ``query_doc_ctr`` (smoothed
train CTR of the (query, doc) pair) and ``logged_order`` (−position).

>>> report = evaluate_ranker("models/ranker", "data/clicks")          # doctest: +SKIP
>>> baselines = report["baselines"]                                  # doctest: +SKIP
>>> report["with_position"]["auc"], baselines["doc_popularity"]["ndcg@10"]  # doctest: +SKIP
(0.8251, 0.6503)
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from embedrec.core.errors import ConfigError
from embedrec.core.ranking_metrics import MetricError, log_loss, ranking_report
from embedrec.engine.ranker.batches import Examples, load_examples
from embedrec.engine.ranker.inference import Ranker
from embedrec.pipelines.clicks.dataset import ClickDataset, open_click_dataset

log = logging.getLogger(__name__)

EVAL_SPLITS = ("validation", "train", "all")


def evaluate_ranker(
    model_dir: str | Path,
    data_dir: str | Path,
    *,
    split: str = "validation",
    k: int = 10,
    baselines: bool = True,
) -> dict[str, Any]:
    """Every figure of the ranker at ``model_dir`` on ``split`` of the dataset ``data_dir``.

    ``split``: ``validation``, ``train`` or ``all``. Returns a JSON-ready dict (see the
    module docstring); a metric undefined on the rows (no click at all) is None.
    """
    if split not in EVAL_SPLITS:
        raise ConfigError("split", split, "one of " + ", ".join(EVAL_SPLITS))
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise ConfigError("k", k, "an integer >= 1")
    ranker = Ranker.load(model_dir)
    dataset = open_click_dataset(data_dir)
    chosen = None if split == "all" else split
    examples = load_examples(dataset, ranker.spec, ranker.vocabs, chosen, with_impressions=True)
    if len(examples) == 0:
        raise ConfigError("split", split, f"a split with rows ({data_dir} has none there)")
    relevance, log_examined = ranker.score(examples)
    position_free = 1.0 / (1.0 + np.exp(-relevance))
    with_position = np.exp(log_examined) * position_free
    groups = examples.impressions
    labels = examples.labels.astype(np.int8)
    report: dict[str, Any] = {
        "model": str(model_dir),
        "data": str(data_dir),
        "split": split,
        "k": k,
        "position_term": ranker.spec.position,
        "remapped": examples.remapped,
        "unknown_share": {g: round(v, 6) for g, v in examples.unknown_share.items()},
        "with_position": _report(with_position, labels, groups, k, probabilities=True),
        "position_free": _report(position_free, labels, groups, k, probabilities=False),
    }
    if baselines:
        report["baselines"] = baseline_reports(dataset, chosen, examples, k)
    return report


def _report(
    scores: np.ndarray, labels: np.ndarray, groups: Any, k: int, *, probabilities: bool
) -> dict[str, Any]:
    figures: dict[str, Any] = dict(ranking_report(scores, labels, groups, k=k))
    if probabilities:
        try:
            figures["log_loss"] = log_loss(scores, labels)
        except MetricError:
            figures["log_loss"] = None
    return figures


def baseline_scores(dataset: ClickDataset, split: str | None) -> dict[str, np.ndarray]:
    """Scores of the baselines on the rows of ``split``, fitted on the train split.

    ``doc_popularity``: train clicks of the doc. ``query_doc_ctr``: (train clicks of the
    (query, doc) pair + ctr) / (train impressions of the pair + 1), ctr = the train CTR.
    ``logged_order``: −position (rows without a position score lowest). Scorers whose
    columns the dataset lacks (Criteo has no query or doc) are left out.
    """
    columns = ["query", "doc", "label", "split", "position"]
    table = dataset.read(columns=columns)
    chosen = (
        np.ones(table.num_rows, dtype=bool)
        if split is None
        else pc.equal(table.column("split"), split).to_numpy(zero_copy_only=False)
    )
    train = pc.equal(table.column("split"), "train").to_numpy(zero_copy_only=False)
    clicked = table.column("label").to_numpy().astype(np.float64)
    out: dict[str, np.ndarray] = {}
    position = table.column("position")
    if pc.sum(pc.is_valid(position)).as_py():
        out["logged_order"] = -pc.fill_null(position, 10**6).to_numpy().astype(np.float64)
    has_doc = len(dataset.vocabs["doc"]) > 1
    if has_doc:
        doc = _codes(table.column("doc"))
        train_clicks = np.where(train, clicked, 0.0)
        out["doc_popularity"] = np.bincount(doc, weights=train_clicks)[doc]
        if len(dataset.vocabs["query_token"]) > 1:
            query = _codes(table.column("query"))
            pair = query * (int(doc.max(initial=0)) + 1) + doc
            _, pair_index = np.unique(pair, return_inverse=True)
            pair_clicks = np.bincount(pair_index, weights=train_clicks)
            pair_shown = np.bincount(pair_index, weights=train.astype(np.float64))
            ctr = float(train_clicks.sum() / max(int(train.sum()), 1))
            out["query_doc_ctr"] = ((pair_clicks + ctr) / (pair_shown + 1.0))[pair_index]
    return {name: scores[chosen] for name, scores in out.items()}


def baseline_reports(
    dataset: ClickDataset, split: str | None, examples: Examples, k: int
) -> dict[str, Any]:
    """`ranking_report` of each baseline on the rows ``examples`` holds (same order)."""
    reports: dict[str, Any] = {}
    groups = examples.impressions if examples.impressions is not None else np.arange(len(examples))
    for name, scores in baseline_scores(dataset, split).items():
        if len(scores) != len(examples):  # pragma: no cover - both read the same rows
            raise ConfigError("split", split, "rows that read back identically")
        reports[name] = ranking_report(scores, examples.labels.astype(np.int8), groups, k=k)
    return reports


def _codes(column: pa.ChunkedArray) -> np.ndarray:
    """Integer codes of a string column (equal strings, equal codes; null its own code)."""
    encoded = pc.dictionary_encode(column.combine_chunks(), null_encoding="encode")
    return np.asarray(encoded.indices.to_numpy(zero_copy_only=False), dtype=np.int64)
