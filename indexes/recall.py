"""Recall@k of an index against exact search, ties allowed, and tuning a search parameter.

Queries are a seeded sample of vocabulary words. The truth is the exact top-k of each
word's full-precision vector over the whole table (the word itself excluded), computed
block by block from the memory map with FAISS's ``knn_ground_truth``. The index is asked
the way ``WordIndex.neighbors(word)`` asks it: with the word's vector as the index stores
it. A returned neighbour counts as found when it is in the true top-k or ties with the
k-th true score (FAISS ``contrib.evaluation`` style), so duplicate vectors don't cost recall.

>>> truth = exact_ground_truth(vectors, sample_ids(len(vectors), 1000, seed=0),
...                            metric="cosine", k=10, chunk_rows=65536)   # doctest: +SKIP
>>> recall_at_k(truth, found_ids, vectors, metric="cosine")          # doctest: +SKIP
0.962
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from embedrec.indexes.faiss_support import faiss_metric, higher_is_better
from embedrec.indexes.vector_chunks import iter_prepared_chunks, take_rows

log = logging.getLogger(__name__)

# Scores closer than this (relative) count as a tie with the k-th true neighbour.
TIE_TOLERANCE = 1e-5
# Tuning stops when doubling the search parameter gains less recall than this.
PLATEAU_GAIN = 0.001


@dataclass(frozen=True)
class GroundTruth:
    """Exact neighbours of sampled words. ``ids``/``scores``: (Q, k), self excluded."""

    query_ids: np.ndarray
    queries: np.ndarray
    ids: np.ndarray
    scores: np.ndarray

    @property
    def k(self) -> int:
        return int(self.ids.shape[1])


def sample_ids(vocab_size: int, n: int, *, seed: int) -> np.ndarray:
    """``min(n, vocab_size)`` distinct row ids drawn with ``seed``, sorted."""
    rng = np.random.default_rng(seed)
    return np.sort(rng.choice(vocab_size, size=min(n, vocab_size), replace=False)).astype(np.int64)


def exact_ground_truth(
    vectors: np.ndarray,
    query_ids: np.ndarray,
    *,
    metric: str,
    k: int,
    chunk_rows: int,
    source: str | Path = "vectors",
) -> GroundTruth:
    """Exact top-``k`` (self excluded) of the rows ``query_ids`` over all of ``vectors``."""
    from faiss.contrib.exhaustive_search import knn_ground_truth

    queries = take_rows(vectors, query_ids, metric, source)
    blocks = (
        block
        for _, block in iter_prepared_chunks(vectors, metric=metric, rows=chunk_rows, source=source)
    )
    scores, ids = knn_ground_truth(queries, blocks, k + 1, metric_type=faiss_metric(metric))
    scores, ids = drop_self(scores, ids, query_ids)
    return GroundTruth(query_ids=query_ids, queries=queries, ids=ids, scores=scores)


def drop_self(
    scores: np.ndarray, ids: np.ndarray, self_ids: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Remove each row's own id from (n, k+1) results, or its last entry when absent.

    Returns (n, k) arrays. Works for exact and approximate results alike: an approximate
    index may not return the query word itself first, or at all.
    """
    n, width = ids.shape
    is_self = ids == np.asarray(self_ids)[:, None]
    drop = is_self & (np.cumsum(is_self, axis=1) == 1)
    drop[~drop.any(axis=1), width - 1] = True
    keep = ~drop
    return scores[keep].reshape(n, width - 1), ids[keep].reshape(n, width - 1)


def recall_at_k(
    truth: GroundTruth,
    found_ids: np.ndarray,
    vectors: np.ndarray,
    *,
    metric: str,
    source: str | Path = "vectors",
) -> float:
    """Share of the true top-k found in ``found_ids`` (Q, k), counting ties as found."""
    k = truth.k
    found_ids = np.asarray(found_ids)[:, :k]
    in_truth = np.array([np.isin(found_ids[i], truth.ids[i]) for i in range(len(found_ids))])
    hits = in_truth & (found_ids >= 0)
    # Neighbours outside the true list may tie with its k-th score; score them exactly.
    rows, cols = np.nonzero(~in_truth & (found_ids >= 0))
    if len(rows):
        candidates = take_rows(vectors, found_ids[rows, cols], metric, source)
        queries = truth.queries[rows]
        if higher_is_better(metric):
            exact = np.einsum("ij,ij->i", queries, candidates)
            kth = truth.scores[rows, -1]
            tolerance = TIE_TOLERANCE * np.maximum(1.0, np.abs(kth))
            hits[rows, cols] = exact >= kth - tolerance
        else:
            exact = ((queries - candidates) ** 2).sum(axis=1)
            kth = truth.scores[rows, -1]
            tolerance = TIE_TOLERANCE * np.maximum(1.0, np.abs(kth))
            hits[rows, cols] = exact <= kth + tolerance
    valid_truth = (truth.ids >= 0).sum()
    if valid_truth == 0:
        return 1.0
    return float(min(hits.sum(), valid_truth) / valid_truth)


@dataclass(frozen=True)
class TuningResult:
    """The chosen value of a search parameter and what each tried value scored."""

    parameter: str | None
    value: int | None
    recall: float
    reached: bool
    trace: list[dict[str, float]]


def tune_parameter(
    parameter: str | None,
    values: list[int],
    *,
    target: float,
    measure: Callable[[int | None], float],
) -> TuningResult:
    """Try ``values`` cheapest first; stop at the first whose recall reaches ``target``.

    ``measure(value)`` sets the parameter, searches and returns recall. With no parameter
    (``parameter`` None) the index is measured once as it is. When no value reaches the
    target, tuning ends at the largest value or where doubling stops helping (recall gain
    below `PLATEAU_GAIN`), and ``reached`` is False (the caller warns).
    """
    if parameter is None:
        recall = measure(None)
        return TuningResult(None, None, recall, recall >= target, [{"recall": recall}])
    trace: list[dict[str, float]] = []
    recall = 0.0
    for value in values:
        previous = recall
        recall = measure(value)
        trace.append({parameter: value, "recall": recall})
        log.info("%s=%d: recall@k %.4f (target %.3f)", parameter, value, recall, target)
        if recall >= target:
            return TuningResult(parameter, value, recall, True, trace)
        if len(trace) > 1 and recall - previous < PLATEAU_GAIN:
            # Doubling bought nothing: the codes, not the search, limit recall.
            log.info("recall stopped improving at %s=%d", parameter, value)
            return TuningResult(parameter, value, recall, False, trace)
    return TuningResult(parameter, values[-1], recall, False, trace)
