"""Column-sharded skip-gram: the compiled kernel on every rank, partial dots all_reduced.

Every rank trains the *same* block (not one block per rank): it walks the block with the
same random stream, so all ranks draw the same pairs; each computes the dot products of a
chunk of pairs over its own columns, one ``all_reduce`` per chunk sums them, and each rank
then applies word2vec's update to its own columns. Only ``4 · (K + 1)`` bytes per pair cross
the network, whatever the dim (Ordentlich et al., CIKM 2016).

Overlap (double-buffered chunks)::

    fill+dots(k) → all_reduce(k) async ─┐
    wait(k-1), apply(k-1)               │  overlaps the reduction of chunk k
    fill+dots(k+1) → all_reduce(k+1) ...┘

Staleness: a pair's score is the all_reduced dot with this rank's own share recomputed
just before the update (`embedrec.engine.skipgram.column_kernel.apply_pair`), so only the
other ranks' (N-1)/N of it is old: computed before the updates of the earlier pairs of its
own chunk and of the whole previous chunk — a minibatch of up to two chunks
(`default_chunk_pairs`: 4,096 pairs ≈ 1,200 centre words on 2 ranks, 512 on 4). The
1-rank hogwild kernel with T threads reads rows that the other T-1 threads are writing, an
unordered staleness of the same kind. Reading the scores is the only difference; the
update arithmetic is the hogwild kernel's.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass

import numpy as np
import torch
import torch.distributed as dist

from embedrec.engine.errors import EngineError
from embedrec.engine.skipgram.column_kernel import apply_chunk, fill_and_dot, new_cursor
from embedrec.engine.skipgram.column_plan import local_columns
from embedrec.engine.skipgram.config import SkipGramConfig
from embedrec.engine.skipgram.corpus_blocks import Block
from embedrec.engine.skipgram.kernel_common import sigmoid_tables
from embedrec.engine.skipgram.model import CONTEXT, WORD, SkipGramTables
from embedrec.engine.skipgram.runners import BlockPlan, StepOutcome


def default_chunk_pairs(world_size: int) -> int:
    """Pairs per all_reduce on ``world_size`` ranks: 4,096 on 2, 512 on 4, at least 256.

    Each all_reduce costs ~1 ms over gloo here whatever its size, so chunks should be large;
    a chunk's scores are stale by (N-1)/N (`column_kernel.apply_pair` keeps this rank's 1/N
    fresh), so they must shrink as N grows. Replayed in one process (4M-word wiki text,
    double-buffered, sample 1e-3, first epoch): 2 ranks stayed bounded at 8,192 pairs,
    4 ranks diverged at 2,048 and 8,192 and stayed bounded at 1,024 (before the fresh share,
    2 ranks diverged at 512 with sample 1e-3). On held-out text (the last 4M words, 3
    epochs, sample 1e-4) 4 ranks at 1,024 ended 2.97% above one rank's loss, on the 3%
    bound; at 512, 2.45% — hence 1/N³, not 1/N² (docs/cluster.md).
    """
    return max(256, 32_768 // max(world_size, 1) ** 3)


@dataclass
class CommCounter:
    """What this rank handed to all_reduce: calls and payload bytes.

    Bytes on the wire per rank for a ring all_reduce of ``payload`` bytes are
    ``2 · (N − 1) / N · payload`` (reduce-scatter then all-gather); `wire_bytes` says so.
    """

    world_size: int
    calls: int = 0
    payload_bytes: int = 0

    def add(self, nbytes: int) -> None:
        self.calls += 1
        self.payload_bytes += nbytes

    @property
    def wire_bytes(self) -> float:
        n = self.world_size
        return 2.0 * (n - 1) / n * self.payload_bytes if n > 1 else 0.0

    def to_dict(self) -> dict[str, float]:
        return {**asdict(self), "wire_bytes_per_rank": self.wire_bytes}


@dataclass
class _Chunk:
    """One buffer of pairs and their dots (two of these alternate)."""

    ctx: np.ndarray
    targets: np.ndarray
    counts: np.ndarray
    pos: np.ndarray
    dots: np.ndarray  # this rank's partial dots, then (all_reduced in place) the full dots
    local: np.ndarray  # this rank's partial dots, kept for `apply_pair`'s fresh share
    n: int = 0
    work: object | None = None

    @classmethod
    def allocate(cls, pairs: int, width: int) -> _Chunk:
        return cls(
            ctx=np.zeros(pairs, np.int64),
            targets=np.zeros((pairs, width), np.int64),
            counts=np.zeros(pairs, np.int64),
            pos=np.zeros(pairs, np.int64),
            dots=np.zeros((pairs, width), np.float32),
            local=np.zeros((pairs, width), np.float32),
        )


class ColumnRunner:
    """The compiled kernel over this rank's columns; one all_reduce of partial dots per chunk."""

    name = "column"

    def __init__(
        self,
        tables: SkipGramTables,
        config: SkipGramConfig,
        *,
        keep: np.ndarray,
        neg_prob: np.ndarray,
        neg_alias: np.ndarray,
        chunk_pairs: int | None = None,
    ) -> None:
        if config.negative < 1 or config.hs:
            raise EngineError("the column kernel trains negative sampling only (--negative > 0)")
        pieces = local_columns(tables)
        self.syn0 = pieces[WORD][0].detach().numpy()
        self.syn1 = pieces[CONTEXT][0].detach().numpy()
        for array in (self.syn0, self.syn1):
            if array.dtype != np.float32 or not array.flags.c_contiguous:
                raise EngineError("the column kernel needs contiguous float32 shards")
        self.columns = (pieces[WORD][1], pieces[WORD][1] + self.syn0.shape[1])
        self.config = config
        self.world_size = tables.ctx.world_size
        self.keep, self.neg_prob, self.neg_alias = keep, neg_prob, neg_alias
        self.sig, self.logsig = sigmoid_tables()
        chunk_pairs = chunk_pairs or default_chunk_pairs(self.world_size)
        self.chunk_pairs = max(chunk_pairs, 2 * config.window)
        width = config.negative + 1
        self.buffers = (
            _Chunk.allocate(self.chunk_pairs, width),
            _Chunk.allocate(self.chunk_pairs, width),
        )
        self.comm = CommCounter(world_size=self.world_size)

    def rounds(
        self, block: Block | None, lr: Callable[[float], float], stream: int, first_step: int = 0
    ) -> BlockPlan:
        """One step: the whole block, the same block on every rank."""
        if block is None or block.num_tokens == 0 or first_step > 0:
            return 1, iter(())
        if int(block.tokens.max()) >= self.syn0.shape[0] or int(block.tokens.min()) < 0:
            raise EngineError("the corpus holds word ids outside the vocabulary (corrupt dataset)")
        return 1, iter([self._train(block, lr, stream)])

    def _reduce(self, chunk: _Chunk) -> None:
        chunk.local[: chunk.n] = chunk.dots[: chunk.n]
        payload = torch.from_numpy(chunk.dots[: chunk.n])
        self.comm.add(payload.numel() * payload.element_size())
        if self.world_size > 1:
            chunk.work = dist.all_reduce(payload, op=dist.ReduceOp.SUM, async_op=True)

    def _apply(self, chunk: _Chunk, lr_start: float, lr_end: float, total: int) -> float:
        if chunk.work is not None:
            chunk.work.wait()  # type: ignore[attr-defined]
            chunk.work = None
        return float(
            apply_chunk(
                chunk.n, chunk.ctx, chunk.targets, chunk.counts, chunk.pos, chunk.dots,
                chunk.local, self.syn0, self.syn1, self.sig, self.logsig, lr_start, lr_end, total,
            )
        )  # fmt: skip

    def _fill(self, chunk: _Chunk, block: Block, walk: tuple[np.ndarray, ...]) -> int:
        cursor, rng, buf = walk
        cfg = self.config
        chunk.n = fill_and_dot(
            block.tokens, block.offsets, self.keep, self.neg_prob, self.neg_alias,
            cfg.window, cfg.negative, cfg.shared_negatives, cursor, rng, buf,
            self.chunk_pairs, chunk.ctx, chunk.targets, chunk.counts, chunk.pos,
            self.syn0, self.syn1, chunk.dots,
        )  # fmt: skip
        return chunk.n

    def _train(self, block: Block, lr: Callable[[float], float], stream: int) -> StepOutcome:
        walk = new_cursor(self.config.seed, stream)
        lr_start, lr_end = lr(0.0), lr(1.0)
        total = block.num_tokens
        loss, pairs = 0.0, 0
        pending: _Chunk | None = None
        k = 0
        while True:
            chunk = self.buffers[k % 2]
            n = self._fill(chunk, block, walk)
            if n:
                self._reduce(chunk)
            if pending is not None:  # overlaps the reduction just started
                loss += self._apply(pending, lr_start, lr_end, total)
                pairs += pending.n
            if not n:
                break
            pending = chunk
            k += 1
        return loss, pairs
