"""Lock-free (Hogwild) skip-gram SGD, compiled with numba, on the TorchRec tables' memory.

This is word2vec's update — per (context, centre) pair, negative sampling and/or
hierarchical softmax, the learning rate decayed linearly; negatives drawn once per centre
and shared by its contexts (HogBatch) unless ``shared_negatives`` is off — run by
``threads`` threads over disjoint sentence ranges of a block, writing straight into the
weight tensors that the TorchRec EmbeddingCollection owns (numpy views of the fused TBE
weights, no copies). It is the fast CPU path of a 1-rank run; the ``torchrec`` kernel (DMP
lookups, fused optimizer in backward) is the path for GPUs and several ranks.

With shared negatives the draws are taken one centre ahead, in the same generator order as
a centre-by-centre walk, and the next centre's output rows and the word entering its
window are prefetched (`embedrec.engine.skipgram.prefetch`): the tables outgrow the caches,
and the hint lets their rows arrive while the current centre's pairs are computed. When a
centre's shared targets are distinct rows (nearly always), a pair's K+1 scores are taken
before any of those rows moves (`_distinct_negative_updates`): the same arithmetic, in an
order the CPU can overlap. Results are bit-identical to the plain walk (threads = 1;
`tests/engine/test_hogwild_kernel.py`).

Word2vec's skip-gram takes the *context* word's input vector and predicts the *centre*
word, so the output rows touched per pair are the centre's (positive), K negatives, or the
centre's Huffman path.

Update rules (``rule``), each in its own function so another kernel can copy it exactly:

- ``RULE_GENSIM_SGD`` (the engine's default): plain SGD; an output whose score f has
  |f| >= 6 (off the sigmoid table) is left alone, as gensim does
  (`_clipped_logistic_step` with ``skip_saturated``; `_logistic_step` keeps word2vec.c's).
- ``RULE_W2V_SGD``: plain SGD with word2vec.c's step for such a score (g = (label - 1)·lr
  for f >= 6, label·lr for f <= -6); the kernel's rule before issue 13.
- ``RULE_ROW_ADAGRAD`` (measured, not a default): gensim's clipping; every row r keeps
  h[r] = sum of the squared L2 norms of its gradients so far and steps lr / sqrt(h[r] + 1e-6)
  (`_adaptive_rate`): an output row's gradient per pair is g·syn0[ctx], an input row's is the
  pair's accumulated ``neu``. Norms, not means over columns, so padding columns change nothing.

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
from embedrec.engine.skipgram.prefetch import prefetch_row

_SPAN = 10_000  # word2vec's MAX_SENTENCE_LENGTH: longer sentences are cut into spans
# Update rules (``rule`` of `train_block`); see the module docstring.
RULE_W2V_SGD = 0  # plain SGD, word2vec.c's step on saturated scores
RULE_GENSIM_SGD = 1  # plain SGD, saturated scores (|f| >= 6) left alone as gensim does
RULE_ROW_ADAGRAD = 2  # gensim's clipping, each row's step lr / sqrt(its squared-norm history)
ADAGRAD_EPS = 1e-6
_TABLE_SCALE = EXP_TABLE_SIZE / MAX_EXP / 2.0


@numba.njit(inline="always", fastmath=True, cache=True)
def _logistic_step(
    f: np.float32 | float, label: float, lr: float, sig: np.ndarray, logsig: np.ndarray
) -> tuple[float, float]:  # pragma: no cover - jitted
    """word2vec.c's rule (``RULE_W2V_SGD``); see `_clipped_logistic_step`."""
    return _clipped_logistic_step(f, label, lr, False, sig, logsig)


