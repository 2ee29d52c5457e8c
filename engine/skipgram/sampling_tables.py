"""Per-vocabulary tables of word2vec: subsampling, the negative-sampling distribution and
the Huffman tree of hierarchical softmax.

All take the vocabulary counts (int64, shape (V,)) and return numpy arrays the training
kernels index by word id.

>>> counts = np.array([50, 30, 10, 5, 5])
>>> keep = keep_probabilities(counts, sample=1e-3)        # (V,) float32, P(keep) per word
>>> prob, alias = alias_table(counts ** 0.75)             # O(1) draws from unigram^0.75
>>> tree = huffman_tree(counts)                           # codes/points of every word
"""

from __future__ import annotations

from dataclasses import dataclass

import numba
import numpy as np

# word2vec's unigram distortion for negative sampling.
UNIGRAM_POWER = 0.75


def keep_probabilities(counts: np.ndarray, sample: float) -> np.ndarray:
    """P(keep) per word, word2vec's formula: (sqrt(c / (t·N)) + 1) · t·N / c, capped at 1.

    ``counts``: (V,) int; ``sample``: the threshold t (0 keeps everything). N = counts.sum().
    """
    counts = np.asarray(counts, dtype=np.float64)
    if sample <= 0:
        return np.ones(len(counts), dtype=np.float32)
    threshold = sample * counts.sum()
    with np.errstate(divide="ignore"):
        keep = (np.sqrt(counts / threshold) + 1.0) * threshold / counts
    keep[counts == 0] = 0.0
    return np.minimum(keep, 1.0).astype(np.float32)


def alias_table(weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Walker/Vose alias table for O(1) draws from ``weights`` (unnormalised, (V,)).

    Returns ``(prob, alias)``: draw column ``j`` uniformly, keep ``j`` with probability
    ``prob[j]`` else take ``alias[j]``. float32 (V,), int32 (V,).
    """
    w = np.asarray(weights, dtype=np.float64)
    if w.ndim != 1 or len(w) == 0 or not np.all(w >= 0) or w.sum() <= 0:
        raise ValueError("alias_table needs a non-empty 1-D array of non-negative weights")
    scaled = w * (len(w) / w.sum())
    prob, alias = _vose(scaled)
    return prob.astype(np.float32), alias


@numba.njit(cache=True)
def _vose(scaled: np.ndarray) -> tuple[np.ndarray, np.ndarray]:  # pragma: no cover - jitted
    n = scaled.shape[0]
    prob = np.ones(n, dtype=np.float64)
    alias = np.arange(n).astype(np.int32)
    small = np.empty(n, dtype=np.int64)
    large = np.empty(n, dtype=np.int64)
    ns = 0
    nl = 0
    q = scaled.copy()
    for i in range(n):
        if q[i] < 1.0:
            small[ns] = i
            ns += 1
        else:
            large[nl] = i
            nl += 1
    while ns > 0 and nl > 0:
        ns -= 1
        s = small[ns]
        nl -= 1
        g = large[nl]
        prob[s] = q[s]
        alias[s] = g
        q[g] = q[g] - (1.0 - q[s])
        if q[g] < 1.0:
            small[ns] = g
            ns += 1
        else:
            large[nl] = g
            nl += 1
    return prob, alias


def negative_table(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Alias table of the unigram^0.75 distribution used to draw negatives."""
    return alias_table(np.asarray(counts, dtype=np.float64) ** UNIGRAM_POWER)


@dataclass(frozen=True)
class HuffmanTree:
    """Binary Huffman codes of every word, as in word2vec's CreateBinaryTree.

    ``codes``: int8 (V, max_len) of 0/1, ``points``: int32 (V, max_len) inner-node ids in
    0..V-2 (rows of the hierarchical-softmax table), ``lengths``: int32 (V,). Entries past
    ``lengths[w]`` are padding (code 0, point 0).
    """

    codes: np.ndarray
    points: np.ndarray
    lengths: np.ndarray

    @property
    def num_nodes(self) -> int:
        return max(1, int(self.codes.shape[0]) - 1)


def huffman_tree(counts: np.ndarray) -> HuffmanTree:
    """Build the Huffman tree over ``counts`` (any order; word2vec's two-queue algorithm)."""
    counts = np.asarray(counts, dtype=np.int64)
    if len(counts) < 2:
        v = len(counts)
        return HuffmanTree(
            codes=np.zeros((v, 1), np.int8),
            points=np.zeros((v, 1), np.int32),
            lengths=np.ones(v, np.int32),
        )
    order = np.argsort(-counts, kind="stable")  # the algorithm wants descending counts
    codes, points, lengths = _huffman(counts[order])
    inverse = np.empty_like(order)
    inverse[order] = np.arange(len(order))
    return HuffmanTree(codes=codes[inverse], points=points[inverse], lengths=lengths[inverse])


@numba.njit(cache=True)
def _huffman(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:  # pragma: no cover
    v = counts.shape[0]
    count = np.empty(2 * v, dtype=np.int64)
    count[:v] = counts
    count[v:] = np.iinfo(np.int64).max // 4
    binary = np.zeros(2 * v, dtype=np.int8)
    parent = np.zeros(2 * v, dtype=np.int64)
    pos1 = v - 1
    pos2 = v
    for a in range(v - 1):
        # The two smallest of: the leaves (from the tail) and the inner nodes (from v on).
        if pos1 >= 0 and count[pos1] < count[pos2]:
            min1 = pos1
            pos1 -= 1
        else:
            min1 = pos2
            pos2 += 1
        if pos1 >= 0 and count[pos1] < count[pos2]:
            min2 = pos1
            pos1 -= 1
        else:
            min2 = pos2
            pos2 += 1
        count[v + a] = count[min1] + count[min2]
        parent[min1] = v + a
        parent[min2] = v + a
        binary[min2] = 1
    max_len = 1
    lengths = np.zeros(v, dtype=np.int32)
    for w in range(v):
        n = 0
        b = w
        while b != 2 * v - 2:
            n += 1
            b = parent[b]
        lengths[w] = n
        max_len = max(max_len, n)
    codes = np.zeros((v, max_len), dtype=np.int8)
    points = np.zeros((v, max_len), dtype=np.int32)
    for w in range(v):
        n = lengths[w]
        b = w
        i = 0
        path = np.empty(n, dtype=np.int64)
        bits = np.empty(n, dtype=np.int8)
        while b != 2 * v - 2:
            bits[i] = binary[b]
            path[i] = b
            i += 1
            b = parent[b]
        # From the root down: the root is inner node v-2 (ids are shifted by v).
        points[w, 0] = v - 2
        for d in range(n):
            codes[w, d] = bits[n - 1 - d]
            if d > 0:
                points[w, d] = path[n - d] - v
    return codes, points, lengths
