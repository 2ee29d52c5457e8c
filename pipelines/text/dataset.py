"""Reading a text dataset directory: vocabulary and a streamed corpus.

The engine and the indexes read datasets only through this module, so the on-disk layout
(see `embedrec.core.schemas`) is stated in one place.

>>> ds = open_text_dataset("data/wiki")                               # doctest: +SKIP
>>> ds.vocab_size, ds.total_tokens  # doctest: +SKIP
(71290, 16718844)
>>> for tokens, offsets in ds.iter_batches(rows=4096):                # doctest: +SKIP
...     sentence_0 = tokens[offsets[0]:offsets[1]]                    # int32 word ids
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from embedrec.core.artifacts import read_manifest
from embedrec.core.errors import ArtifactError
from embedrec.core.schemas import CORPUS_DIR, TEXT_DATASET_KIND, VOCAB_FILE, VOCAB_SCHEMA


@dataclass(frozen=True)
class Vocabulary:
    """Tokens and counts; the position in each array is the token id.

    ``tokens``: list of V strings. ``counts``: int64 array of shape (V,).
    """

    tokens: list[str]
    counts: np.ndarray

    def __len__(self) -> int:
        return len(self.tokens)

    def index(self) -> dict[str, int]:
        """Token → id mapping (built on demand: a dict of 1M strings costs ~100 MB)."""
        return {token: i for i, token in enumerate(self.tokens)}


def read_vocab(path: str | Path) -> Vocabulary:
    """Read a ``vocab.parquet`` (id, token, count) and check ids are 0..V-1 in order."""
    p = Path(path)
    if not p.exists():
        raise ArtifactError(p, "is missing (expected a vocab.parquet with id, token, count)")
    try:
        table = pq.read_table(p)
    except (pa.ArrowInvalid, OSError) as exc:
        raise ArtifactError(p, f"is not a readable Parquet file ({exc})") from None
    missing = [f.name for f in VOCAB_SCHEMA if f.name not in table.column_names]
    if missing:
        raise ArtifactError(p, f"lacks column(s) {', '.join(missing)}")
    ids = table.column("id").to_numpy()
    if len(ids) and not np.array_equal(ids, np.arange(len(ids), dtype=ids.dtype)):
        raise ArtifactError(p, "ids are not 0..V-1 in order")
    return Vocabulary(
        tokens=table.column("token").to_pylist(),
        counts=table.column("count").to_numpy().astype(np.int64, copy=False),
    )


def write_vocab(path: str | Path, tokens: list[str], counts: np.ndarray) -> None:
    """Write ``vocab.parquet`` atomically; ids are the positions (callers sort first)."""
    from embedrec.core.artifacts import atomic_path

    table = pa.table(
        {
            "id": pa.array(np.arange(len(tokens), dtype=np.int32)),
            "token": pa.array(tokens, type=pa.string()),
            "count": pa.array(np.asarray(counts, dtype=np.int64)),
        },
        schema=VOCAB_SCHEMA,
    )
    with atomic_path(path) as tmp:
        pq.write_table(table, tmp)


@dataclass(frozen=True)
class TextDataset:
    """An opened text dataset directory (see `open_text_dataset`)."""

    path: Path
    manifest: dict[str, Any]
    vocab: Vocabulary
    parts: tuple[Path, ...]

    @property
    def vocab_size(self) -> int:
        return len(self.vocab)

    @property
    def total_tokens(self) -> int:
        """In-vocabulary tokens in the corpus (what training walks over each epoch)."""
        return int(self.manifest.get("counts", {}).get("corpus_tokens", self.vocab.counts.sum()))

    @property
    def num_sentences(self) -> int:
        return sum(pq.ParquetFile(p).metadata.num_rows for p in self.parts)

    def iter_batches(
        self, rows: int = 8192, start_part: int = 0, start_row: int = 0
    ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Stream the corpus as ``(tokens, offsets)`` batches without Python lists.

        ``tokens``: int32 (N,) word ids of up to ``rows`` sentences laid end to end;
        ``offsets``: int64 (S + 1,) with sentence ``i`` at ``tokens[offsets[i]:offsets[i+1]]``.
        ``start_part``/``start_row`` resume mid-corpus (row = sentence within that part).
        """
        for part_index in range(start_part, len(self.parts)):
            skip = start_row if part_index == start_part else 0
            yield from _iter_part(self.parts[part_index], rows, skip)

    def iter_part_batches(
        self, part_index: int, rows: int = 8192, skip_rows: int = 0
    ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Like `iter_batches`, for one part file (for position-exact resume)."""
        yield from _iter_part(self.parts[part_index], rows, skip_rows)


def _iter_part(path: Path, rows: int, skip_rows: int) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    parquet = pq.ParquetFile(path)
    seen = 0
    for batch in parquet.iter_batches(batch_size=rows, columns=["tokens"]):
        n = batch.num_rows
        if seen + n <= skip_rows:
            seen += n
            continue
        column = batch.column(0)
        if seen < skip_rows:
            column = column.slice(skip_rows - seen)
        seen += n
        if column.type != pa.list_(pa.int32()):
            column = column.cast(pa.list_(pa.int32()))
        offsets = column.offsets.to_numpy().astype(np.int64)
        values = column.values.to_numpy(zero_copy_only=False).astype(np.int32, copy=False)
        base = offsets[0]
        yield values[base : offsets[-1]], offsets - base


def open_text_dataset(path: str | Path) -> TextDataset:
    """Open a text dataset directory written by ``embedrec text-pipeline``."""
    d = Path(path)
    manifest = read_manifest(d, kinds=[TEXT_DATASET_KIND])
    vocab = read_vocab(d / VOCAB_FILE)
    parts = tuple(sorted((d / CORPUS_DIR).glob("part-*.parquet")))
    if not parts:
        raise ArtifactError(d / CORPUS_DIR, "holds no part-*.parquet files")
    return TextDataset(path=d, manifest=manifest, vocab=vocab, parts=parts)
