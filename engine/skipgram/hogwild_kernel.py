"""Lock-free (Hogwild) skip-gram SGD, compiled with numba, on the TorchRec tables' memory.

This is word2vec's own update — per (context, centre) pair, negative sampling and/or
hierarchical softmax, the learning rate decayed linearly; negatives drawn once per centre
and shared by its contexts unless ``shared_negatives`` is off — run by ``threads`` threads over
disjoint sentence ranges of a block, writing straight into the weight tensors that the
TorchRec EmbeddingCollection owns (numpy views of the fused TBE weights, no copies). It is
the fast CPU path of a 1-rank run; the ``torchrec`` kernel (DMP lookups, fused optimizer in
backward) is the path for GPUs and several ranks.

Word2vec's skip-gram takes the *context* word's input vector and predicts the *centre*
word, so the output rows touched per pair are the centre's (positive), K negatives, or the
centre's Huffman path.

Shapes: ``syn0`` (V, d) input vectors; ``syn1neg`` (V, d) output vectors (or (0, d) when
negative = 0); ``syn1hs`` (V-1, d) inner-node vectors (or (0, d) without hs).
"""

from __future__ import annotations

import numba
import numpy as np
from numba import prange

from embedrec.engine.skipgram.kernel_common import (
    EXP_TABLE_SIZE,
    MAX_EXP,
    draw_alias,
    lcg_next,
    seed_state,
    subsample,
)

_SPAN = 10_000  # word2vec's MAX_SENTENCE_LENGTH: longer sentences are cut into spans
_TABLE_SCALE = EXP_TABLE_SIZE / MAX_EXP / 2.0


@numba.njit(inline="always", fastmath=True, cache=True)
def _logistic_step(
    f: np.float32 | float, label: float, lr: float, sig: np.ndarray, logsig: np.ndarray
) -> tuple[float, float]:  # pragma: no cover - jitted
    """(gradient-times-lr, loss) of one logistic output, word2vec's clipped table lookup."""
    if f >= MAX_EXP:
        return (label - 1.0) * lr, (float(f) if label == 0.0 else 0.0)
    if f <= -MAX_EXP:
        return label * lr, (-float(f) if label == 1.0 else 0.0)
    # Clamp: with fastmath, f just below MAX_EXP may still round to the table's end.
    i = min(EXP_TABLE_SIZE - 1, max(0, int((f + MAX_EXP) * _TABLE_SCALE)))
    if label == 1.0:
        return (1.0 - sig[i]) * lr, -logsig[i]
    return -sig[i] * lr, -logsig[EXP_TABLE_SIZE - 1 - i]


@numba.njit(inline="always", fastmath=True, cache=True)
def _dot(
    a: np.ndarray, ia: int, b: np.ndarray, ib: int, dim: int
) -> np.float32:  # pragma: no cover
    f = np.float32(0.0)
    for k in range(dim):
        f += a[ia, k] * b[ib, k]
    return f


@numba.njit(inline="always", fastmath=True, cache=True)
def _draw_targets(
    center: int,
    negative: int,
    neg_prob: np.ndarray,
    neg_alias: np.ndarray,
    state: np.uint64,
    targets: np.ndarray,
) -> tuple[int, np.uint64]:  # pragma: no cover - jitted
    """targets[0] = centre (label 1), then the negatives that are not the centre."""
    targets[0] = center
    count = 1
    for _ in range(negative):
        state = lcg_next(state)
        target = draw_alias(state, neg_prob, neg_alias)
        if target != center:  # word2vec skips a negative equal to the centre
            targets[count] = target
            count += 1
    return count, state


