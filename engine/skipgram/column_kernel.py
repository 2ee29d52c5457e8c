"""Compiled pieces of column-sharded skip-gram: pairs, partial dot products, updates.

Every rank holds the same rows but only its own columns of the ``word`` (syn0) and
``context`` (syn1neg) tables. A block of text is walked identically on every rank (same
subsampling, window and negative draws as the 1-rank hogwild kernel with one thread, from
the same generator stream), in chunks of pairs:

1. `fill_chunk` draws the next chunk of (context, centre/negatives) pairs;
2. `partial_dots` computes, per pair and target, the dot product over this rank's columns;
3. the caller sums those partial dots over the ranks (one all_reduce per chunk);
4. `apply_chunk` turns each score into word2vec's sigmoid gradient (the hogwild kernel's
   `_logistic_step`: word2vec.c's rule, which still steps on a saturated score) and updates
   this rank's columns of the target rows and the context row — `apply_pair`, the per-pair
   rule, is the one place that math lives here.

The score of a pair is the all_reduced dot with this rank's own share read again just
before the update (``dots - local + fresh``): the other ranks' shares are as old as the
chunk (all dots of a chunk are computed before any of its updates, and with
double-buffering before the previous chunk's updates land; see
`embedrec.engine.skipgram.column_runner`), this rank's is current. On one rank nothing is
stale and the chunked walk is the hogwild kernel's per-pair SGD.
"""

from __future__ import annotations

import numba
import numpy as np

from embedrec.engine.skipgram.hogwild_kernel import _all_distinct, _dot, _logistic_step
from embedrec.engine.skipgram.kernel_common import draw_alias, lcg_next, seed_state, subsample

SPAN = 10_000  # as the hogwild kernel: longer sentences are cut into spans
# cursor fields: sentence, span start, kept tokens in buf, next centre in buf, span done flag
CUR_SENT, CUR_START, CUR_KEPT, CUR_CENTRE, CUR_OPEN = 0, 1, 2, 3, 4


