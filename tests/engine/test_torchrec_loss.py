"""The torchrec kernel's compiled CPU loss against its torch version, on the same bags."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from embedrec.engine.skipgram.model import CONTEXT, WORD
from embedrec.engine.skipgram.torchrec_step import TorchRecSkipGramStep, _Batch, _filled


def _step(negative: int, width: int) -> TorchRecSkipGramStep:
    """A step with only what the two loss paths read (no tables: they take the rows given)."""
    step = TorchRecSkipGramStep.__new__(TorchRecSkipGramStep)
    step.negative, step.bags_per_window, step.tree = negative, width, None
    step.device = torch.device("cpu")
    step._labels = torch.zeros(1, 1, width)
    step._labels[..., 0] = 1.0
    step._grad, step._dirty = None, None
    return step


def _batch(n: int, negative: int, width: int, rng: np.random.Generator) -> _Batch:
    contexts = rng.integers(0, width + 1, size=n)
    contexts[-2:] = 0  # padding windows: no contexts
    centers = rng.integers(1, 20, size=n)
    negatives = rng.integers(0, 20, size=(n, negative))
    negatives[0, 0] = centers[0]  # a negative that is the centre is not scored
    is_real = np.ones(n, np.int64)
    is_real[-2:] = 0
    lengths = [_filled(contexts, width), _filled(is_real * (1 + negative), width)]
    return _Batch([WORD, CONTEXT], [], lengths, centers, negatives, int(contexts.sum()))


@pytest.mark.parametrize("keys", [[WORD, CONTEXT], [CONTEXT, WORD]])
def test_the_compiled_loss_is_the_torch_loss(keys) -> None:
    """``keys``: the features' order in the pooled rows (the lookup's, not the batch's)."""
    negative, width, dim, n = 5, 10, 12, 64
    rng = np.random.default_rng(0)
    step = _step(negative, width)
    batch = _batch(n, negative, width, rng)
    values = torch.from_numpy(rng.normal(0, 0.8, (n * width, 2 * dim)).astype(np.float32))
    assert step._compiled_loss(values)
    for _ in range(2):  # the second step reuses the gradient buffer of the first
        grad, loss = step._loss_compiled(values, keys, batch)
        expected_grad, expected_loss = step._loss_in_torch(values, keys, batch)
        assert loss == pytest.approx(expected_loss, rel=1e-5)
        np.testing.assert_allclose(grad.numpy(), expected_grad.view_as(values).numpy(), atol=1e-5)
        assert np.count_nonzero(grad.numpy()) > 0
        step._clear_grad()  # as `run` does after the backward
        assert not np.any(grad.numpy()), "the reused buffer must be all zero again"
        # another batch next: fewer or more contexts per window, other negatives — nothing
        # of this step's gradient may remain in the rows the next one leaves empty
        batch = _batch(n, negative, width, rng)
        values = torch.from_numpy(rng.normal(0, 0.8, (n * width, 2 * dim)).astype(np.float32))
