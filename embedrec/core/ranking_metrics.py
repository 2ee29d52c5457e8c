"""Ranking metrics over logged impressions: AUC, log loss, NDCG@k and MRR (numpy only).

The definitions the whole project uses (the generator's ``oracle.json``, the ranker
evaluation and the benchmarks all call these functions):

- **Rows** are (impression, shown result) pairs; ``groups`` names each row's impression.
- **AUC**: ROC AUC over all rows, clicked vs not clicked: the probability that a random
  clicked row scores above a random unclicked row, ties counting one half (Mann–Whitney U
  divided by n_clicked × n_unclicked). Undefined without both kinds of rows.
- **Log loss**: mean of −[y·ln p + (1−y)·ln(1−p)] over rows, p clipped to [1e-15, 1 − 1e-15].
- **NDCG@k**: within each impression rank the results by score, highest first;
  DCG@k = Σ gain / log2(rank + 1) over ranks 1..k; NDCG@k = DCG@k / DCG@k of the results
  sorted by gain. Gains are used as they are (linear): 0/1 clicks, or a graded relevance in
  [0, 1]. Impressions whose gains are all zero (no click) have no ideal DCG and are left
  out; the mean is over the rest.
- **MRR**: within each impression, 1 / rank of the first result with gain > 0 (clicked)
  in the score order; mean over impressions with at least one click.
- **Ties** in scores are broken by no particular order: NDCG and MRR take their expected
  value over all orders of tied results (McSherry & Najork 2008). A constant score thus
  measures a random ranking, and a baseline cannot profit from the logged order of rows.

>>> auc([0.9, 0.2, 0.6, 0.4], [1, 0, 0, 1])
0.75
>>> ndcg_at_k([3.0, 2.0, 1.0], [0, 1, 0], [7, 7, 7], k=10)  # the click is ranked 2nd
0.6309297535714575
>>> mrr([3.0, 2.0, 1.0], [0, 1, 0], [7, 7, 7])
0.5
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from embedrec.core.errors import EmbedrecError

LOG_LOSS_EPS = 1e-15


class MetricError(EmbedrecError, ValueError):
    """A metric is undefined for the given rows (no clicks, mismatched lengths, NaN scores)."""


def auc(scores: ArrayLike, labels: ArrayLike) -> float:
    """ROC AUC of ``scores`` (shape (n,)) against 0/1 ``labels`` (shape (n,)), ties = 1/2.

    >>> auc([1.0, 1.0, 0.0], [1, 0, 0])   # tie between the click and one non-click
    0.75
    """
    s = _scores(scores, "scores")
    y = _labels(labels, len(s))
    n_pos = int(y.sum())
    n_neg = len(y) - n_pos
    if n_pos == 0 or n_neg == 0:
        raise MetricError(f"AUC needs clicked and unclicked rows (got {n_pos} and {n_neg})")
    # Per distinct score: the positives there beat every negative with a lower score and
    # half of the negatives with the same score.
    _, inverse = np.unique(s, return_inverse=True)
    pos = np.bincount(inverse, weights=y.astype(np.float64))
    neg = np.bincount(inverse, weights=(~y).astype(np.float64))
    neg_below = np.cumsum(neg) - neg
    return float(np.sum(pos * (neg_below + 0.5 * neg)) / (n_pos * n_neg))


def log_loss(probabilities: ArrayLike, labels: ArrayLike) -> float:
    """Mean binary cross-entropy (natural log) of P(click) ``probabilities`` vs ``labels``.

    >>> round(log_loss([0.5, 0.5], [1, 0]), 6)
    0.693147
    """
    p = _scores(probabilities, "probabilities")
    y = _labels(labels, len(p))
    if len(p) == 0:
        raise MetricError("log loss needs at least one row")
    if np.any((p < 0) | (p > 1)):
        raise MetricError("log loss needs probabilities in [0, 1]")
    p = np.clip(p, LOG_LOSS_EPS, 1 - LOG_LOSS_EPS)
    return float(-np.mean(np.where(y, np.log(p), np.log1p(-p))))


def ndcg_at_k(scores: ArrayLike, gains: ArrayLike, groups: ArrayLike, k: int = 10) -> float:
    """Mean NDCG@k over the impressions (``groups``) with a non-zero gain.

    ``scores``, ``gains`` (0/1 clicks or graded relevance >= 0) and ``groups`` have shape
    (n,); rows of one impression need not be adjacent.
    """
    return _mean_defined(ndcg_per_group(scores, gains, groups, k=k), "NDCG", "a non-zero gain")


def mrr(scores: ArrayLike, labels: ArrayLike, groups: ArrayLike) -> float:
    """Mean reciprocal rank of the first clicked result, over impressions with a click."""
    return _mean_defined(reciprocal_rank_per_group(scores, labels, groups), "MRR", "a click")


def ndcg_per_group(
    scores: ArrayLike, gains: ArrayLike, groups: ArrayLike, k: int = 10
) -> np.ndarray:
    """NDCG@k of each impression, shape (n_groups,), NaN where all gains are zero.

    Impressions are ordered as ``np.unique(groups)`` orders them.
    """
    g = _scores(gains, "gains")
    return _ndcg(_rank_within_groups(scores, groups, len(g)), g, k)


def reciprocal_rank_per_group(
    scores: ArrayLike, labels: ArrayLike, groups: ArrayLike
) -> np.ndarray:
    """Expected 1/rank of the first clicked result per impression, NaN without a click.

    Impressions are ordered as ``np.unique(groups)`` orders them.
    """
    y = _labels(labels, None)
    return _reciprocal_rank(_rank_within_groups(scores, groups, len(y)), y)


def ranking_report(
    scores: ArrayLike,
    clicked: ArrayLike,
    groups: ArrayLike,
    *,
    k: int = 10,
    relevance: ArrayLike | None = None,
) -> dict[str, float | int | None]:
    """Every figure of one scorer on one set of rows, ranking each impression once.

    Returns ``rows``, ``impressions``, ``clicks``, ``impressions_with_clicks``, ``auc``,
    ``ndcg@k`` (graded by clicks), ``mrr`` and, when the true ``relevance`` (n,) is known,
    ``ndcg@k_relevance`` (graded by it). A metric that is undefined on these rows (say, no
    click at all) is None instead of an error.

    >>> ranking_report([0.9, 0.1, 0.5, 0.7], [1, 0, 0, 1], ["a", "a", "b", "b"], k=2)["mrr"]
    1.0
    """
    s = _scores(scores, "scores")
    y = _labels(clicked, len(s))
    ranked = _rank_within_groups(s, groups, len(s))
    clicks_per_group = np.bincount(ranked.codes, weights=y, minlength=ranked.n_groups)
    report: dict[str, float | int | None] = {
        "rows": len(s),
        "impressions": ranked.n_groups,
        "clicks": int(y.sum()),
        "impressions_with_clicks": int(np.count_nonzero(clicks_per_group)),
        "auc": _or_none(lambda: auc(s, y)),
        f"ndcg@{k}": _or_none(
            lambda: _mean_defined(_ndcg(ranked, y.astype(np.float64), k), "NDCG", "a click")
        ),
        "mrr": _or_none(lambda: _mean_defined(_reciprocal_rank(ranked, y), "MRR", "a click")),
    }
    if relevance is not None:
        rel = _scores(relevance, "relevance")
        if len(rel) != len(s):
            raise MetricError(f"relevance has {len(rel)} rows, expected {len(s)}")
        report[f"ndcg@{k}_relevance"] = _or_none(
            lambda: _mean_defined(_ndcg(ranked, rel, k), "NDCG", "a non-zero relevance")
        )
    return report


def oracle_metrics(
    p_click: ArrayLike,
    relevance: ArrayLike,
    clicked: ArrayLike,
    groups: ArrayLike,
    *,
    k: int = 10,
) -> dict[str, dict[str, float | int | None]]:
    """The figures of the two true scorers of a simulated log, for a learned model to reach.

    ``p_click`` (n,) is the true P(click) of each shown row at its logged position and
    ``relevance`` (n,) the position-free P(click | examined). Returns
    ``{"p_click": report, "relevance": report}`` with `ranking_report`'s keys; the
    ``p_click`` report adds ``log_loss``. ``p_click`` is the oracle of any model that sees
    the logged position (its AUC, NDCG@k and MRR on logged clicks are the ones to reach);
    ``relevance`` is the oracle of a position-free ranking (``ndcg@k_relevance`` = 1).
    """
    p = _scores(p_click, "p_click")
    y = _labels(clicked, len(p))
    by_p_click = ranking_report(p, y, groups, k=k, relevance=relevance)
    by_p_click["log_loss"] = _or_none(lambda: log_loss(p, y))
    return {
        "p_click": by_p_click,
        "relevance": ranking_report(relevance, y, groups, k=k, relevance=relevance),
    }


def _ndcg(ranked: _Ranked, gains: np.ndarray, k: int) -> np.ndarray:
    if k < 1:
        raise MetricError(f"k: got {k}, expected an integer >= 1")
    if len(gains) != len(ranked.order):
        raise MetricError(f"gains have {len(gains)} rows, expected {len(ranked.order)}")
    if np.any(gains < 0):
        raise MetricError("gains must be >= 0")
    discount = np.zeros(ranked.max_group_size + 1)
    top = min(k, ranked.max_group_size)
    discount[:top] = 1.0 / np.log2(np.arange(top) + 2.0)
    cumulative = np.concatenate([[0.0], np.cumsum(discount)])
    # Each row of a tie block gets the mean discount of the ranks the block spans.
    start, size = ranked.block_start[ranked.block], ranked.block_size[ranked.block]
    mean_discount = (cumulative[start + size] - cumulative[start]) / size
    dcg = np.bincount(
        ranked.group, weights=gains[ranked.order] * mean_discount, minlength=ranked.n_groups
    )
    if np.isin(gains, (0.0, 1.0)).all():
        # 0/1 gains: the ideal list puts the c clicked rows first.
        clicks = np.bincount(ranked.codes, weights=gains, minlength=ranked.n_groups).astype(
            np.int64
        )
        idcg = cumulative[clicks]
    else:
        ideal = _sort_within_groups(gains, ranked.codes)
        ideal_rank = np.arange(len(gains)) - ranked.group_start[ranked.codes[ideal]]
        idcg = np.bincount(
            ranked.codes[ideal],
            weights=gains[ideal] * discount[ideal_rank],
            minlength=ranked.n_groups,
        )
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(idcg > 0, dcg / idcg, np.nan)


def _reciprocal_rank(ranked: _Ranked, y: np.ndarray) -> np.ndarray:
    """Within the first tie block holding a click (start rank a, n rows, m clicked), the
    first click lands on rank a + 1 + X where P(X >= j) = C(n − j, m) / C(n, m)."""
    if len(y) != len(ranked.order):
        raise MetricError(f"labels have {len(y)} rows, expected {len(ranked.order)}")
    clicks_in_block = np.bincount(
        ranked.block, weights=y[ranked.order], minlength=len(ranked.block_size)
    )
    block_group = ranked.group[ranked.block_first_row]
    hit_blocks = np.flatnonzero(clicks_in_block > 0)
    # Blocks are numbered in rank order within each group: the first hit block per group.
    hit_groups, first = np.unique(block_group[hit_blocks], return_index=True)
    blocks = hit_blocks[first]
    a = ranked.block_start[blocks].astype(np.float64)
    n = ranked.block_size[blocks].astype(np.float64)
    m = clicks_in_block[blocks]
    expected = np.zeros(len(blocks))
    at_least = np.ones(len(blocks))  # P(X >= j)
    for j in range(int((n - m).max(initial=0)) + 1):
        next_at_least = at_least * np.clip(n - m - j, 0, None) / np.maximum(n - j, 1)
        expected += (at_least - next_at_least) / (a + 1 + j)
        at_least = next_at_least
    values = np.full(ranked.n_groups, np.nan)
    values[hit_groups] = expected
    return values


@dataclass(frozen=True)
class _Ranked:
    """Rows sorted by (group, score descending) and cut into tie blocks.

    ``order``: row indices in that sort; ``group`` / ``block``: the group code and tie-block
    number of each sorted row; ``block_start`` / ``block_size``: 0-based rank of a block's
    first row within its group and its length; ``codes``: group code per original row.
    """

    order: np.ndarray
    codes: np.ndarray
    group: np.ndarray
    block: np.ndarray
    block_start: np.ndarray
    block_size: np.ndarray
    block_first_row: np.ndarray
    group_start: np.ndarray
    n_groups: int
    max_group_size: int


def _rank_within_groups(scores: ArrayLike, groups: ArrayLike, n: int) -> _Ranked:
    s = _scores(scores, "scores")
    if len(s) != n:
        raise MetricError(f"scores have {len(s)} rows, expected {n}")
    group_values = np.asarray(groups).ravel()
    if len(group_values) != n:
        raise MetricError(f"groups have {len(group_values)} rows, expected {n}")
    _, codes = np.unique(group_values, return_inverse=True)
    codes = codes.ravel()
    sizes = np.bincount(codes)
    group_start = np.cumsum(sizes) - sizes
    order = _sort_within_groups(s, codes)
    group = codes[order]
    sorted_scores = s[order]
    new_block = np.ones(n, dtype=bool)
    new_block[1:] = (group[1:] != group[:-1]) | (sorted_scores[1:] != sorted_scores[:-1])
    block_first_row = np.flatnonzero(new_block)
    block = np.cumsum(new_block) - 1
    rank = np.arange(n) - group_start[group]
    return _Ranked(
        order=order,
        codes=codes,
        group=group,
        block=block,
        block_start=rank[block_first_row],
        block_size=np.diff(np.append(block_first_row, n)),
        block_first_row=block_first_row,
        group_start=group_start,
        n_groups=len(sizes),
        max_group_size=int(sizes.max(initial=0)),
    )


def _sort_within_groups(values: np.ndarray, codes: np.ndarray) -> np.ndarray:
    """Row order by group code, then value descending (two stable sorts beat lexsort)."""
    by_value = np.argsort(-values, kind="stable")
    return by_value[np.argsort(codes[by_value], kind="stable")]


def _mean_defined(values: np.ndarray, name: str, needs: str) -> float:
    defined = values[~np.isnan(values)]
    if len(defined) == 0:
        raise MetricError(f"{name} needs at least one impression with {needs}")
    return float(defined.mean())


def _or_none(compute: Callable[[], float]) -> float | None:
    try:
        return compute()
    except MetricError:
        return None


def _scores(values: ArrayLike, name: str) -> np.ndarray:
    array = np.asarray(values, dtype=np.float64).ravel()
    if np.isnan(array).any():
        raise MetricError(f"{name} contain NaN")
    return array


def _labels(values: ArrayLike, n: int | None) -> np.ndarray:
    array = np.asarray(values).ravel()
    if n is not None and len(array) != n:
        raise MetricError(f"labels have {len(array)} rows, expected {n}")
    if not np.isin(array, (0, 1)).all():
        raise MetricError("labels must be 0/1 or booleans")
    return array.astype(bool)
