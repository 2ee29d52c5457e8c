"""The torchrec kernel's negative-sampling loss and its gradient, compiled, for CPU steps.

`TorchRecSkipGramStep` gets the step's rows from one pooled lookup, [n·W, F·d]: row
``i·W + j`` is bag j of window i, the F features side by side (see
`embedrec.engine.skipgram.torchrec_step`). In torch the loss is three ``bmm`` calls over
dense copies of two feature slices, a zero-filled gradient of the whole output and the
logistic loss on top; on a CPU those passes over the memory cost more than the lookup
itself. Here the rows are read in place: `pair_scores` takes every (context, output) score
into a small [n, W, 1+K] array (the caller turns it into the loss and each score's
gradient with torch's vectorised sigmoid: numba's scalar exp/log calls cost more than the
dots), `add_pair_grads` adds the rows' gradients and `clear_pair_grads` zeroes exactly
that afterwards. The same arithmetic as the torch path: every score from the rows as
looked up, before any update.
"""

from __future__ import annotations

import numba
import numpy as np


@numba.njit(fastmath=True, cache=True, nogil=True)
def pair_scores(
    rows: np.ndarray, width: int, word_col: int, out_col: int, dim: int,
    ctx_counts: np.ndarray, scores: np.ndarray,
) -> None:  # fmt: skip  # pragma: no cover - jitted
    """``scores[i, c, j]`` = context c of window i · output j of window i.

    ``rows`` float32 [n·width, F·d]; contexts are bags ``0 .. ctx_counts[i]-1`` of the word
    feature (columns ``word_col : word_col + dim``), outputs the first ``scores.shape[2]``
    bags of the output feature (columns ``out_col : ...``); ``scores`` float32 [n, width,
    outputs], left as it is where c ≥ ctx_counts[i].
    """
    n, _, outputs = scores.shape
    for i in range(n):
        for c in range(ctx_counts[i]):
            ctx = rows[i * width + c, word_col : word_col + dim]  # 1-D views: SIMD dots
            for j in range(outputs):
                out = rows[i * width + j, out_col : out_col + dim]
                s = np.float32(0.0)
                for k in range(dim):
                    s += ctx[k] * out[k]
                scores[i, c, j] = s


@numba.njit(fastmath=True, cache=True, nogil=True)
def add_pair_grads(
    rows: np.ndarray, grad: np.ndarray, width: int, word_col: int, out_col: int, dim: int,
    ctx_counts: np.ndarray, dscores: np.ndarray,
) -> None:  # fmt: skip  # pragma: no cover - jitted
    """Add each pair's gradient to both of its rows: context += g·output, output += g·context.

    Shapes as `pair_scores`; ``dscores[i, c, j]`` is pair (c, j)'s d loss / d score (0
    where there is no pair); ``grad`` like ``rows``.
    """
    n, _, outputs = dscores.shape
    for i in range(n):
        for c in range(ctx_counts[i]):
            ctx = rows[i * width + c, word_col : word_col + dim]
            ctx_grad = grad[i * width + c, word_col : word_col + dim]
            for j in range(outputs):
                g = dscores[i, c, j]
                if g == 0.0:
                    continue
                out = rows[i * width + j, out_col : out_col + dim]
                out_grad = grad[i * width + j, out_col : out_col + dim]
                for k in range(dim):
                    ctx_grad[k] += g * out[k]
                for k in range(dim):
                    out_grad[k] += g * ctx[k]


@numba.njit(cache=True, nogil=True)
def clear_pair_grads(
    grad: np.ndarray, width: int, word_col: int, out_col: int, dim: int,
    ctx_counts: np.ndarray, outputs: int,
) -> None:  # fmt: skip  # pragma: no cover - jitted
    """Zero what `add_pair_grads` can have written for these windows (and nothing else), so
    one zeroed buffer serves every step without a 4 MB memset each time."""
    for i in range(ctx_counts.shape[0]):
        for c in range(ctx_counts[i]):
            grad[i * width + c, word_col : word_col + dim] = 0.0
        for j in range(outputs):
            grad[i * width + j, out_col : out_col + dim] = 0.0
