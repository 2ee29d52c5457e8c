"""Train/validation split of a click dataset, decided per impression (never within one).

- ``time``: the last ``valid_fraction`` of impressions by time go to validation. The cut
  is the time T of the k-th earliest impression, k = n - floor(fraction * n); validation
  is every impression later than T (ties with T stay in train, so validation may hold a
  little less than the fraction). T is found exactly without gathering the times in the
  client: each pass asks every partition for a histogram of its times over a range and
  narrows the range to the bin holding the k-th time, down to 1 µs bins (a few passes).
  Impressions without a time go to train and are counted.
- ``line-order`` (Criteo, which has no time): the last floor(fraction * n) impressions in
  input order (files in the order given, lines in file order) go to validation.
- ``hash-user``: validation when blake2b-64(user) / 2**64 < fraction: stable across runs
  and datasets, so a user stays on one side. Impressions without a user go to train.

>>> times = np.array([5, 1, 3, 9, 7])
>>> find_time_cut(lambda lo, w, b: histogram(times, lo, w, b), 1, 9, 5, 0.4, bins=4)
5
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np
import pyarrow.compute as pc
import pyarrow.parquet as pq

from embedrec.pipelines.clicks.hashing import string_hash64, unit_float

TRAIN = "train"
VALIDATION = "validation"
HISTOGRAM_BINS = 4096

Histogram = Callable[[int, int, int], np.ndarray]


def validation_count(n: int, fraction: float) -> int:
    """Impressions that go to validation out of ``n``: floor(fraction * n), rounding noise off."""
    return math.floor(round(fraction * n, 9))


def histogram(times: np.ndarray, lo: int, width: int, bins: int) -> np.ndarray:
    """Counts of ``times`` in ``bins`` bins ``[lo + b * width, lo + (b + 1) * width)``."""
    t = np.asarray(times, dtype=np.int64)
    t = t[(t >= lo) & (t < lo + width * bins)]
    return np.bincount((t - lo) // width, minlength=bins).astype(np.int64)


def find_time_cut(
    hist: Histogram,
    time_min: int,
    time_max: int,
    n: int,
    fraction: float,
    bins: int = HISTOGRAM_BINS,
) -> int | None:
    """The time T of the k-th earliest of ``n`` impressions; None when none go to validation.

    ``hist(lo, width, bins)`` returns the summed per-partition `histogram` of impression
    times. Each call narrows ``[lo, hi)`` to one bin; the last has width 1 and gives T.
    """
    n_valid = validation_count(n, fraction)
    if n == 0 or n_valid == 0:
        return None
    rank = n - n_valid  # 1-based rank of T among the times
    lo, hi = int(time_min), int(time_max) + 1
    while True:
        width = -(-(hi - lo) // bins)
        cumulative = np.cumsum(hist(lo, width, bins))
        b = int(np.searchsorted(cumulative, rank))
        if b >= len(cumulative):
            raise RuntimeError(f"time histogram lost impressions: rank {rank} > {cumulative[-1]}")
        rank -= int(cumulative[b - 1]) if b > 0 else 0
        lo, hi = lo + b * width, min(lo + (b + 1) * width, hi)
        if width == 1:
            return lo


def add_histograms(*histograms: np.ndarray) -> np.ndarray:
    """Sum of several partitions' histograms (a Dask task of the merge tree)."""
    return np.sum(histograms, axis=0).astype(np.int64)


def partition_time_histogram(parsed: str, lo: int, width: int, bins: int) -> np.ndarray:
    """`histogram` of the impression times of one parsed work file (a Dask task)."""
    table = pq.read_table(parsed, columns=["ex", "time"])
    first_timed = pc.and_(pc.equal(table.column("ex"), 0), pc.is_valid(table.column("time")))
    times = table.column("time").filter(first_timed).to_numpy()
    return histogram(times, lo, width, bins)


def time_validation(times: Sequence[int | None], cut: int | None) -> np.ndarray:
    """Boolean per row: in validation under the time rule (null time → train)."""
    if cut is None:
        return np.zeros(len(times), dtype=bool)
    return np.array([t is not None and t > cut for t in times], dtype=bool)


def hash_user_validation(users: Sequence[str | None], fraction: float) -> np.ndarray:
    """Boolean per row: in validation under the hash-user rule (null user → train)."""
    known = [i for i, u in enumerate(users) if u is not None]
    result = np.zeros(len(users), dtype=bool)
    if known:
        u = unit_float(string_hash64(users[i] for i in known))  # type: ignore[misc]
        result[known] = u < fraction
    return result


def order_validation(ordinals: np.ndarray, n_total: int, fraction: float) -> np.ndarray:
    """Boolean per row: in validation under the line-order rule (global impression ordinal)."""
    first_valid = n_total - validation_count(n_total, fraction)
    return np.asarray(ordinals) >= first_valid
