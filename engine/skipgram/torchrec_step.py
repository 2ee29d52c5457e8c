"""One skip-gram step through TorchRec: KJT lookups, the loss in torch, fused SGD in backward.

The step takes a slice of `Windows` (see `embedrec.engine.skipgram.window_batches`) and builds one
KeyedJaggedTensor whose features are the tables' inputs::

    word     the context words of every window            lengths: contexts per window
    context  the centre, then K negatives per window       lengths: 1 + K
    node     the centre's Huffman path (with hs)           lengths: code length

e.g. two windows (centre 7 with contexts [3, 9], centre 2 with [7]) and K = 2::

    word:    [3, 9 | 7]             lengths [2, 1]
    context: [7, 41, 5 | 2, 11, 8]  lengths [3, 3]

Scores are a batched matrix product [N, M, d] × [N, d, 1+K] (M = 2·window, padded and
masked); the loss is the sum of logistic losses. The fused optimizer (row-wise Adagrad by
default, see `embedrec.engine.skipgram.config`) then updates every row looked up.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from embedrec.engine.skipgram.model import CONTEXT, NODE, WORD, SkipGramTables
from embedrec.engine.skipgram.sampling_tables import HuffmanTree
from embedrec.engine.skipgram.window_batches import Windows, draw_negatives


@dataclass(frozen=True)
class StepResult:
    loss: float  # summed logistic loss over every scored output
    pairs: int  # (context, centre) pairs trained


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

    def run(self, windows: Windows, start: int, stop: int, seed: int, stream: int) -> StepResult:
        """Train on windows ``start:stop``; an empty range still joins the collectives.

        Every step has exactly ``batch_size`` windows (padded with context-less windows that
        contribute nothing), because TorchRec's all-to-alls expect the same batch on every
        rank.
        """
        from torchrec import KeyedJaggedTensor

        real = stop - start
        n = max(self.batch_size, real)
        pad = np.zeros(n - real, dtype=np.int64)
        centers = np.concatenate([windows.centers[start:stop], pad])
        ctx_lo, ctx_hi = windows.context_offsets[start], windows.context_offsets[stop]
        contexts = windows.contexts[ctx_lo:ctx_hi]
        ctx_lengths = np.concatenate([np.diff(windows.context_offsets[start : stop + 1]), pad])

        keys = [WORD]
        values = [contexts]
        lengths = [ctx_lengths]
        negatives = None
        if self.negative > 0:
            negatives = draw_negatives(
                n, self.negative, self.neg_prob, self.neg_alias, seed, stream
            )
            keys.append(CONTEXT)
            values.append(np.concatenate([centers[:, None], negatives], axis=1).reshape(-1))
            lengths.append(np.full(n, 1 + self.negative, dtype=np.int64))
        if self.tree is not None:
            path_lengths = self.tree.lengths[centers].astype(np.int64)
            path_lengths[real:] = 0
            mask = np.arange(self.tree.points.shape[1])[None, :] < path_lengths[:, None]
            keys.append(NODE)
            values.append(self.tree.points[centers][mask].astype(np.int64))
            lengths.append(path_lengths)

        kjt = KeyedJaggedTensor.from_lengths_sync(
            keys=keys,
            values=torch.from_numpy(np.concatenate(values)),
            lengths=torch.from_numpy(np.concatenate(lengths)),
        ).to(self.device)
        out = self.tables.dmp(kjt)

        ctx_len_t = torch.from_numpy(ctx_lengths).to(self.device)
        inputs, ctx_mask = _pad(out[WORD].values(), ctx_len_t, n, self.max_contexts)
        loss = inputs.sum() * 0.0  # keeps every lookup in the graph, also for n == 0
        if negatives is not None:
            outputs = out[CONTEXT].values().view(n, 1 + self.negative, -1)
            scores = torch.bmm(inputs, outputs.transpose(1, 2))  # [n, M, 1+K]
            labels = torch.zeros_like(scores)
            labels[:, :, 0] = 1.0
            # word2vec skips a negative that happens to be the centre itself.
            keep_neg = torch.ones(n, 1 + self.negative, device=self.device)
            keep_neg[:, 1:] = torch.from_numpy(negatives != centers[:, None]).to(keep_neg)
            weight = ctx_mask[:, :, None] * keep_neg[:, None, :]
            loss = loss + F.binary_cross_entropy_with_logits(
                scores, labels, weight=weight, reduction="sum"
            ) + outputs.sum() * 0.0  # fmt: skip
        if self.tree is not None:
            nodes, node_mask = _pad(
                out[NODE].values(),
                torch.from_numpy(path_lengths).to(self.device),
                n,
                self.tree.points.shape[1],
            )
            codes = torch.from_numpy(self.tree.codes[centers].astype(np.float32)).to(self.device)
            scores = torch.bmm(inputs, nodes.transpose(1, 2))  # [n, M, L]
            labels = (1.0 - codes)[:, None, :].expand_as(scores)
            weight = ctx_mask[:, :, None] * node_mask[:, None, :]
            loss = loss + F.binary_cross_entropy_with_logits(
                scores, labels, weight=weight, reduction="sum"
            ) + nodes.sum() * 0.0  # fmt: skip
        loss.backward()
        return StepResult(loss=float(loss.detach()), pairs=int(ctx_lengths.sum()))


def _pad(
    values: torch.Tensor, lengths: torch.Tensor, n: int, width: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """Jagged rows [sum(lengths), d] → padded [n, width, d] and a float mask [n, width]."""
    dim = values.shape[-1]
    mask = torch.arange(width, device=values.device)[None, :] < lengths[:, None]
    flat_index = torch.nonzero(mask.reshape(-1), as_tuple=True)[0]
    padded = values.new_zeros(n * width, dim).index_copy(0, flat_index, values)
    return padded.view(n, width, dim), mask.to(values.dtype)
