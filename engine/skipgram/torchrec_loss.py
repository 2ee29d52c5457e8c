"""The torchrec kernel's negative-sampling loss and its gradient, compiled, for CPU steps.

`TorchRecSkipGramStep` gets the step's rows from one pooled lookup, [n·W, F·d]: row
``i·W + j`` is bag j of window i, the F features side by side (see
`embedrec.engine.skipgram.torchrec_step`). In torch the loss is three ``bmm`` calls over
dense copies of two feature slices, a zero-filled gradient of the whole output and the
logistic loss on top; on a CPU those passes over the memory cost more than the lookup
itself. Here `logistic_pairs` walks the rows window by window instead: a window's rows are
read only by that window's pairs, so its scores, the loss and its rows' gradients are
taken while the rows are in cache, and the gradients are written **over the rows
themselves**. The pooled output then is the gradient autograd hands back to the lookup:
no gradient buffer, nothing to zero (an empty bag's row is zero already and stays so).
Windows own disjoint rows, so the threads split them without locks. The same arithmetic
as the torch path: every score from the rows as looked up, before any update.
"""

from __future__ import annotations

import math

import numba
import numpy as np


@numba.njit(fastmath=True, cache=True, nogil=True, parallel=True)
def logistic_pairs(
    rows: np.ndarray, width: int, word_col: int, out_col: int, dim: int,
    ctx_counts: np.ndarray, centers: np.ndarray, negatives: np.ndarray, parts: int,
) -> float:  # fmt: skip  # pragma: no cover - jitted
    """Summed logistic loss of every (context, output) pair; the rows become their gradients.

    ``rows`` float32 [n·width, F·d], C-contiguous: window i's contexts are bags
    ``0 .. ctx_counts[i]-1`` of the word feature (columns ``word_col : word_col + dim``),
    its outputs bags ``0 .. K`` of the output feature (columns ``out_col : ...``): the
    centre (label 1), then ``negatives[i]`` (label 0; one equal to ``centers[i]`` is not
    scored, as in word2vec). Every other row of the two features must be zero (empty bags).

    On return each context row holds Σ_j g·output_j and each output row Σ_c g·context_c,
    g = σ(s) − label: d loss / d row. ``parts`` threads take a contiguous run of windows.

    >>> rows = np.zeros((2, 4), np.float32)  # one window, width 2, dim 2, K = 1
    >>> rows[0] = [1, 0, 1, 0]  # context 0 | centre
    >>> rows[1, 2:] = [0, 1]  # | negative
    >>> loss = logistic_pairs(rows, 2, 0, 2, 2, np.array([1]), np.array([5]), np.array([[6]]), 1)
    >>> round(loss, 4)  # softplus(-1) + softplus(0)
    1.0064
    """
    n = ctx_counts.shape[0]
    outputs = negatives.shape[1] + 1
    loss = 0.0
    for part in numba.prange(parts):
        pair_grads = np.empty((width, outputs), np.float32)
        scratch = np.empty((width, dim), np.float32)
        for i in range(part * n // parts, (part + 1) * n // parts):
            loss += _window(
                rows, i * width, word_col, out_col, dim, ctx_counts[i],
                centers[i], negatives[i], pair_grads, scratch,
            )  # fmt: skip
    return loss


@numba.njit(fastmath=True, cache=True, nogil=True)
def _window(
    rows: np.ndarray, base: int, word_col: int, out_col: int, dim: int, count: int,
    center: int, negatives: np.ndarray, pair_grads: np.ndarray, scratch: np.ndarray,
) -> float:  # fmt: skip  # pragma: no cover - jitted
    """`logistic_pairs` for the window whose rows start at ``base``; returns its loss.

    ``pair_grads`` float32 [≥ count, K+1] and ``scratch`` float32 [≥ count, dim]: the
    contexts' gradients are summed there first, since the outputs' gradients still read
    the context rows; the outputs' are written over their rows directly.
    """
    outputs = negatives.shape[0] + 1
    loss = 0.0
    softplus_product = 1.0  # Π (1 + e) over the pairs: one log a window, not one a pair
    for j in range(outputs):
        out = rows[base + j, out_col : out_col + dim]  # 1-D views: SIMD dots
        for c in range(count):
            ctx = rows[base + c, word_col : word_col + dim]
            s = np.float32(0.0)
            for k in range(dim):
                s += ctx[k] * out[k]
            pair_grads[c, j] = s
    for j in range(outputs):
        label = np.float32(1.0) if j == 0 else np.float32(0.0)
        scored = j == 0 or negatives[j - 1] != center
        for c in range(count):
            s = pair_grads[c, j]
            # σ(s) and softplus(s) from one exp of −|s|: neither overflows
            e = np.float32(math.exp(-abs(s)))
            sigmoid = np.float32(1.0) / (np.float32(1.0) + e)
            if s < 0.0:
                sigmoid = e * sigmoid
            if scored:
                # softplus(s) − label·s, softplus(s) = max(s, 0) + log(1 + e)
                loss += max(s, np.float32(0.0)) - label * s
                softplus_product *= 1.0 + float(e)  # each factor in (1, 2]
                if softplus_product > 1e300:  # wide windows, many negatives: fold it in
                    loss += math.log(softplus_product)
                    softplus_product = 1.0
                pair_grads[c, j] = sigmoid - label
            else:
                pair_grads[c, j] = 0.0
    loss += math.log(softplus_product)
    for c in range(count):  # context c: Σ_j g[c, j] · output j
        _weighted_sum(scratch[c], rows, base, out_col, dim, pair_grads[c, :outputs])
    # Output j: Σ_c g[c, j] · context c (zero without contexts), straight over the output
    # row: nothing reads the output rows any more, and the context rows it reads are intact.
    for j in range(outputs):
        out = rows[base + j, out_col : out_col + dim]
        _weighted_sum(out, rows, base, word_col, dim, pair_grads[:count, j])
    for c in range(count):
        rows[base + c, word_col : word_col + dim] = scratch[c]
    return loss


@numba.njit(fastmath=True, cache=True, nogil=True)
def _weighted_sum(
    out: np.ndarray, rows: np.ndarray, base: int, col: int, dim: int, weights: np.ndarray
) -> None:  # pragma: no cover - jitted
    """``out`` = Σ_i weights[i] · rows[base + i, col : col + dim]."""
    out[:] = 0.0
    for i in range(weights.shape[0]):
        g = weights[i]
        row = rows[base + i, col : col + dim]
        for k in range(dim):
            out[k] += g * row[k]
