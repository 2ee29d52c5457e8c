"""The torchrec kernel's compiled CPU loss against its torch version, on the same bags."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from embedrec.engine.skipgram.model import CONTEXT, WORD
from embedrec.engine.skipgram.torchrec_step import TorchRecSkipGramStep, _Batch, _filled

_NO_IDS = np.zeros(0, np.int64)  # the loss paths read the rows given, never the ids


def _step(negative: int, width: int) -> TorchRecSkipGramStep:
    """A step with only what the two loss paths read (no tables: they take the rows given)."""
    step = TorchRecSkipGramStep.__new__(TorchRecSkipGramStep)
    step.negative, step.bags_per_window, step.tree = negative, width, None
    step.device = torch.device("cpu")
    step._labels = torch.zeros(1, 1, width)
    step._labels[..., 0] = 1.0
    return step


def _batch(n: int, negative: int, width: int, rng: np.random.Generator) -> _Batch:
    contexts = rng.integers(0, width + 1, size=n)
    contexts[-2:] = 0  # padding windows: no contexts
    centers = rng.integers(1, 20, size=n)
    negatives = rng.integers(0, 20, size=(n, negative))
    negatives[0, 0] = centers[0]  # a negative that is the centre is not scored
    is_real = np.ones(n, np.int64)
    is_real[-2:] = 0
    lengths = np.stack([_filled(contexts, width), _filled(is_real * (1 + negative), width)])
    return _Batch([WORD, CONTEXT], _NO_IDS, lengths, centers, negatives, int(contexts.sum()))


def _pooled(batch: _Batch, keys: list[str], dim: int, rng: np.random.Generator) -> np.ndarray:
    """Random rows as a pooled lookup gives them: an empty bag's row is zero."""
    rows = rng.normal(0, 0.8, (batch.lengths[0].size, len(keys) * dim)).astype(np.float32)
    for key, lengths in zip(batch.keys, batch.lengths, strict=True):
        column = keys.index(key) * dim
        rows[lengths.ravel() == 0, column : column + dim] = 0.0
    return rows


@pytest.mark.parametrize("keys", [[WORD, CONTEXT], [CONTEXT, WORD]])
def test_the_compiled_loss_is_the_torch_loss(keys) -> None:
    """``keys``: the features' order in the pooled rows (the lookup's, not the batch's)."""
    negative, width, dim, n = 5, 10, 12, 64
    rng = np.random.default_rng(0)
    step = _step(negative, width)
    batch = _batch(n, negative, width, rng)
    values = torch.from_numpy(_pooled(batch, keys, dim, rng))
    assert step._compiled_loss(values)
    expected_grad, expected_loss = step._loss_in_torch(values, keys, batch)
    grad, loss = step._loss_compiled(values, keys, batch)
    assert loss == pytest.approx(expected_loss, rel=1e-5)
    np.testing.assert_allclose(grad.numpy(), expected_grad.view_as(values).numpy(), atol=1e-5)
    assert grad.data_ptr() == values.data_ptr(), "the gradient is written over the rows"
    assert np.count_nonzero(grad.numpy()) > 0


def test_a_window_without_contexts_gets_zero_gradients() -> None:
    """Its centre and negatives were looked up (their rows are not zero) but never scored."""
    negative, width, dim = 2, 4, 3
    step = _step(negative, width)
    lengths = np.stack([_filled(np.array([0]), width), _filled(np.array([1 + negative]), width)])
    batch = _Batch([WORD, CONTEXT], _NO_IDS, lengths, np.array([4]), np.array([[7, 8]]), 0)
    values = torch.zeros(width, 2 * dim)
    values[: 1 + negative, dim:] = 0.5
    grad, loss = step._loss_compiled(values, [WORD, CONTEXT], batch)
    assert loss == 0.0
    assert not np.any(grad.numpy())
