"""The corpus as a deterministic sequence of blocks, and where training stands in it.

A block is a run of whole sentences of about ``block_tokens`` tokens, read from the Parquet
parts in order without building Python lists. Block boundaries depend only on the dataset and
``block_tokens``, so a resumed run sees exactly the blocks an uninterrupted run would: the
data position is just (epoch, block index). On N ranks, block ``b`` belongs to rank
``b % N``.

>>> for index, block in iter_blocks(dataset, block_tokens=200_000):          # doctest: +SKIP
...     block.tokens, block.offsets              # int32 (n,), int64 (s + 1,)
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from embedrec.pipelines.text.dataset import TextDataset


@dataclass(frozen=True)
class Block:
    """Sentences laid end to end: sentence i is ``tokens[offsets[i]:offsets[i+1]]``."""

    tokens: np.ndarray
    offsets: np.ndarray

    @property
    def num_tokens(self) -> int:
        return int(self.offsets[-1] - self.offsets[0])


def rows_per_block(dataset: TextDataset, block_tokens: int) -> int:
    """Sentences per Parquet batch so that a block holds about ``block_tokens`` tokens."""
    sentences = max(1, dataset.num_sentences)
    mean_length = max(1.0, dataset.total_tokens / sentences)
    return max(1, int(block_tokens / mean_length))


def iter_blocks(
    dataset: TextDataset, block_tokens: int, start_block: int = 0
) -> Iterator[tuple[int, Block]]:
    """``(block_index, block)`` over one epoch, from ``start_block`` on.

    Skipped blocks are read (cheap) but not returned, which keeps boundaries identical to
    an uninterrupted pass.
    """
    rows = rows_per_block(dataset, block_tokens)
    for index, (tokens, offsets) in enumerate(dataset.iter_batches(rows=rows)):
        if index >= start_block:
            yield index, Block(tokens=tokens, offsets=offsets)


def count_blocks(dataset: TextDataset, block_tokens: int) -> int:
    """Blocks per epoch (from Parquet metadata: no data read)."""
    import pyarrow.parquet as pq

    rows = rows_per_block(dataset, block_tokens)
    total = 0
    for part in dataset.parts:
        meta = pq.ParquetFile(part).metadata
        # iter_batches never lets a batch cross a row group, so count per row group.
        for g in range(meta.num_row_groups):
            total += -(-meta.row_group(g).num_rows // rows)
    return total


@dataclass
class TrainingPosition:
    """Where a run stands; saved in every checkpoint and restored on ``--resume``."""

    epoch: int = 0
    block: int = 0  # first block of the current round within the epoch
    round_step: int = 0  # steps of the current round already done (a mid-round checkpoint)
    step: int = 0  # optimizer steps (torchrec) or blocks (hogwild) done so far
    words: int = 0  # corpus tokens consumed, summed over ranks (drives the learning rate)
    pairs: int = 0
    loss_sum: float = 0.0
    seconds: float = 0.0  # training wall time before this process started

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainingPosition:
        return cls(**{k: data[k] for k in cls.__dataclass_fields__ if k in data})


def linear_lr(
    lr: float, min_lr: float, words: float, total_words: float, final_ratio: float = 0.0
) -> float:
    """Linear decay from lr to lr · final_ratio over total words, never below min_lr.

    final_ratio 0 is word2vec's lr · (1 − words / total).
    """
    progress = min(1.0, words / max(total_words, 1.0))
    return max(min_lr, lr * (1.0 - (1.0 - final_ratio) * progress))