@numba.njit(inline="always", fastmath=True, cache=True)
def _clipped_logistic_step(
    f: np.float32 | float,
    label: float,
    lr: float,
    skip_saturated: bool,
    sig: np.ndarray,
    logsig: np.ndarray,
) -> tuple[float, float]:  # pragma: no cover - jitted
    """(gradient-times-lr, loss) of one logistic output, word2vec's clipped table lookup.

    A score with |f| >= MAX_EXP is off the table: gensim (``skip_saturated``) leaves that
    output alone (gradient 0); word2vec.c steps as if sigmoid were exactly 0 or 1.
    """
    if f >= MAX_EXP:
        step = 0.0 if skip_saturated else (label - 1.0) * lr
        return step, (float(f) if label == 0.0 else 0.0)
    if f <= -MAX_EXP:
        step = 0.0 if skip_saturated else label * lr
        return step, (-float(f) if label == 1.0 else 0.0)
    # Clamp: with fastmath, f just below MAX_EXP may still round to the table's end.
    i = min(EXP_TABLE_SIZE - 1, max(0, int((f + MAX_EXP) * _TABLE_SCALE)))
    if label == 1.0:
        return (1.0 - sig[i]) * lr, -logsig[i]
    return -sig[i] * lr, -logsig[EXP_TABLE_SIZE - 1 - i]


@numba.njit(inline="always", fastmath=True, cache=True)
def _adaptive_rate(
    history: np.ndarray, row: int, squared_norm: np.float32 | float, lr: float
) -> np.float32:  # pragma: no cover - jitted
    """Row-wise Adagrad's step for ``row``: add the squared norm of this gradient of the row
    to its history, return lr / sqrt(history + eps) (in place of the plain lr)."""
    history[row] += squared_norm
    return np.float32(lr / np.sqrt(history[row] + ADAGRAD_EPS))


@numba.njit(inline="always", fastmath=True, cache=True)
def _distinct_negative_updates(
    ctx: int,
    targets: np.ndarray,
    n_targets: int,
    syn0: np.ndarray,
    syn1neg: np.ndarray,
    skip_saturated: bool,
    lr: float,
    neu: np.ndarray,
    scores: np.ndarray,
    sig: np.ndarray,
    logsig: np.ndarray,
) -> float:  # pragma: no cover - jitted
    """`_negative_updates` for plain SGD when ``targets`` holds no row twice: the same
    arithmetic, reordered. Each output row's update touches only that row, so with distinct
    rows every score can be taken before any row moves — the K+1 dot products are then
    independent and the CPU overlaps them instead of waiting on each row's update."""
    dim = syn0.shape[1]
    for d in range(n_targets):
        scores[d] = _dot(syn0, ctx, syn1neg, targets[d], dim)
    loss = 0.0
    for d in range(n_targets):
        step, step_loss = _clipped_logistic_step(
            scores[d], 1.0 if d == 0 else 0.0, lr, skip_saturated, sig, logsig
        )
        scores[d] = np.float32(step)  # float32 keeps the row updates in full SIMD width
        loss += step_loss
    for d in range(n_targets):
        g = scores[d]
        target = targets[d]
        for k in range(dim):
            neu[k] += g * syn1neg[target, k]
            syn1neg[target, k] += g * syn0[ctx, k]
    return loss


@numba.njit(inline="always", cache=True)
def _all_distinct(targets: np.ndarray, n_targets: int) -> bool:  # pragma: no cover - jitted
    for a in range(1, n_targets):
        for b in range(a):
            if targets[a] == targets[b]:
                return False
    return True


