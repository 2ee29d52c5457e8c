"""Reading a click dataset directory: manifest, vocabularies and streamed example batches.

The ranker reads click datasets only through this module (layout: `embedrec.core.schemas`).

>>> ds = open_click_dataset("data/clicks")                            # doctest: +SKIP
>>> ds.sparse_features, len(ds.vocabs["doc"])  # doctest: +SKIP
(('device', 'region'), 1843)
>>> for batch in ds.iter_batches(rows=4096, split="train"):           # doctest: +SKIP
...     labels = batch.column("label").to_numpy()                     # int8 (N,)
...     tokens, offsets = list_column(batch, "query_tokens")          # jagged int32 ids
...     dense, present = dense_matrix(batch, ds.dense_features)       # float32 (N, D), bool

A model keeps the vocabularies it was trained with. To score a dataset built later from
newer logs, map its raw values through the model's vocabularies — values the model never
saw become id 0, never another value's id:

>>> newer = remap_ids(open_click_dataset("data/clicks-june").read(), ds.vocabs)  # doctest: +SKIP
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from embedrec.core.artifacts import read_manifest
from embedrec.core.errors import ArtifactError, ConfigError
from embedrec.core.schemas import (
    CLICK_DATASET_KIND,
    CLICK_VOCAB_SCHEMA,
    DOC_VOCAB,
    EXAMPLES_DIR,
    QUERY_TOKEN_VOCAB,
    UNK_VALUE,
    VOCABS_DIR,
    click_examples_schema,
)
from embedrec.pipelines.clicks.tokens import tokenize_array

SPLITS = ("train", "validation")


@dataclass(frozen=True)
class ClickVocab:
    """One vocabulary: ``values[i]`` has id ``i``; ``values[0]`` is ``<unk>`` (OOV/missing).

    ``counts``: int64 (V,) occurrences in the dataset that built it (id 0: values folded
    into ``<unk>`` by ``--min-count``).
    """

    name: str
    values: list[str]
    counts: np.ndarray

    def __len__(self) -> int:
        return len(self.values)

    @functools.cached_property
    def _known(self) -> pa.Array:
        return pa.array(self.values[1:], type=pa.string())

    def index(self) -> dict[str, int]:
        """Value → id for the known values (id 0, ``<unk>``, is not a value)."""
        return {value: i for i, value in enumerate(self.values) if i > 0}

    def lookup(self, raw: pa.Array | pa.ChunkedArray | Sequence[str | None]) -> pa.Array:
        """Ids (int32) of raw string values; unseen and null values give 0.

        >>> ClickVocab("doc", ["<unk>", "d1", "d2"], np.array([0, 5, 3])).lookup(
        ...     ["d2", "new", None]).to_pylist()
        [2, 0, 0]
        """
        if isinstance(raw, pa.ChunkedArray):
            raw = raw.combine_chunks()
        elif not isinstance(raw, pa.Array):
            raw = pa.array(raw, type=pa.string())
        if raw.type != pa.string():
            raw = raw.cast(pa.string())
        found = pc.index_in(raw, value_set=self._known)
        return pc.fill_null(pc.add(found, 1), 0).cast(pa.int32())

    def lookup_lists(self, lists: pa.Array | pa.ChunkedArray) -> pa.ListArray:
        """``list<string>`` → ``list<int32>`` ids (null lists become empty lists)."""
        if isinstance(lists, pa.ChunkedArray):
            lists = lists.combine_chunks()
        lengths = pc.fill_null(pc.list_value_length(lists), 0).to_numpy(zero_copy_only=False)
        offsets = np.zeros(len(lengths) + 1, dtype=np.int32)
        np.cumsum(lengths, out=offsets[1:])
        ids = self.lookup(pc.list_flatten(lists))
        return pa.ListArray.from_arrays(pa.array(offsets), ids)


def read_click_vocab(path: str | Path, name: str | None = None) -> ClickVocab:
    """Read ``vocabs/<name>.parquet``, checking ids are 0..V-1 and id 0 is ``<unk>``."""
    p = Path(path)
    if not p.exists():
        raise ArtifactError(p, "is missing (expected a vocabulary with id, value, count)")
    try:
        table = pq.read_table(p)
    except (pa.ArrowInvalid, OSError) as exc:
        raise ArtifactError(p, f"is not a readable Parquet file ({exc})") from None
    missing = [f.name for f in CLICK_VOCAB_SCHEMA if f.name not in table.column_names]
    if missing:
        raise ArtifactError(p, f"lacks column(s) {', '.join(missing)}")
    ids = table.column("id").to_numpy()
    if not np.array_equal(ids, np.arange(len(ids), dtype=ids.dtype)):
        raise ArtifactError(p, "ids are not 0..V-1 in order")
    values = table.column("value").to_pylist()
    if not values or values[0] != UNK_VALUE:
        raise ArtifactError(p, f"id 0 is not {UNK_VALUE!r}")
    counts = table.column("count").to_numpy().astype(np.int64, copy=False)
    return ClickVocab(name=name or p.stem, values=values, counts=counts)


def remap_ids(table: pa.Table, vocabs: Mapping[str, ClickVocab]) -> pa.Table:
    """Recompute the id columns of ``table`` from its raw columns through ``vocabs``.

    ``query_token`` sets ``query_tokens`` and ``title_tokens`` (re-tokenising ``query`` and
    ``title``), ``doc`` sets ``doc_id``, any other name ``f`` sets ``f_id`` from ``f``. A
    raw value the vocabulary lacks, or a null, gives 0; a raw column the table lacks gives
    all 0 (or empty token lists): a feature the newer data does not have is missing.
    """
    n = table.num_rows
    for name, vocab in vocabs.items():
        if name == QUERY_TOKEN_VOCAB:
            for raw, ids in (("query", "query_tokens"), ("title", "title_tokens")):
                texts = table.column(raw) if raw in table.column_names else pa.nulls(n, pa.string())
                table = _put(table, ids, vocab.lookup_lists(tokenize_array(texts)))
        else:
            raw = DOC_VOCAB if name == DOC_VOCAB else name
            target = "doc_id" if name == DOC_VOCAB else f"{name}_id"
            if raw in table.column_names:
                ids = vocab.lookup(table.column(raw))
            else:
                ids = pa.array(np.zeros(n, dtype=np.int32))
            table = _put(table, target, ids)
    return table


def _put(table: pa.Table, name: str, column: pa.Array) -> pa.Table:
    index = table.schema.get_field_index(name)
    if index < 0:
        return table.append_column(pa.field(name, column.type, nullable=False), column)
    return table.set_column(index, pa.field(name, column.type, nullable=False), column)


@dataclass(frozen=True)
class ClickDataset:
    """An opened click dataset directory (see `open_click_dataset`)."""

    path: Path
    manifest: dict[str, Any]
    vocabs: dict[str, ClickVocab]
    sparse_features: tuple[str, ...]
    dense_features: tuple[str, ...]
    parts: tuple[Path, ...]

    @property
    def schema(self) -> pa.Schema:
        return click_examples_schema(self.sparse_features, self.dense_features)

    @property
    def format(self) -> str:
        return str(self.manifest.get("format", ""))

    def num_examples(self, split: str | None = None) -> int:
        """Example rows in the dataset, or in one split."""
        if split is None:
            return sum(pq.ParquetFile(p).metadata.num_rows for p in self.parts)
        _check_split(split)
        return int(self.manifest["split"]["examples"][split])

    def iter_batches(
        self, rows: int = 8192, split: str | None = None, columns: Sequence[str] | None = None
    ) -> Iterator[pa.RecordBatch]:
        """Stream examples as record batches of at most ``rows`` rows, in dataset order.

        ``split``: only ``train`` or ``validation`` rows. ``columns``: only these columns.
        """
        if split is not None:
            _check_split(split)
        wanted = list(columns) if columns is not None else None
        read = (
            wanted if wanted is None or split is None or "split" in wanted else [*wanted, "split"]
        )
        for part in self.parts:
            for batch in pq.ParquetFile(part).iter_batches(batch_size=rows, columns=read):
                if split is not None:
                    batch = batch.filter(pc.equal(batch.column("split"), split))
                    if wanted is not None and "split" not in wanted:
                        batch = batch.select(wanted)
                if batch.num_rows:
                    yield batch

    def read(self, split: str | None = None, columns: Sequence[str] | None = None) -> pa.Table:
        """All examples (or one split) as one table: for small datasets and tests."""
        batches = list(self.iter_batches(rows=65536, split=split, columns=columns))
        if batches:
            return pa.Table.from_batches(batches)
        schema = (
            self.schema if columns is None else pa.schema([self.schema.field(c) for c in columns])
        )
        return schema.empty_table()


def _check_split(split: str) -> None:
    if split not in SPLITS:
        raise ConfigError("split", split, "one of " + ", ".join(SPLITS))


def list_column(batch: pa.RecordBatch | pa.Table, name: str) -> tuple[np.ndarray, np.ndarray]:
    """A ``list<int32>`` column as ``(values int32 (T,), offsets int64 (N + 1,))``.

    Row ``i`` holds ``values[offsets[i]:offsets[i + 1]]``.
    """
    column = batch.column(name)
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    lengths = pc.fill_null(pc.list_value_length(column), 0).to_numpy(zero_copy_only=False)
    offsets = np.zeros(len(lengths) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    values = pc.list_flatten(column).to_numpy(zero_copy_only=False).astype(np.int32, copy=False)
    return values, offsets


def dense_matrix(
    batch: pa.RecordBatch | pa.Table, names: Sequence[str]
) -> tuple[np.ndarray, np.ndarray]:
    """Dense features as ``(values float32 (N, D), present bool (N, D))``; missing → 0."""
    values = np.zeros((batch.num_rows, len(names)), dtype=np.float32)
    present = np.zeros((batch.num_rows, len(names)), dtype=bool)
    for j, name in enumerate(names):
        column = batch.column(name)
        present[:, j] = pc.is_valid(column).to_numpy(zero_copy_only=False)
        values[:, j] = pc.fill_null(column, 0).to_numpy(zero_copy_only=False)
    return values, present


def open_click_dataset(path: str | Path) -> ClickDataset:
    """Open a click dataset directory written by ``embedrec clicks-pipeline``."""
    d = Path(path)
    manifest = read_manifest(d, kinds=[CLICK_DATASET_KIND])
    features = manifest.get("features") or {}
    sparse = tuple(features.get("sparse", ()))
    dense = tuple(features.get("dense", ()))
    vocabs = {
        name: read_click_vocab(d / VOCABS_DIR / f"{name}.parquet", name)
        for name in (QUERY_TOKEN_VOCAB, DOC_VOCAB, *sparse)
    }
    parts = tuple(sorted((d / EXAMPLES_DIR).glob("part-*.parquet")))
    if not parts:
        raise ArtifactError(d / EXAMPLES_DIR, "holds no part-*.parquet files")
    expected = click_examples_schema(sparse, dense)
    for part in parts:
        names = set(pq.read_schema(part).names)
        lacking = [n for n in expected.names if n not in names]
        if lacking:
            raise ArtifactError(part, f"lacks column(s) {', '.join(lacking)}")
    return ClickDataset(
        path=d,
        manifest=manifest,
        vocabs=vocabs,
        sparse_features=sparse,
        dense_features=dense,
        parts=parts,
    )