def new_cursor(seed: int, stream: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(cursor int64 (5,), rng state uint64 (1,), span buffer int32) at a block's start.

    The stream is the hogwild kernel's thread 0 of ``stream``: one rank of this scheme
    draws exactly what a 1-thread hogwild run draws.
    """
    state = np.array([seed_state(seed, stream * 1024)], dtype=np.uint64)
    return np.zeros(5, dtype=np.int64), state, np.empty(SPAN, dtype=np.int32)


@numba.njit(cache=True, nogil=True)
def _draw(
    center: int, negative: int, neg_prob: np.ndarray, neg_alias: np.ndarray,
    state: np.uint64, row: np.ndarray,
) -> tuple[int, np.uint64]:  # fmt: skip  # pragma: no cover - jitted
    """row[0] = centre, then the negatives that are not the centre (as the hogwild kernel)."""
    row[0] = center
    count = 1
    for _ in range(negative):
        state = lcg_next(state)
        target = draw_alias(state, neg_prob, neg_alias)
        if target != center:
            row[count] = target
            count += 1
    return count, state


@numba.njit(cache=True, nogil=True)
def fill_chunk(
    tokens: np.ndarray, offsets: np.ndarray, keep: np.ndarray, neg_prob: np.ndarray,
    neg_alias: np.ndarray, window: int, negative: int, shared_negatives: bool,
    cursor: np.ndarray, rng: np.ndarray, buf: np.ndarray, max_pairs: int,
    ctx_out: np.ndarray, targets_out: np.ndarray, counts_out: np.ndarray, pos_out: np.ndarray,
) -> int:  # fmt: skip  # pragma: no cover - jitted
    """Draw pairs until ``max_pairs`` would be exceeded by the next centre; return how many.

    ``ctx_out[p]`` the context row, ``targets_out[p, :counts_out[p]]`` the centre then its
    negatives, ``pos_out[p]`` the pair's token offset in the block (for the learning rate).
    ``cursor``/``rng``/``buf`` carry the walk between calls; 0 means the block is done.
    """
    n_sent = offsets.shape[0] - 1
    state = rng[0]
    shared = np.empty(negative + 1, dtype=np.int64)
    n_shared = 0
    p = 0
    while cursor[CUR_SENT] < n_sent:
        s = cursor[CUR_SENT]
        if cursor[CUR_OPEN] == 0:  # open the next span of sentence s
            a = max(cursor[CUR_START], offsets[s])
            stop = min(offsets[s + 1], a + SPAN)
            n, state = subsample(tokens, a, stop, keep, state, buf)
            cursor[CUR_START], cursor[CUR_KEPT], cursor[CUR_CENTRE] = a, n, 0
            cursor[CUR_OPEN] = 1
        n = cursor[CUR_KEPT]
        while cursor[CUR_CENTRE] < n:
            i = cursor[CUR_CENTRE]
            # A centre has at most 2 * window contexts: stop before overflowing the chunk.
            if p + 2 * window > max_pairs:
                rng[0] = state
                return p
            center = buf[i]
            state = lcg_next(state)
            shrink = int((state >> np.uint64(33)) % np.uint64(window))
            lo = max(0, i - window + shrink)
            hi = min(n, i + window - shrink + 1)
            if negative > 0 and shared_negatives:
                n_shared, state = _draw(center, negative, neg_prob, neg_alias, state, shared)
            for c in range(lo, hi):
                if c == i:
                    continue
                ctx_out[p] = buf[c]
                pos_out[p] = cursor[CUR_START] - offsets[0]
                if shared_negatives:
                    for d in range(n_shared):
                        targets_out[p, d] = shared[d]
                    counts_out[p] = n_shared
                else:
                    counts_out[p], state = _draw(
                        center, negative, neg_prob, neg_alias, state, targets_out[p]
                    )
                p += 1
            cursor[CUR_CENTRE] = i + 1
        # span done: the next one starts where this stopped, or the next sentence begins
        stop = min(offsets[s + 1], cursor[CUR_START] + SPAN)
        cursor[CUR_OPEN] = 0
        if stop >= offsets[s + 1]:
            cursor[CUR_SENT] = s + 1
            cursor[CUR_START] = 0
        else:
            cursor[CUR_START] = stop
    rng[0] = state
    return p


@numba.njit(fastmath=True, cache=True, nogil=True)
def partial_dots(
    n_pairs: int, ctx: np.ndarray, targets: np.ndarray, counts: np.ndarray,
    syn0: np.ndarray, syn1: np.ndarray, dots: np.ndarray,
) -> None:  # fmt: skip  # pragma: no cover - jitted
    """``dots[p, d]`` = syn0[ctx[p]] · syn1[targets[p, d]] over this rank's columns."""
    dim = syn0.shape[1]
    for p in range(n_pairs):
        row = ctx[p]
        for d in range(counts[p]):
            t = targets[p, d]
            f = np.float32(0.0)
            for k in range(dim):
                f += syn0[row, k] * syn1[t, k]
            dots[p, d] = f


@numba.njit(fastmath=True, cache=True, nogil=True)
def fill_and_dot(
    tokens: np.ndarray, offsets: np.ndarray, keep: np.ndarray, neg_prob: np.ndarray,
    neg_alias: np.ndarray, window: int, negative: int, shared_negatives: bool,
    cursor: np.ndarray, rng: np.ndarray, buf: np.ndarray, max_pairs: int,
    ctx_out: np.ndarray, targets_out: np.ndarray, counts_out: np.ndarray, pos_out: np.ndarray,
    syn0: np.ndarray, syn1: np.ndarray, dots: np.ndarray,
) -> int:  # fmt: skip  # pragma: no cover - jitted
    """`fill_chunk` then `partial_dots`, in one call (one dispatch per chunk, not two)."""
    n = fill_chunk(tokens, offsets, keep, neg_prob, neg_alias, window, negative,
                   shared_negatives, cursor, rng, buf, max_pairs, ctx_out, targets_out,
                   counts_out, pos_out)  # fmt: skip
    partial_dots(n, ctx_out, targets_out, counts_out, syn0, syn1, dots)
    return n


@numba.njit(inline="always", fastmath=True, cache=True)
def apply_pair(
    row: int, targets: np.ndarray, count: int, dots: np.ndarray, local: np.ndarray, lr: float,
    syn0: np.ndarray, syn1: np.ndarray, sig: np.ndarray, logsig: np.ndarray, neu: np.ndarray,
    scores: np.ndarray,
) -> float:  # fmt: skip  # pragma: no cover - jitted
    """word2vec's negative-sampling update of one (context, centre) pair on this rank's columns.

    ``dots`` are the pair's full dots as all_reduced, ``local`` this rank's share of them
    as it sent them. The score used is ``dots - local + fresh``, ``fresh`` this rank's
    partial dot over its columns *now*: the other ranks' share stays as read, this rank's is
    current. On one rank that is exactly the sequential per-pair SGD of the hogwild kernel
    (``dots - local`` is 0); on N ranks 1/N of every score is fresh. Returns the pair's loss.
    """
    dim = syn0.shape[1]
    for k in range(dim):
        neu[k] = 0.0
    # As the hogwild kernel: with distinct output rows every fresh share can be read before
    # any row moves (the same arithmetic; the dot products then overlap in the CPU).
    distinct = _all_distinct(targets, count)
    if distinct:
        for d in range(count):
            scores[d] = _dot(syn0, row, syn1, targets[d], dim)
    loss = 0.0
    for d in range(count):
        t = targets[d]
        fresh = scores[d] if distinct else _dot(syn0, row, syn1, t, dim)
        # word2vec.c's rule, not the 1-rank default's (gensim's): a score with a stale share
        # can overshoot past |f| = 6 on the wrong side, and gensim's rule would then leave
        # that score alone for good. Measured on the 4.4M-word wiki text, 1 rank, last of 23
        # blocks, all stale: loss 11.9 with gensim's rule, 2.57 with this one (hogwild: 2.52).
        step, step_loss = _logistic_step(
            dots[d] - local[d] + fresh, 1.0 if d == 0 else 0.0, lr, sig, logsig
        )
        g = np.float32(step)
        loss += step_loss
        for k in range(dim):
            neu[k] += g * syn1[t, k]
            syn1[t, k] += g * syn0[row, k]
    for k in range(dim):
        syn0[row, k] += neu[k]
    return loss


@numba.njit(fastmath=True, cache=True, nogil=True)
def apply_chunk(
    n_pairs: int, ctx: np.ndarray, targets: np.ndarray, counts: np.ndarray, pos: np.ndarray,
    dots: np.ndarray, local: np.ndarray, syn0: np.ndarray, syn1: np.ndarray, sig: np.ndarray,
    logsig: np.ndarray, lr_start: float, lr_end: float, total: int,
) -> float:  # fmt: skip  # pragma: no cover - jitted
    """Apply the chunk's updates to this rank's columns; return the summed loss.

    ``dots`` (n, K+1) the all_reduced dots, ``local`` this rank's partial dots before the
    reduction (see `apply_pair`). The learning rate moves linearly across the block as in
    the hogwild kernel (per span).
    """
    neu = np.empty(syn0.shape[1], dtype=np.float32)
    scores = np.empty(targets.shape[1], dtype=np.float32)
    loss = 0.0
    denom = max(total, 1)
    for p in range(n_pairs):
        lr = lr_start + (lr_end - lr_start) * (pos[p] / denom)
        loss += apply_pair(ctx[p], targets[p], counts[p], dots[p], local[p], lr,
                           syn0, syn1, sig, logsig, neu, scores)  # fmt: skip
    return loss
