"""Sampled negatives for the AOL log, which records clicks only.

For each click, ``per_click`` docs are drawn from the doc vocabulary (ids >= 1, i.e. docs
clicked at least ``min_count`` times) with probability proportional to their click count.
A draw is refused when that doc was ever clicked for the same query string (anywhere in
the input: the set of clicked (query, doc) pairs is merged over all partitions first) or
was already drawn for this click; it is then drawn again, up to `MAX_ROUNDS` times, after
which it is drawn from the allowed docs alone (one pass over the vocabulary). A click
keeps fewer negatives only when fewer docs are allowed for its query (counted as
``negatives_missing`` in the manifest).
The AOL log does not say which other results were on the page, so negatives have position
null and label 0.

Each draw is a counter-based hash of (seed, input file index, line, draw, attempt), so the
negatives of a click depend only on the seed and the click itself — not on partitioning,
worker count or order of execution.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from embedrec.pipelines.clicks.hashing import mix64, pair_key, unit_float
from embedrec.pipelines.runtime.task_runner import task_output

MAX_ROUNDS = 32
METHOD = "popularity"


def negatives_record(per_click: int, seed: int) -> dict[str, object]:
    """How the negatives were made, for the manifest."""
    return {
        "method": METHOD,
        "per_click": per_click,
        "seed": seed,
        "pool": "doc vocabulary ids >= 1, drawn with probability proportional to click count",
        "refused": "docs ever clicked for the same query string; repeats within one click",
        "max_rounds": MAX_ROUNDS,
        "position": None,
        "label": 0,
    }


def merge_pairs(*parts: np.ndarray) -> np.ndarray:
    """Union of sorted unique ``uint64`` pair keys (a Dask task)."""
    if not parts:
        return np.zeros(0, dtype=np.uint64)
    return np.unique(np.concatenate([np.asarray(p, dtype=np.uint64) for p in parts]))


def save_pairs(path: str, keys: np.ndarray) -> str:
    """Write the merged pair keys to ``path`` (.npy) whole or not at all (a Dask task)."""
    with task_output(path) as tmp, open(tmp, "wb") as handle:
        np.save(handle, np.asarray(keys, dtype=np.uint64))
    return path


def contains_sorted(sorted_keys: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """Boolean per key: present in ``sorted_keys`` (sorted ascending)."""
    if sorted_keys.size == 0:
        return np.zeros(len(keys), dtype=bool)
    at = np.searchsorted(sorted_keys, keys)
    at = np.minimum(at, sorted_keys.size - 1)
    return sorted_keys[at] == keys


@dataclass(frozen=True)
class NegativeSampler:
    """Draws doc ids for clicks (see module doc).

    ``doc_counts``: int64 (V,) click counts by doc id (id 0 never drawn). ``doc_hashes``:
    uint64 (V,) `string_hash64` of each doc value. ``clicked``: sorted uint64 pair keys.
    """

    doc_counts: np.ndarray
    doc_hashes: np.ndarray
    clicked: np.ndarray
    per_click: int
    seed: int

    def sample(self, query_hashes: np.ndarray, source_index: int, lines: np.ndarray) -> np.ndarray:
        """Doc ids, int32 (M, per_click), for M clicks; 0 where no doc could be drawn.

        >>> s = NegativeSampler(np.array([0, 5, 3, 1]), np.arange(4, dtype=np.uint64),
        ...                     np.zeros(0, np.uint64), per_click=3, seed=0)
        >>> sorted(s.sample(np.zeros(1, np.uint64), 0, np.array([1]))[0].tolist())
        [1, 2, 3]
        """
        m = len(query_hashes)
        out = np.zeros((m, self.per_click), dtype=np.int32)
        weights = np.asarray(self.doc_counts[1:], dtype=np.float64)
        if m == 0 or weights.size == 0 or weights.sum() <= 0:
            return out
        cdf = np.cumsum(weights)
        cdf /= cdf[-1]
        cdf[-1] = 1.0
        query_hashes = np.asarray(query_hashes, dtype=np.uint64)
        lines = np.asarray(lines, dtype=np.int64)
        for draw in range(self.per_click):
            pending = np.arange(m)
            for attempt in range(MAX_ROUNDS):
                if pending.size == 0:
                    break
                h = mix64(self.seed, source_index, lines[pending], draw, attempt)
                picked = np.searchsorted(cdf, unit_float(h), side="right") + 1
                picked = np.minimum(picked, weights.size).astype(np.int32)
                keys = pair_key(query_hashes[pending], self.doc_hashes[picked])
                ok = ~contains_sorted(self.clicked, keys)
                if draw:
                    ok &= (out[pending, :draw] != picked[:, None]).all(axis=1)
                out[pending[ok], draw] = picked[ok]
                pending = pending[~ok]
            for i in pending:  # rare: most of the mass was refused; draw among the rest
                out[i, draw] = self._draw_exactly(
                    query_hashes[i], source_index, lines[i], draw, out[i, :draw], weights
                )
        return out

    def _draw_exactly(
        self,
        query_hash: np.uint64,
        source_index: int,
        line: int,
        draw: int,
        taken: np.ndarray,
        weights: np.ndarray,
    ) -> int:
        """One draw from the allowed docs only (0 when none is left): O(V), for leftovers."""
        ids = np.arange(1, weights.size + 1)
        allowed = ~contains_sorted(self.clicked, pair_key(query_hash, self.doc_hashes[ids]))
        allowed &= ~np.isin(ids, taken)
        mass = np.where(allowed, weights, 0.0)
        if mass.sum() <= 0:
            return 0
        cdf = np.cumsum(mass) / mass.sum()
        u = unit_float(mix64(self.seed, source_index, line, draw, MAX_ROUNDS))
        picked = int(np.searchsorted(cdf, u, side="right"))
        while not allowed[min(picked, ids.size - 1)]:  # u on a flat step of the cdf
            picked -= 1
        return int(ids[min(picked, ids.size - 1)])
