"""Subsampling, the negative-sampling distribution and the Huffman tree."""

from __future__ import annotations

import heapq

import numpy as np
import pytest

from embedrec.engine.skipgram.sampling_tables import (
    alias_table,
    huffman_tree,
    keep_probabilities,
    negative_table,
)
from embedrec.engine.skipgram.window_batches import draw_negatives


def test_keep_probability_is_word2vecs_formula():
    counts = np.array([10_000, 1_000, 100, 1])
    keep = keep_probabilities(counts, sample=1e-3)
    t = 1e-3 * counts.sum()
    expected = np.minimum(1.0, (np.sqrt(counts / t) + 1) * t / counts)
    np.testing.assert_allclose(keep, expected, rtol=1e-6)
    assert keep[0] < 0.5 and keep[-1] == 1.0
    assert np.all(keep_probabilities(counts, sample=0) == 1.0)


def test_alias_draws_follow_unigram_to_the_three_quarters():
    counts = np.array([5000, 2000, 700, 300, 50, 10, 1])
    prob, alias = negative_table(counts)
    draws = draw_negatives(200_000, 1, prob, alias, seed=3, stream=0).ravel()
    observed = np.bincount(draws, minlength=len(counts)) / draws.size
    expected = counts**0.75 / (counts**0.75).sum()
    np.testing.assert_allclose(observed, expected, atol=0.004)


def test_alias_table_refuses_nonsense():
    with pytest.raises(ValueError):
        alias_table(np.array([0.0, 0.0]))


def _huffman_cost(counts: np.ndarray) -> int:
    heap = [int(c) for c in counts]
    heapq.heapify(heap)
    cost = 0
    while len(heap) > 1:
        merged = heapq.heappop(heap) + heapq.heappop(heap)
        cost += merged
        heapq.heappush(heap, merged)
    return cost


def test_huffman_codes_are_optimal_and_prefix_free():
    rng = np.random.default_rng(0)
    counts = np.sort(rng.zipf(1.3, size=500) + 4)[::-1]
    tree = huffman_tree(counts)
    lengths = tree.lengths.astype(np.int64)
    assert np.isclose((2.0 ** -lengths.astype(float)).sum(), 1.0)  # a full binary tree
    codes = {tuple(tree.codes[w, : lengths[w]]) for w in range(len(counts))}
    assert len(codes) == len(counts)
    for code in codes:  # no code is the prefix of another
        assert not any(other[: len(code)] == code and other != code for other in codes)
    assert int((lengths * counts).sum()) == _huffman_cost(counts)
    assert tree.points.max() <= len(counts) - 2
    assert np.all(tree.points[:, 0] == len(counts) - 2)  # every path starts at the root
