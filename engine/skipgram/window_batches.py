"""Skip-gram windows for the ``torchrec`` kernel, built by compiled code from a block.

A *window* is one kept centre word with the context words of its dynamic window (radius
drawn in 1..W as word2vec does, after frequent-word subsampling). The TorchRec step scores
every context of a window against the centre and K negatives drawn once per window — the
HogBatch grouping of Ji et al. (2016): the same pairs and the same number of negatives per
pair as word2vec, with 2 table rows per pair instead of 2 + K.

>>> w = build_windows(tokens, offsets, keep, window=5, seed=1, stream=0)   # doctest: +SKIP
>>> w.centers.shape, w.context_offsets.shape       # (N,), (N+1,)  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numba
import numpy as np

from embedrec.engine.skipgram.kernel_common import draw_alias, lcg_next, seed_state, subsample


@dataclass(frozen=True)
class Windows:
    """The windows of one block.

    ``centers`` int64 (N,); ``contexts`` int64 (C,) with window i's contexts at
    ``contexts[context_offsets[i]:context_offsets[i+1]]``. Every kept word of a sentence
    with two or more is a centre, so a window's contexts are also a run of centres:
    ``ranges`` int64 (N, 2) holds ``[lo, hi)`` with window i's contexts at
    ``centers[lo:hi]`` without ``centers[i]`` (``lo <= i < hi``).
    """

    centers: np.ndarray
    context_offsets: np.ndarray
    contexts: np.ndarray
    ranges: np.ndarray

    def __len__(self) -> int:
        return int(self.centers.shape[0])

    def slices(self, batch_size: int) -> Iterator[tuple[int, int]]:
        """``(start, stop)`` window ranges of at most ``batch_size`` windows."""
        for start in range(0, len(self), batch_size):
            yield start, min(len(self), start + batch_size)


def build_windows(
    tokens: np.ndarray,
    offsets: np.ndarray,
    keep: np.ndarray,
    *,
    window: int,
    seed: int,
    stream: int,
) -> Windows:
    """Subsample the block and cut it into windows (deterministic in seed and stream)."""
    centers, ctx_offsets, contexts, ranges = _build(
        tokens, offsets.astype(np.int64), keep, window, seed, stream
    )
    return Windows(centers, ctx_offsets, contexts, ranges)


@numba.njit(cache=True)
def _build(
    tokens: np.ndarray, offsets: np.ndarray, keep: np.ndarray, window: int, seed: int, stream: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:  # pragma: no cover - jitted
    n_tokens = offsets[-1] - offsets[0]
    max_windows = max(n_tokens, 1)
    centers = np.empty(max_windows, dtype=np.int64)
    ranges = np.empty((max_windows, 2), dtype=np.int64)
    ctx_offsets = np.zeros(max_windows + 1, dtype=np.int64)
    contexts = np.empty(max_windows * 2 * window, dtype=np.int64)
    state = seed_state(seed, stream)
    buf = np.empty(max(1, int(np.max(offsets[1:] - offsets[:-1])) if len(offsets) > 1 else 1),
                   dtype=np.int32)  # fmt: skip
    nw = 0
    nc = 0
    for s in range(offsets.shape[0] - 1):
        a = offsets[s]
        b = offsets[s + 1]
        n, state = subsample(tokens, a, b, keep, state, buf)
        first = nw  # with n >= 2 every kept word is a centre: word c is centre first + c
        for i in range(n):
            state = lcg_next(state)
            shrink = int((state >> np.uint64(33)) % np.uint64(window))
            lo = max(0, i - window + shrink)
            hi = min(n, i + window - shrink + 1)
            if hi - lo <= 1:
                continue
            centers[nw] = buf[i]
            ranges[nw, 0] = first + lo
            ranges[nw, 1] = first + hi
            for c in range(lo, hi):
                if c != i:
                    contexts[nc] = buf[c]
                    nc += 1
            nw += 1
            ctx_offsets[nw] = nc
    return (
        centers[:nw].copy(), ctx_offsets[: nw + 1].copy(), contexts[:nc].copy(),
        ranges[:nw].copy(),
    )  # fmt: skip


@numba.njit(cache=True)
def one_id_bags(
    centers: np.ndarray, context_offsets: np.ndarray, contexts: np.ndarray,
    start: int, stop: int, n: int, width: int, negatives: np.ndarray, with_outputs: bool,
) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip  # pragma: no cover - jitted
    """Windows ``start:stop`` (padded to ``n`` windows) as one-id bags, ``width`` a window.

    Features: the contexts (bag j of window i: its context j), then, ``with_outputs``, the
    outputs (bag 0: the centre, bag k: ``negatives[i, k-1]``). Returns ``values`` int64,
    every feature's ids, feature after feature, window-major, and ``lengths`` int32
    (F, n, width), 1 where a bag holds an id — a KeyedJaggedTensor's two arrays.
    """
    real = stop - start
    lo = context_offsets[start]
    count = context_offsets[stop] - lo
    outputs = negatives.shape[1] + 1 if with_outputs else 0
    values = np.empty(count + real * outputs, np.int64)
    lengths = np.zeros((2 if with_outputs else 1, n, width), np.int32)
    values[:count] = contexts[lo : lo + count]
    v = count
    for i in range(real):
        for j in range(context_offsets[start + i + 1] - context_offsets[start + i]):
            lengths[0, i, j] = 1
        if with_outputs:
            values[v] = centers[start + i]
            for k in range(outputs - 1):
                values[v + 1 + k] = negatives[i, k]
            v += outputs
            for j in range(outputs):
                lengths[1, i, j] = 1
    return values, lengths


@numba.njit(cache=True)
def span_bags(
    centers: np.ndarray, ranges: np.ndarray, start: int, stop: int, stride: int,
    negatives: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:  # fmt: skip  # pragma: no cover - jitted
    """Windows ``start:stop`` as bags for the compiled CPU loss: each input row once.

    Neighbouring windows share most of their contexts (a kept word is a context of up to
    2·window centres), so the word feature looks up the *span* of centres the windows'
    contexts cover, once each (bag p: ``centers[span0 + p]``), instead of one bag per
    (window, context). The output feature keeps K+1 bags a window (bag i·(K+1): window
    i's centre, then its ``negatives[i]``). Both features have ``stride`` bags.

    Returns ``values`` int64 (span ids, then outputs), ``lengths`` int32 (2, stride),
    ``local`` int64 (stop − start, 3): window i's contexts are span bags
    ``local[i, 0] : local[i, 1]`` except its own centre, bag ``local[i, 2]``; and the
    span's length.
    """
    real = stop - start
    span0 = ranges[start, 0] if real else 0
    span1 = span0
    for i in range(start, stop):
        span0 = min(span0, ranges[i, 0])
        span1 = max(span1, ranges[i, 1])
    span = span1 - span0
    outputs = negatives.shape[1] + 1
    if span > stride or real * outputs > stride:
        raise ValueError("the step's bags do not fit its stride")
    values = np.empty(span + real * outputs, np.int64)
    lengths = np.zeros((2, stride), np.int32)
    local = np.empty((real, 3), np.int64)
    values[:span] = centers[span0:span1]
    lengths[0, :span] = 1
    lengths[1, : real * outputs] = 1
    for i in range(real):
        local[i, 0] = ranges[start + i, 0] - span0
        local[i, 1] = ranges[start + i, 1] - span0
        local[i, 2] = start + i - span0
        v = span + i * outputs
        values[v] = centers[start + i]
        values[v + 1 : v + outputs] = negatives[i]
    return values, lengths, local, span


@numba.njit(cache=True)
def draw_negatives(
    count: int, negative: int, prob: np.ndarray, alias: np.ndarray, seed: int, stream: int
) -> np.ndarray:  # pragma: no cover - jitted
    """``count`` × ``negative`` draws from the alias table, int64 (count, negative)."""
    out = np.empty((count, negative), dtype=np.int64)
    state = seed_state(seed, stream)
    for i in range(count):
        for k in range(negative):
            state = lcg_next(state)
            out[i, k] = draw_alias(state, prob, alias)
    return out