@numba.njit(inline="always", fastmath=True, cache=True)
def _negative_updates(
    ctx: int,
    targets: np.ndarray,
    n_targets: int,
    distinct: bool,
    syn0: np.ndarray,
    syn1neg: np.ndarray,
    history1: np.ndarray,
    rule: int,
    lr: float,
    neu: np.ndarray,
    scores: np.ndarray,
    sig: np.ndarray,
    logsig: np.ndarray,
) -> float:  # pragma: no cover - jitted
    """One context row against the centre (label 1) and its negatives (label 0).

    Adds the input row's gradient (times lr for SGD, raw for Adagrad) to ``neu`` and
    updates each output row in place; returns the summed loss. ``distinct`` (plain SGD,
    no target row twice): the same updates with the scores taken first
    (`_distinct_negative_updates`).
    """
    if distinct:
        return _distinct_negative_updates(
            ctx, targets, n_targets, syn0, syn1neg, rule != RULE_W2V_SGD, lr, neu, scores, sig,
            logsig,
        )  # fmt: skip
    dim = syn0.shape[1]
    adagrad = rule == RULE_ROW_ADAGRAD
    ctx_norm = _dot(syn0, ctx, syn0, ctx, dim) if adagrad else np.float32(0.0)
    loss = 0.0
    for d in range(n_targets):
        target = targets[d]
        f = _dot(syn0, ctx, syn1neg, target, dim)
        step, step_loss = _clipped_logistic_step(
            f, 1.0 if d == 0 else 0.0, 1.0 if adagrad else lr, rule != RULE_W2V_SGD, sig, logsig
        )
        g = np.float32(step)  # float32 keeps the row updates in full SIMD width
        loss += step_loss
        rate = np.float32(1.0)
        if adagrad:
            rate = _adaptive_rate(history1, target, g * g * ctx_norm, lr)
        for k in range(dim):
            neu[k] += g * syn1neg[target, k]
            syn1neg[target, k] += rate * g * syn0[ctx, k]
    return loss


@numba.njit(inline="always", fastmath=True, cache=True)
def _input_update(
    ctx: int, syn0: np.ndarray, neu: np.ndarray, history0: np.ndarray, rule: int, lr: float
) -> None:  # pragma: no cover - jitted
    """Apply the accumulated gradient ``neu`` of one pair to the context's input row."""
    dim = syn0.shape[1]
    rate = np.float32(1.0)
    if rule == RULE_ROW_ADAGRAD:
        norm = np.float32(0.0)
        for k in range(dim):
            norm += neu[k] * neu[k]
        rate = _adaptive_rate(history0, ctx, norm, lr)
    for k in range(dim):
        syn0[ctx, k] += rate * neu[k]


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


@numba.njit(inline="always", cache=True)
def _draw_centre(
    center: int,
    window: int,
    negative: int,
    neg_prob: np.ndarray,
    neg_alias: np.ndarray,
    state: np.uint64,
    targets: np.ndarray,
) -> tuple[int, int, np.uint64]:  # pragma: no cover - jitted
    """One centre's draws in word2vec's order: the window shrink, then its K negatives into
    ``targets``; returns (shrink, number of targets, state)."""
    state = lcg_next(state)
    shrink = int((state >> np.uint64(33)) % np.uint64(window))
    n_targets, state = _draw_targets(center, negative, neg_prob, neg_alias, state, targets)
    return shrink, n_targets, state


@numba.njit(inline="always", cache=True)
def _prefetch_centre(
    syn0: np.ndarray, syn1neg: np.ndarray, targets: np.ndarray, n_targets: int, entering: int
) -> None:  # pragma: no cover - jitted
    """Prefetch a centre's output rows and the input row of the word entering its window."""
    for d in range(n_targets):
        prefetch_row(syn1neg, targets[d])
    prefetch_row(syn0, entering)


