"""The torchrec kernel's negative-sampling loss and its gradient, compiled, for CPU steps.

On a CPU `TorchRecSkipGramStep` looks a step's rows up in the *span* layout
(`skipgram.window_batches.span_bags`): the word feature holds the run of centres that the
step's windows take their contexts from, each once (a kept word is a context of up to
2·window centres, so one bag per (window, context) looked most rows up ~6 times), and the
output feature K+1 bags per window (the centre, then its negatives). `span_logistic_pairs`
walks the windows: a window's scores, the loss and its rows' gradients are taken while its
rows are in cache, and the gradients are written **over the rows themselves**, so the
pooled output is the gradient autograd hands back to the lookup (no gradient buffer, and
an empty bag's row is zero already). Output rows belong to one window and are written as
soon as it is done; a span row is shared by neighbouring windows, so each thread sums its
windows' share in its own buffer and the rows are written when every thread is done. The
same arithmetic as the torch path: every score from the rows as looked up, before any
update; the TBE then sums a row's gradients over its bags, as it summed them over the
(window, context) bags of the padded layout.
"""

from __future__ import annotations

import math

import numba
import numpy as np


@numba.njit(fastmath=True, cache=True, nogil=True, parallel=True)
def span_logistic_pairs(
    rows: np.ndarray, word_col: int, out_col: int, dim: int, local: np.ndarray,
    centers: np.ndarray, negatives: np.ndarray, span: int, parts: int,
) -> float:  # fmt: skip  # pragma: no cover - jitted
    """Summed logistic loss of every (context, output) pair; the rows become their gradients.

    ``rows`` float32 [bags, F·d], C-contiguous. Word feature (columns ``word_col :
    word_col + dim``): bags ``0 .. span-1`` are the span; window i's contexts are bags
    ``local[i, 0] : local[i, 1]`` except ``local[i, 2]`` (its centre). Output feature
    (columns ``out_col : ...``): bag ``i·(K+1)`` is window i's centre (label 1), the next
    K its ``negatives[i]`` (label 0; one equal to ``centers[i]`` is not scored, as in
    word2vec). Every other row of the two features must be zero (empty bags).

    On return each span row holds Σ g·output over its pairs and each output row
    Σ_c g·context_c, g = σ(s) − label: d loss / d row. ``parts`` threads take a
    contiguous run of windows each.

    >>> rows = np.zeros((2, 4), np.float32)  # one window, span of 2, dim 2, K = 1
    >>> rows[0] = [1, 0, 1, 0]  # context (span bag 0) | centre
    >>> rows[1] = [9, 9, 0, 1]  # the centre's own input row (not scored) | negative
    >>> local = np.array([[0, 2, 1]])
    >>> loss = span_logistic_pairs(rows, 0, 2, 2, local, np.array([5]), np.array([[6]]), 2, 1)
    >>> round(loss, 4)  # softplus(-1) + softplus(0)
    1.0064
    """
    n = local.shape[0]
    outputs = negatives.shape[1] + 1
    sums = np.zeros((parts, span, dim), np.float32)  # each thread's share of the span rows
    loss = 0.0
    for part in numba.prange(parts):
        pair_grads = np.empty((max(span, 1), outputs), np.float32)
        for i in range(part * n // parts, (part + 1) * n // parts):
            loss += _window(
                rows, sums[part], i * outputs, word_col, out_col, dim, local[i],
                centers[i], negatives[i], pair_grads,
            )  # fmt: skip
    for p in numba.prange(span):  # the span rows, once every window has read them
        row = rows[p, word_col : word_col + dim]
        row[:] = sums[0, p]
        for part in range(1, parts):
            for k in range(dim):
                row[k] += sums[part, p, k]
    return loss


@numba.njit(fastmath=True, cache=True, nogil=True)
def _window(
    rows: np.ndarray, sums: np.ndarray, out_base: int, word_col: int, out_col: int, dim: int,
    local: np.ndarray, center: int, negatives: np.ndarray, pair_grads: np.ndarray,
) -> float:  # fmt: skip  # pragma: no cover - jitted
    """`span_logistic_pairs` for one window; returns its loss.

    Its contexts' gradients are added to ``sums`` [span, dim] (the thread's buffer), its
    outputs' written over their rows. ``pair_grads`` float32 [≥ contexts, K+1] scratch.
    """
    lo, hi, own = local[0], local[1], local[2]
    outputs = negatives.shape[0] + 1
    loss = 0.0
    softplus_product = 1.0  # Π (1 + e) over the pairs: one log a window, not one a pair
    for j in range(outputs):
        out = rows[out_base + j, out_col : out_col + dim]  # 1-D views: SIMD dots
        c = 0
        for p in range(lo, hi):
            if p == own:
                continue
            ctx = rows[p, word_col : word_col + dim]
            s = np.float32(0.0)
            for k in range(dim):
                s += ctx[k] * out[k]
            pair_grads[c, j] = s
            c += 1
    count = hi - lo - 1
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
    c = 0
    for p in range(lo, hi):  # context p: Σ_j g[c, j] · output j, into the thread's sums
        if p == own:
            continue
        acc = sums[p]
        for j in range(outputs):
            g = pair_grads[c, j]
            out = rows[out_base + j, out_col : out_col + dim]
            for k in range(dim):
                acc[k] += g * out[k]
        c += 1
    for j in range(outputs):  # output j: Σ_c g[c, j] · context c, over the output row
        out = rows[out_base + j, out_col : out_col + dim]
        out[:] = 0.0
        c = 0
        for p in range(lo, hi):
            if p == own:
                continue
            g = pair_grads[c, j]
            ctx = rows[p, word_col : word_col + dim]
            for k in range(dim):
                out[k] += g * ctx[k]
            c += 1
    return loss
