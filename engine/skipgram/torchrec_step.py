"""One skip-gram step through TorchRec: pooled lookups of one-id bags, the loss's gradient
written by hand, the optimizer fused into the TBE backward.

The step takes a slice of `Windows` (see `skipgram.window_batches`), n windows padded to
``batch_size``, and builds one KeyedJaggedTensor over the EmbeddingBagCollection's features.
Every bag holds one id or none, so the pooled output [bags, F·d] holds one looked-up row per
bag (an empty bag pools to a zero row). Two layouts:

**Padded** (GPU, ``--hs``): every feature has W bags per window, W = max(2·window, 1+K, L),
so that the pooled output [n·W, F·d] *is* the padded tensor the torch loss needs and each
feature is a view of it, [n, W, d]::

    word     bag (i, j) = context j of window i, or empty
    context  bag (i, j) = the centre (j = 0), then negative j of window i; empty for j > K
    node     bag (i, j) = node j of the centre's Huffman path (with hs)

e.g. two windows (centre 7 with contexts [3, 9], centre 2 with [7]), window 1 and K = 2,
so W = 3::

    word:    [3, 9 | 7]            lengths [1, 1, 0 | 1, 0, 0]
    context: [7, 41, 5 | 2, 11, 8] lengths [1, 1, 1 | 1, 1, 1]

Scores are one batched matrix product [n, W, d] × [n, d, W]; the loss is the sum of
logistic losses over real (context, output) pairs (a 0/1 weight masks the rest).

**Span** (CPU, negative sampling): the word feature looks up the run of centres the
windows' contexts come from, once each, the context feature K+1 bags a window
(`window_batches.span_bags`); the compiled loss (`torchrec_loss`) reads the contexts
through each window's range. A kept word is a context of up to 2·window centres, so this
looks up and updates ~6 times fewer input rows than the padded layout, for the same pairs.

The fused optimizer (row-wise Adagrad by default, see `skipgram.config`) then updates every
row looked up, and only those: the TBE backward visits ids, not empty bags, and sums a
row's gradients over its bags.
"""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from typing import Any

import numba
import numpy as np
import torch
import torch.nn.functional as F
from torch.profiler import record_function

from embedrec.engine.skipgram.model import CONTEXT, NODE, WORD, SkipGramTables
from embedrec.engine.skipgram.sampling_tables import HuffmanTree
from embedrec.engine.skipgram.torchrec_loss import span_logistic_pairs
from embedrec.engine.skipgram.window_batches import (
    Windows,
    draw_negatives,
    one_id_bags,
    span_bags,
)


def phase(name: str) -> AbstractContextManager[Any]:
    """A torch.profiler label while a profiler runs, else nothing: an unobserved
    ``record_function`` still costs ~8 µs, ~1% of a CPU step at five labels a step."""
    if torch.autograd._profiler_enabled():
        return record_function(name)
    return nullcontext()


@dataclass(frozen=True)
class StepResult:
    loss: float  # summed logistic loss over every scored output
    pairs: int  # (context, centre) pairs trained


@dataclass(frozen=True)
class _Batch:
    """One step's bags as numpy arrays, a KeyedJaggedTensor's values and lengths."""

    keys: list[str]
    values: np.ndarray  # int64: every feature's ids, feature after feature
    lengths: np.ndarray  # int32, 1 where a bag holds an id: (F, n, width) padded, (F, bags) span
    centers: np.ndarray  # int64 (n,), 0 for padding windows
    negatives: np.ndarray | None  # int64 (n, K)
    pairs: int
    local: np.ndarray | None = None  # span layout: (real, 3) context ranges (`span_bags`)
    span: int = 0  # span layout: the word feature's looked-up bags