@numba.njit(inline="always", fastmath=True, cache=True)
def _hs_updates(
    ctx: int,
    center: int,
    syn0: np.ndarray,
    syn1hs: np.ndarray,
    codes: np.ndarray,
    points: np.ndarray,
    code_lens: np.ndarray,
    skip_saturated: bool,
    lr: float,
    neu: np.ndarray,
    sig: np.ndarray,
    logsig: np.ndarray,
) -> float:  # pragma: no cover - jitted
    """Hierarchical softmax: the context row against the inner nodes of the centre's path."""
    dim = syn0.shape[1]
    loss = 0.0
    for d in range(code_lens[center]):
        node = points[center, d]
        f = _dot(syn0, ctx, syn1hs, node, dim)
        step, step_loss = _clipped_logistic_step(
            f, 1.0 - codes[center, d], lr, skip_saturated, sig, logsig
        )
        g = np.float32(step)  # float32 keeps the row updates in full SIMD width
        loss += step_loss
        for k in range(dim):
            neu[k] += g * syn1hs[node, k]
            syn1hs[node, k] += g * syn0[ctx, k]
    return loss


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
    scores: np.ndarray,
    rule: int,
    history0: np.ndarray,
    history1: np.ndarray,
) -> tuple[float, int, np.uint64]:  # pragma: no cover - jitted
    loss, pairs, n_targets = 0.0, 0, 0
    # HogBatch (Ji et al. 2016): K negatives per centre, shared by its contexts, drawn one
    # centre ahead (the generator's order unchanged) to prefetch the next centre's rows.
    ahead = negative > 0 and shared_negatives
    shrink_next, n_next = 0, 0
    if ahead and n > 0:
        shrink_next, n_next, state = _draw_centre(
            buf[0], window, negative, neg_prob, neg_alias, state, targets[0]
        )
    for i in range(n):
        center = buf[i]
        if ahead:
            current = targets[i % 2]
            shrink, n_targets = shrink_next, n_next
            if i + 1 < n:
                upcoming = targets[(i + 1) % 2]
                shrink_next, n_next, state = _draw_centre(
                    buf[i + 1], window, negative, neg_prob, neg_alias, state, upcoming
                )
                _prefetch_centre(
                    syn0, syn1neg, upcoming, n_next, buf[min(n - 1, i + 1 + window - shrink_next)]
                )
        else:
            current = targets[0]
            state = lcg_next(state)
            shrink = int((state >> np.uint64(33)) % np.uint64(window))
        lo = max(0, i - window + shrink)
        hi = min(n, i + window - shrink + 1)
        # Shared targets are checked once per centre; per-pair draws are not reordered.
        distinct = ahead and rule != RULE_ROW_ADAGRAD and _all_distinct(current, n_targets)
        for c in range(lo, hi):
            if c == i:
                continue
            ctx = buf[c]
            neu[:] = 0.0
            if hs:
                loss += _hs_updates(
                    ctx, center, syn0, syn1hs, codes, points, code_lens, rule != RULE_W2V_SGD,
                    lr, neu, sig, logsig,
                )  # fmt: skip
            if negative > 0:
                if not shared_negatives:  # word2vec: fresh negatives for every pair
                    n_targets, state = _draw_targets(
                        center, negative, neg_prob, neg_alias, state, current
                    )
                loss += _negative_updates(
                    ctx, current, n_targets, distinct, syn0, syn1neg, history1, rule, lr, neu,
                    scores, sig, logsig,
                )  # fmt: skip
            _input_update(ctx, syn0, neu, history0, rule, lr)
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
    rule: int,
    history0: np.ndarray,
    history1: np.ndarray,
) -> tuple[float, int, int]:  # pragma: no cover - jitted
    """Train on one block of sentences; return (summed loss, pairs trained, words kept).

    ``tokens`` int32 (N,), ``offsets`` int64 (S+1,): sentence s is
    ``tokens[offsets[s]:offsets[s+1]]``. The learning rate moves linearly from
    ``lr_start`` to ``lr_end`` across the block. ``negative`` = 0 turns negative sampling
    off (``syn1neg`` may then be empty). ``shared_negatives`` draws the K negatives once per
    centre instead of once per pair. ``rule``: one of the RULE_* update rules;
    ``history0``/``history1`` float32 (V,): the row-wise Adagrad state of the input and
    output tables (read and written only by RULE_ROW_ADAGRAD; (0,) otherwise). Deterministic
    for ``threads == 1``.
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
        targets = np.empty((2, negative + 1), dtype=np.int64)  # this centre's, the next's
        scores = np.empty(negative + 1, dtype=np.float32)
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
                    neu, targets, scores, rule, history0, history1,
                )  # fmt: skip
                losses[t] += loss
                pair_counts[t] += pairs
                a = stop
    return losses.sum(), pair_counts.sum(), kept_counts.sum()
