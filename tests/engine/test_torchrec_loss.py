"""The torchrec kernel's compiled CPU loss (span layout) against its torch version (padded
layout), on the same windows: the same loss and the same gradient for every table row."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from embedrec.engine.skipgram.model import CONTEXT, WORD
from embedrec.engine.skipgram.torchrec_step import TorchRecSkipGramStep, _Batch
from embedrec.engine.skipgram.window_batches import Windows, build_windows

VOCAB = 30


def _step(negative: int, window: int, batch_size: int) -> TorchRecSkipGramStep:
    """A step with what batching and the two loss paths read (no tables: rows are given)."""
    step = TorchRecSkipGramStep.__new__(TorchRecSkipGramStep)
    step.negative, step.tree, step.batch_size = negative, None, batch_size
    step.bags_per_window = max(2 * window, 1 + negative)
    step.span_stride = max(batch_size * (1 + negative), batch_size + 2 * window)
    step.neg_prob = np.full(VOCAB, 1.0)
    step.neg_alias = np.arange(VOCAB, dtype=np.int64)
    step.device = torch.device("cpu")
    step._labels = torch.zeros(1, 1, step.bags_per_window)
    step._labels[..., 0] = 1.0
    return step


def _windows(window: int, rng: np.random.Generator) -> Windows:
    lengths = rng.integers(1, 12, size=40)  # some one-word sentences: no windows there
    tokens = rng.integers(0, VOCAB, size=int(lengths.sum())).astype(np.int32)
    offsets = np.concatenate([[0], np.cumsum(lengths)])
    return build_windows(tokens, offsets, np.ones(VOCAB), window=window, seed=3, stream=1)


def _rows(batch: _Batch, keys: list[str], tables: dict[str, np.ndarray]) -> torch.Tensor:
    """The pooled lookup of ``batch``: each bag's row, an empty bag's zero."""
    dim = tables[WORD].shape[1]
    lengths = batch.lengths.reshape(len(batch.keys), -1)
    rows = np.zeros((lengths.shape[1], len(keys) * dim), np.float32)
    ids = np.split(batch.values, np.cumsum(lengths.sum(axis=1))[:-1])
    for key, bags, feature_ids in zip(batch.keys, lengths, ids, strict=True):
        column = keys.index(key) * dim
        rows[np.flatnonzero(bags), column : column + dim] = tables[key][feature_ids]
    return torch.from_numpy(rows)


def _table_grads(batch: _Batch, keys: list[str], grad: torch.Tensor) -> dict[str, np.ndarray]:
    """What the TBE backward does with a pooled gradient: sum it per table row."""
    dim = grad.shape[1] // len(keys)
    lengths = batch.lengths.reshape(len(batch.keys), -1)
    ids = np.split(batch.values, np.cumsum(lengths.sum(axis=1))[:-1])
    out = {}
    for key, bags, feature_ids in zip(batch.keys, lengths, ids, strict=True):
        column = keys.index(key) * dim
        table = np.zeros((VOCAB, dim), np.float32)
        np.add.at(table, feature_ids, grad.numpy()[np.flatnonzero(bags), column : column + dim])
        out[key] = table
    return out


@pytest.mark.parametrize("keys", [[WORD, CONTEXT], [CONTEXT, WORD]])
@pytest.mark.parametrize(("window", "start", "stop"), [(2, 0, 24), (3, 5, 40), (5, 0, 200)])
def test_the_compiled_loss_is_the_torch_loss(keys, window, start, stop) -> None:
    """``keys``: the features' order in the pooled rows (the lookup's, not the batch's).
    Steps with padding windows (``stop - start`` < the batch of 32) and a full one."""
    negative, dim = 5, 12
    rng = np.random.default_rng(window)
    windows = _windows(window, rng)
    stop = min(stop, len(windows))
    step = _step(negative, window, batch_size=32 if stop - start < 32 else stop - start)
    tables = {key: rng.normal(0, 0.8, (VOCAB, dim)).astype(np.float32) for key in keys}

    step.span_layout = False
    padded = step._batch(windows, start, stop, seed=7, stream=2)
    expected_grad, expected_loss = step._loss_in_torch(_rows(padded, keys, tables), keys, padded)
    step.span_layout = True
    span = step._batch(windows, start, stop, seed=7, stream=2)
    values = _rows(span, keys, tables)
    grad, loss = step._loss_compiled(values, keys, span)

    assert span.pairs == padded.pairs > 0
    assert loss == pytest.approx(expected_loss, rel=1e-5)
    assert grad.data_ptr() == values.data_ptr(), "the gradient is written over the rows"
    got = _table_grads(span, keys, grad)
    want = _table_grads(padded, keys, expected_grad.view(-1, len(keys) * dim))
    for key in keys:
        np.testing.assert_allclose(got[key], want[key], atol=2e-5)
        assert np.count_nonzero(got[key]) > 0


def test_the_span_looks_each_input_row_up_once() -> None:
    """The point of the layout: fewer word bags than (window, context) pairs, no output
    bags for padding windows."""
    window, negative = 5, 5
    windows = _windows(window, np.random.default_rng(0))
    step = _step(negative, window, batch_size=64)
    step.span_layout = True
    batch = step._batch(windows, 0, 50, seed=1, stream=0)
    assert batch.span <= 50 + 2 * window < batch.pairs
    assert batch.lengths.shape == (2, step.span_stride)
    assert batch.lengths[0].sum() == batch.span
    assert batch.lengths[1].sum() == 50 * (1 + negative)