class TorchRecSkipGramStep:
    """Runs steps for one configuration (negative count, optional Huffman tree)."""

    def __init__(
        self,
        tables: SkipGramTables,
        *,
        negative: int,
        window: int,
        neg_prob: np.ndarray,
        neg_alias: np.ndarray,
        tree: HuffmanTree | None,
        batch_size: int,
    ) -> None:
        self.tables = tables
        self.batch_size = batch_size
        self.negative = negative
        self.max_contexts = 2 * window
        self.neg_prob = neg_prob
        self.neg_alias = neg_alias
        self.tree = tree
        self.device = tables.ctx.device
        widths = [self.max_contexts, 1 + negative if negative else 0]
        widths.append(tree.points.shape[1] if tree is not None else 0)
        self.bags_per_window = max(widths)
        # The compiled loss needs the span layout, negative sampling alone on a CPU.
        self.span_layout = tree is None and negative > 0 and self.device.type == "cpu"
        # Bags per feature in the span layout: the windows' outputs, or a span of at most
        # n centres and a window's reach on either side.
        self.span_stride = max(batch_size * (1 + negative), batch_size + 2 * window)
        labels = torch.zeros(1, 1, self.bags_per_window, device=self.device)
        labels[..., 0] = 1.0
        self._labels = labels  # broadcast over [n, W, W] scores: the centre is the positive

    def run(self, windows: Windows, start: int, stop: int, seed: int, stream: int) -> StepResult:
        """Train on windows ``start:stop``; an empty range still joins the collectives.

        Every step has exactly ``batch_size`` windows (padded with context-less windows that
        contribute nothing), because TorchRec's all-to-alls expect the same batch on every
        rank.
        """
        # The phases are labelled for torch.profiler (bench/torchrec_step_profile.py).
        with phase("skipgram.batch"):
            batch = self._batch(windows, start, stop, seed, stream)
        with phase("skipgram.lookup"):
            keys, values = self._lookup(batch)  # [bags, F·d]: the one tensor autograd sees
        with torch.no_grad(), phase("skipgram.loss"):
            # The loss's gradient is written by hand, shaped like the pooled output (on the
            # CPU over the output itself): autograd through per-feature slices and bmm's
            # backward spent more time zero-filling, stacking and cloning than the TBE spent
            # on its lookups.
            if self.span_layout:
                grad, loss = self._loss_compiled(values, keys, batch)
            else:
                grad, loss = self._loss_in_torch(values, keys, batch)
        with phase("skipgram.backward"):
            values.backward(grad.view_as(values))
        return StepResult(loss=loss, pairs=batch.pairs)

    def _loss_compiled(
        self, values: torch.Tensor, keys: list[str], batch: _Batch
    ) -> tuple[torch.Tensor, float]:
        """The loss over span-layout rows, which are overwritten with their own gradient.

        TorchRec pools into contiguous fp32 rows whatever the tables' precision (fp16 too).
        """
        assert batch.negatives is not None and batch.local is not None
        rows = values.detach()
        assert rows.dtype == torch.float32 and rows.is_contiguous(), (rows.dtype, rows.stride())
        dim = rows.shape[1] // len(keys)
        real = batch.local.shape[0]
        loss = span_logistic_pairs(
            rows.numpy(), keys.index(WORD) * dim, keys.index(CONTEXT) * dim, dim,
            batch.local, batch.centers[:real], batch.negatives, batch.span,
            numba.get_num_threads(),
        )  # fmt: skip
        return rows, float(loss)

    def _loss_in_torch(
        self, values: torch.Tensor, keys: list[str], batch: _Batch
    ) -> tuple[torch.Tensor, float]:
        n, width = batch.centers.shape[0], self.bags_per_window
        pooled_rows = values.detach().view(n, width, len(batch.keys), -1)
        grad = torch.zeros_like(pooled_rows)
        column = {key: index for index, key in enumerate(keys)}
        inputs = _dense(pooled_rows[:, :, column[WORD]])  # [n, W, d], rows ≥ M are empty
        ctx_mask = self._mask(batch.lengths[0])[:, :, None]
        loss = 0.0
        if batch.negatives is not None:
            weight = self._negative_weight(batch)
            labels = self._labels[..., : 1 + self.negative]
            columns = (column[WORD], column[CONTEXT])
            loss += self._logistic(pooled_rows, grad, columns, inputs, weight, labels)
        if self.tree is not None:
            length = self.tree.points.shape[1]
            codes = torch.from_numpy(self.tree.codes[batch.centers].astype(np.float32))
            weight = ctx_mask * self._mask(batch.lengths[-1][:, :length])[:, None]
            labels = 1.0 - codes.to(self.device)[:, None, :]
            columns = (column[WORD], column[NODE])
            loss += self._logistic(pooled_rows, grad, columns, inputs, weight, labels)
        return grad, loss

    def _negative_weight(self, batch: _Batch) -> torch.Tensor:
        """[n, W, 1+K] 1 where (context c, output j) of window i is scored, else 0."""
        assert batch.negatives is not None
        keep = batch.lengths[1][:, : 1 + self.negative].astype(np.float32)
        # word2vec skips a negative that happens to be the centre itself.
        keep[:, 1:] *= batch.negatives != batch.centers[:, None]
        return self._mask(batch.lengths[0])[:, :, None] * self._mask(keep)[:, None]

    def _logistic(
        self,
        pooled_rows: torch.Tensor,
        grad: torch.Tensor,
        columns: tuple[int, int],
        inputs: torch.Tensor,
        weight: torch.Tensor,
        labels: torch.Tensor,
    ) -> float:
        """Logistic loss of every context against the first ``w`` bags of one feature.

        ``columns``: the word feature's and the output feature's index in the pooled rows.

        ``weight`` [n, W, w] (0 where a context or an output is missing), ``labels``
        broadcastable to it. Adds the loss's gradient to ``grad`` (inputs' rows and the
        feature's rows) and returns the summed loss.
        """
        word, feature = columns
        width = weight.shape[-1]
        outputs = _dense(pooled_rows[:, :width, feature])  # [n, w, d]
        scores = torch.bmm(inputs, outputs.transpose(1, 2))  # [n, W, w]
        labels = labels.expand_as(scores)
        dscores = (torch.sigmoid(scores) - labels) * weight
        grad[:, :, word] += torch.bmm(dscores, outputs)
        grad[:, :width, feature] += torch.bmm(dscores.transpose(1, 2).contiguous(), inputs)
        loss = F.binary_cross_entropy_with_logits(scores, labels, weight=weight, reduction="sum")
        return float(loss)

    def _lookup(self, batch: _Batch) -> tuple[list[str], torch.Tensor]:
        """The step's rows as one [bags, F·d] tensor in autograd, and its features in order.

        Pooled tables give it directly; sequence tables (row-wise plans on CPU) give each
        feature's looked-up rows only, placed here into their bags (zeros elsewhere).
        """
        out: Any = self.tables.dmp(self._kjt(batch))
        if self.tables.bags:
            return list(out.keys()), out.values()
        padded = []
        for key, lengths in zip(batch.keys, batch.lengths, strict=True):
            rows = out[key].values()
            where = torch.from_numpy(np.flatnonzero(lengths.ravel())).to(rows.device)
            padded.append(rows.new_zeros(lengths.size, rows.shape[-1]).index_copy(0, where, rows))
        return batch.keys, torch.cat(padded, dim=1)

    def _mask(self, lengths: np.ndarray) -> torch.Tensor:
        """(n, width) 0/1 lengths (or weights) as a float tensor on the device."""
        return torch.from_numpy(lengths).to(self.device, torch.float32)

    def _batch(self, windows: Windows, start: int, stop: int, seed: int, stream: int) -> _Batch:
        """Cut windows ``start:stop`` (padded to ``batch_size``) into one-id bags."""
        real = stop - start
        n = max(self.batch_size, real)
        centers = np.zeros(n, dtype=np.int64)
        centers[:real] = windows.centers[start:stop]
        pairs = int(windows.context_offsets[stop] - windows.context_offsets[start])
        negatives = None
        if self.negative > 0:
            negatives = draw_negatives(
                n, self.negative, self.neg_prob, self.neg_alias, seed, stream
            )
        if self.span_layout:
            assert negatives is not None
            values, lengths, local, span = span_bags(
                windows.centers, windows.ranges, start, stop, self.span_stride, negatives
            )
            return _Batch([WORD, CONTEXT], values, lengths, centers, negatives, pairs, local, span)
        keys = [WORD] if negatives is None else [WORD, CONTEXT]
        width = self.bags_per_window
        values, lengths = one_id_bags(
            windows.centers, windows.context_offsets, windows.contexts, start, stop, n, width,
            negatives if negatives is not None else np.zeros((n, 0), np.int64),
            negatives is not None,
        )  # fmt: skip
        if self.tree is not None:
            path_lengths = self.tree.lengths[centers].astype(np.int64)
            path_lengths[real:] = 0
            node_lengths = _filled(path_lengths, width)
            points = self.tree.points[centers]
            nodes = points[node_lengths[:, : points.shape[1]].astype(bool)].astype(np.int64)
            keys.append(NODE)
            values = np.concatenate([values, nodes])
            lengths = np.concatenate([lengths, node_lengths[None].astype(np.int32)])
        return _Batch(keys, values, lengths, centers, negatives, pairs)

    def _kjt(self, batch: _Batch) -> object:
        """The KJT of one step: every feature has as many bags (``n · bags_per_window``, or
        ``span_stride`` in the span layout).

        The ids per feature are known here, so they are passed: TorchRec would otherwise
        sum the lengths per key on the device and read the sums back (a GPU sync a step).
        """
        from torchrec import KeyedJaggedTensor

        per_key = batch.lengths.reshape(len(batch.keys), -1).sum(axis=1).tolist()
        return KeyedJaggedTensor(
            keys=batch.keys,
            values=torch.from_numpy(batch.values),
            lengths=torch.from_numpy(batch.lengths.ravel()),
            stride=batch.lengths[0].size,
            length_per_key=per_key,
            offset_per_key=[0, *np.cumsum(per_key).tolist()],
        ).to(self.device)


def _dense(rows: torch.Tensor) -> torch.Tensor:
    """A strided view of pooled rows as a contiguous float32 tensor (bmm's fast path)."""
    return rows.to(torch.float32).contiguous()


def _filled(counts: np.ndarray, width: int) -> np.ndarray:
    """(n, width) int64 lengths: row i has ``counts[i]`` ones, then zeros."""
    return (np.arange(width)[None, :] < counts[:, None]).astype(np.int64)