@numba.njit(fastmath=True, cache=True)
def _train_span(
    buf: np.ndarray,
    n: int,
    syn0: np.ndarray,
    syn1neg: np.ndarray,
    syn1hs: np.ndarray,
    neg_prob: np.ndarray,
    neg_alias: np.ndarray,
    codes: np.ndarray,
    points: np.ndarray,
    code_lens: np.ndarray,
    sig: np.ndarray,
    logsig: np.ndarray,
    window: int,
    negative: int,
    hs: bool,
    shared_negatives: bool,
    lr: float,
    state: np.uint64,
    neu: np.ndarray,
    targets: np.ndarray,
) -> tuple[float, int, np.uint64]:  # pragma: no cover - jitted
    dim = syn0.shape[1]
    loss = 0.0
    pairs = 0
    n_targets = 0
    for i in range(n):
        center = buf[i]
        state = lcg_next(state)
        shrink = int((state >> np.uint64(33)) % np.uint64(window))
        lo = max(0, i - window + shrink)
        hi = min(n, i + window - shrink + 1)
        if negative > 0 and shared_negatives:
            # HogBatch (Ji et al. 2016): one draw of K negatives per centre, shared by its
            # contexts, so the K+1 output rows stay in cache across the window.
            n_targets, state = _draw_targets(center, negative, neg_prob, neg_alias, state, targets)
        for c in range(lo, hi):
            if c == i:
                continue
            ctx = buf[c]
            for k in range(dim):
                neu[k] = 0.0
            if hs:
                for d in range(code_lens[center]):
                    node = points[center, d]
                    f = _dot(syn0, ctx, syn1hs, node, dim)
                    step, step_loss = _logistic_step(f, 1.0 - codes[center, d], lr, sig, logsig)
                    g = np.float32(step)  # float32 keeps the row updates in full SIMD width
                    loss += step_loss
                    for k in range(dim):
                        neu[k] += g * syn1hs[node, k]
                        syn1hs[node, k] += g * syn0[ctx, k]
            if negative > 0:
                if not shared_negatives:  # word2vec: fresh negatives for every pair
                    n_targets, state = _draw_targets(
                        center, negative, neg_prob, neg_alias, state, targets
                    )
                for d in range(n_targets):
                    target = targets[d]
                    f = _dot(syn0, ctx, syn1neg, target, dim)
                    step, step_loss = _logistic_step(f, 1.0 if d == 0 else 0.0, lr, sig, logsig)
                    g = np.float32(step)
                    loss += step_loss
                    for k in range(dim):
                        neu[k] += g * syn1neg[target, k]
                        syn1neg[target, k] += g * syn0[ctx, k]
            for k in range(dim):
                syn0[ctx, k] += neu[k]
            pairs += 1
    return loss, pairs, state


@numba.njit(parallel=True, fastmath=True, cache=True)
def train_block(
    tokens: np.ndarray,
    offsets: np.ndarray,
    syn0: np.ndarray,
    syn1neg: np.ndarray,
    syn1hs: np.ndarray,
    keep: np.ndarray,
    neg_prob: np.ndarray,
    neg_alias: np.ndarray,
    codes: np.ndarray,
    points: np.ndarray,
    code_lens: np.ndarray,
    sig: np.ndarray,
    logsig: np.ndarray,
    window: int,
    negative: int,
    hs: bool,
    shared_negatives: bool,
    lr_start: float,
    lr_end: float,
    seed: int,
    stream: int,
    threads: int,
) -> tuple[float, int, int]:  # pragma: no cover - jitted
    """Train on one block of sentences; return (summed loss, pairs trained, words kept).

    ``tokens`` int32 (N,), ``offsets`` int64 (S+1,): sentence s is
    ``tokens[offsets[s]:offsets[s+1]]``. The learning rate moves linearly from
    ``lr_start`` to ``lr_end`` across the block. ``negative`` = 0 turns negative sampling
    off (``syn1neg`` may then be empty). ``shared_negatives`` draws the K negatives once per
    centre instead of once per pair. Deterministic for ``threads == 1``.
    """
    n_sent = offsets.shape[0] - 1
    total = max(offsets[n_sent] - offsets[0], 1)
    base = offsets[0]
    losses = np.zeros(threads)
    pair_counts = np.zeros(threads, dtype=np.int64)
    kept_counts = np.zeros(threads, dtype=np.int64)
    dim = syn0.shape[1]
    for t in prange(threads):
        s0 = n_sent * t // threads
        s1 = n_sent * (t + 1) // threads
        state = seed_state(seed, stream * 1024 + t)
        buf = np.empty(_SPAN, dtype=np.int32)
        neu = np.empty(dim, dtype=np.float32)
        targets = np.empty(negative + 1, dtype=np.int64)
        for s in range(s0, s1):
            a = offsets[s]
            b = offsets[s + 1]
            while a < b:
                stop = min(b, a + _SPAN)
                lr = lr_start + (lr_end - lr_start) * ((a - base) / total)
                n, state = subsample(tokens, a, stop, keep, state, buf)
                kept_counts[t] += n
                loss, pairs, state = _train_span(
                    buf, n, syn0, syn1neg, syn1hs, neg_prob, neg_alias, codes, points,
                    code_lens, sig, logsig, window, negative, hs, shared_negatives, lr, state,
                    neu, targets,
                )  # fmt: skip
                losses[t] += loss
                pair_counts[t] += pairs
                a = stop
    return losses.sum(), pair_counts.sum(), kept_counts.sum()
