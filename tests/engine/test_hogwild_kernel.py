"""The compiled hogwild kernel against a centre-by-centre Python walk of word2vec's SGD."""

from __future__ import annotations

import numpy as np
import pytest

from embedrec.engine.skipgram.hogwild_kernel import (
    RULE_GENSIM_SGD,
    _clipped_logistic_step,
    train_block,
)
from embedrec.engine.skipgram.kernel_common import (
    draw_alias,
    lcg_next,
    seed_state,
    sigmoid_tables,
    subsample,
)
from embedrec.engine.skipgram.sampling_tables import keep_probabilities, negative_table

VOCAB, DIM, WINDOW, NEGATIVE, LR, SEED, STREAM = 40, 8, 3, 4, 0.05, 5, 9


def _corpus() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    ranks = np.arange(1, VOCAB + 1)
    tokens = rng.choice(VOCAB, size=1500, p=(1 / ranks) / (1 / ranks).sum()).astype(np.int32)
    offsets = np.arange(0, 1501, 25, dtype=np.int64)  # 60 sentences of 25 words
    counts = np.bincount(tokens, minlength=VOCAB).astype(np.int64) + 1
    return tokens, offsets, counts


def _next(state: np.uint64) -> np.uint64:
    return np.uint64(lcg_next(state))


def _reference(tokens, offsets, syn0, syn1, keep, prob, alias, shared):
    """word2vec's walk written plainly: per centre the window shrink, then (shared) the K
    negatives; per pair (not shared) fresh negatives; SGD with gensim's clipping."""
    sig, logsig = sigmoid_tables()
    state = np.uint64(seed_state(SEED, STREAM * 1024))
    buf = np.empty(10_000, dtype=np.int32)

    def draw(center: int, state: np.uint64) -> tuple[list[int], np.uint64]:
        targets = [center]
        for _ in range(NEGATIVE):
            state = _next(state)
            target = int(draw_alias(state, prob, alias))
            if target != center:
                targets.append(target)
        return targets, state

    for s in range(len(offsets) - 1):
        n, state = subsample(tokens, offsets[s], offsets[s + 1], keep, state, buf)
        state = np.uint64(state)
        for i in range(n):
            state = _next(state)
            shrink = (int(state) >> 33) % WINDOW
            if shared:
                targets, state = draw(int(buf[i]), state)
            for c in range(max(0, i - WINDOW + shrink), min(n, i + WINDOW - shrink + 1)):
                if c == i:
                    continue
                ctx = int(buf[c])
                if not shared:
                    targets, state = draw(int(buf[i]), state)
                neu = np.zeros(DIM, np.float32)
                for d, target in enumerate(targets):
                    f = np.float32(syn0[ctx] @ syn1[target])
                    label = 1.0 if d == 0 else 0.0
                    step, _ = _clipped_logistic_step(f, label, LR, True, sig, logsig)
                    g = np.float32(step)
                    neu += g * syn1[target]
                    syn1[target] += g * syn0[ctx]
                syn0[ctx] += neu


@pytest.mark.parametrize("shared", [True, False], ids=["shared-negatives", "per-pair"])
def test_the_kernel_walks_word2vecs_pairs_in_order(shared: bool) -> None:
    """Same draws in the same order (the kernel draws one centre ahead to prefetch its
    rows): the tables after one block match the plain walk to float rounding."""
    tokens, offsets, counts = _corpus()
    keep = keep_probabilities(counts, 1e-2)
    assert keep.min() < 1.0  # subsampling takes part in the walk
    prob, alias = negative_table(counts)
    start = (np.random.default_rng(1).random((VOCAB, DIM), dtype=np.float32) - 0.5) / DIM
    syn0, syn1 = start.copy(), np.zeros((VOCAB, DIM), np.float32)
    ref0, ref1 = start.copy(), np.zeros((VOCAB, DIM), np.float32)
    empty, no_history = np.zeros((0, DIM), np.float32), np.zeros(0, np.float32)
    no_tree = (np.zeros((1, 1), np.int8), np.zeros((1, 1), np.int32), np.zeros(1, np.int32))
    sig, logsig = sigmoid_tables()

    _, pairs, _ = train_block(
        tokens, offsets, syn0, syn1, empty, keep, prob, alias, *no_tree, sig, logsig,
        WINDOW, NEGATIVE, False, shared, LR, LR, SEED, STREAM, 1,
        RULE_GENSIM_SGD, no_history, no_history,
    )  # fmt: skip
    _reference(tokens, offsets, ref0, ref1, keep, prob, alias, shared)

    assert pairs > 1000
    assert np.abs(syn1 - ref1).max() < 1e-5
    assert np.abs(syn0 - ref0).max() < 1e-5
