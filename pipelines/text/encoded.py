"""Tokenised sentences of one partition, dictionary-encoded: the pipeline's scratch format.

A partition holds ~1M tokens but only ~75k distinct strings, so it is kept as int32 indices
into a partition-local dictionary (the distinct strings). Phrase passes and the final id
mapping then look up each distinct string once and gather, instead of hashing every token.

    sentence i  =  dictionary[indices[offsets[i]:offsets[i+1]]]

>>> enc = EncodedTokens.encode(["a", "b", "a", "c"], [0, 3, 4])
>>> enc.indices.tolist(), enc.dictionary.to_pylist(), enc.sentences()
([0, 1, 0, 2], ['a', 'b', 'c'], [['a', 'b', 'a'], ['c']])
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from embedrec.pipelines.runtime.task_runner import task_output

_IDS_SCHEMA = pa.schema([pa.field("ids", pa.list_(pa.int32()), nullable=False)])
_DICT_SCHEMA = pa.schema([pa.field("token", pa.string(), nullable=False)])


@dataclass(frozen=True)
class EncodedTokens:
    """``indices``: int32 (N,); ``offsets``: int64 (S + 1,); ``dictionary``: D strings."""

    indices: np.ndarray
    offsets: np.ndarray
    dictionary: pa.Array

    @classmethod
    def encode(cls, tokens: list[str], offsets: list[int] | np.ndarray) -> EncodedTokens:
        """Encode flat tokens (sentence ``i`` is ``tokens[offsets[i]:offsets[i+1]]``)."""
        encoded = pa.array(tokens, type=pa.string()).dictionary_encode()
        return cls(
            indices=encoded.indices.to_numpy(zero_copy_only=False).astype(np.int32, copy=False),
            offsets=np.asarray(offsets, dtype=np.int64),
            dictionary=encoded.dictionary,
        )

    @classmethod
    def concat(cls, parts: Sequence[EncodedTokens]) -> EncodedTokens:
        """The sentences of ``parts`` in order, under one dictionary.

        Gives exactly what `encode` gives on all the tokens at once (the dictionary in order
        of first appearance), so a partition can be encoded piece by piece and never hold
        all its tokens as Python strings.

        >>> a = EncodedTokens.encode(["x", "y"], [0, 2])
        >>> b = EncodedTokens.encode(["y", "z"], [0, 2])
        >>> both = EncodedTokens.concat([a, b])
        >>> both.indices.tolist(), both.offsets.tolist(), both.dictionary.to_pylist()
        ([0, 1, 1, 2], [0, 2, 4], ['x', 'y', 'z'])
        """
        if not parts:
            return cls.encode([], [0])
        if len(parts) == 1:
            return parts[0]
        encoded = pa.concat_arrays([p.dictionary for p in parts]).dictionary_encode()
        remap = encoded.indices.to_numpy(zero_copy_only=False).astype(np.int32, copy=False)
        starts = np.cumsum([0] + [len(p.dictionary) for p in parts])
        sizes = np.cumsum([0] + [len(p.indices) for p in parts])
        return cls(
            indices=np.concatenate(
                [remap[start + p.indices] for start, p in zip(starts[:-1], parts, strict=True)]
            ),
            offsets=np.concatenate(
                [[0]] + [p.offsets[1:] + size for size, p in zip(sizes[:-1], parts, strict=True)]
            ).astype(np.int64),
            dictionary=encoded.dictionary,
        )

    def __len__(self) -> int:
        return len(self.indices)

    def counts(self) -> np.ndarray:
        """Occurrences of each dictionary entry, int64 (D,)."""
        return np.bincount(self.indices, minlength=len(self.dictionary)).astype(np.int64)

    def compacted(self) -> EncodedTokens:
        """Same tokens with a dictionary of distinct, used strings only (after merging)."""
        encoded = self.dictionary.dictionary_encode()
        remap = encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64)
        indices = remap[self.indices]
        used = np.flatnonzero(np.bincount(indices, minlength=len(encoded.dictionary)))
        position = np.full(len(encoded.dictionary), -1, dtype=np.int64)
        position[used] = np.arange(len(used))
        return EncodedTokens(
            indices=position[indices].astype(np.int32),
            offsets=self.offsets,
            dictionary=encoded.dictionary.take(pa.array(used)),
        )

    def sentences(self) -> list[list[str]]:
        """Decoded sentences (for tests and debugging; slow on a real partition)."""
        words = self.dictionary.to_pylist()
        return [
            [words[i] for i in self.indices[self.offsets[s] : self.offsets[s + 1]]]
            for s in range(len(self.offsets) - 1)
        ]

    def write(self, directory: str | Path, partition: int) -> None:
        """Write ``ids-N.parquet`` and ``dict-N.parquet`` (scratch files, not artifacts).

        Each file appears whole or not at all (`task_output`); a rerun writes the same bytes.
        """
        ids = pa.ListArray.from_arrays(
            pa.array(self.offsets.astype(np.int32)), pa.array(self.indices, type=pa.int32())
        )
        with task_output(_ids_path(directory, partition)) as tmp:
            pq.write_table(pa.table({"ids": ids}, schema=_IDS_SCHEMA), tmp)
        with task_output(_dict_path(directory, partition)) as tmp:
            pq.write_table(pa.table({"token": self.dictionary}, schema=_DICT_SCHEMA), tmp)

    @classmethod
    def read(cls, directory: str | Path, partition: int) -> EncodedTokens:
        column = pq.read_table(_ids_path(directory, partition), schema=_IDS_SCHEMA).column("ids")
        lists = column.chunk(0) if column.num_chunks == 1 else column.combine_chunks()
        offsets = lists.offsets.to_numpy().astype(np.int64)
        values = lists.values.to_numpy(zero_copy_only=False)[offsets[0] : offsets[-1]]
        dictionary = pq.read_table(_dict_path(directory, partition), schema=_DICT_SCHEMA)
        return cls(
            indices=values.astype(np.int32, copy=False),
            offsets=offsets - offsets[0],
            dictionary=dictionary.column("token").combine_chunks(),
        )


def _ids_path(directory: str | Path, partition: int) -> Path:
    return Path(directory) / f"ids-{partition:06d}.parquet"


def _dict_path(directory: str | Path, partition: int) -> Path:
    return Path(directory) / f"dict-{partition:06d}.parquet"
