"""Exact token counts across partitions, and the vocabulary built from them.

Counting is split so no process ever holds every distinct token of a big corpus: each
partition task counts its own tokens and writes them into ``buckets`` files by a stable hash
of the token; one reduce task per bucket sums its files and writes the tokens that reached
``min_count`` to one file per bucket. One more task reads those (the vocabulary, not the long
tail) and writes ``vocab.parquet``; the client only ever sees counts of counts.

Vocabulary ids are deterministic: id = rank by count descending, ties by token ascending
(code point order), then ``max_vocab`` keeps the first ids.

>>> tokens, counts = order_vocabulary(pa.table({"token": ["b", "a", "c"], "count": [2, 2, 5]}))
>>> tokens, counts.tolist()
(['c', 'a', 'b'], [5, 2, 2])
"""

from __future__ import annotations

import zlib
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from embedrec.core.schemas import VOCAB_SCHEMA
from embedrec.pipelines.runtime.task_runner import task_output

COUNT_SCHEMA = pa.schema(
    [pa.field("token", pa.string(), nullable=False), pa.field("count", pa.int64(), nullable=False)]
)


def bucket_path(directory: str | Path, bucket: int, partition: int) -> Path:
    """Where partition ``partition`` writes its share of bucket ``bucket``."""
    return Path(directory) / f"b{bucket:03d}" / f"part-{partition:06d}.parquet"


def token_buckets(tokens: list[str], buckets: int) -> np.ndarray:
    """Stable bucket of each token (crc32 of its UTF-8 bytes; Python's hash is per process)."""
    return np.fromiter(
        (zlib.crc32(t.encode("utf-8")) % buckets for t in tokens), dtype=np.int64, count=len(tokens)
    )


def write_token_counts(
    tokens: pa.Array, counts: np.ndarray, directory: str | Path, partition: int, buckets: int
) -> int:
    """Write one partition's (token, count) rows split into buckets; zero counts left out.

    Returns the number of rows written (the partition's distinct tokens when ``tokens`` has
    no repeats).
    """
    used = np.flatnonzero(counts)
    table = pa.table(
        {"token": tokens.take(pa.array(used)), "count": np.asarray(counts)[used].astype(np.int64)},
        schema=COUNT_SCHEMA,
    )
    bucket_ids = token_buckets(table.column("token").to_pylist(), buckets)
    for bucket in range(buckets):
        part = table.filter(pa.array(bucket_ids == bucket))
        if part.num_rows:
            write_table(part, bucket_path(directory, bucket, partition))
    return table.num_rows


def reduce_token_counts(
    directory: str | Path, bucket: int, min_count: int
) -> tuple[pa.Table, dict[str, int]]:
    """Sum one bucket over all partitions; keep tokens with count >= ``min_count``.

    Returns ``(kept, stats)``: kept is a (token, count) table, stats has ``tokens`` (total
    count in the bucket) and ``distinct_tokens``.
    """
    folder = Path(directory) / f"b{bucket:03d}"
    files = sorted(folder.glob("part-*.parquet")) if folder.is_dir() else []
    if not files:
        return COUNT_SCHEMA.empty_table(), {"tokens": 0, "distinct_tokens": 0}
    table = pa.concat_tables(pq.read_table(f, schema=COUNT_SCHEMA) for f in files)
    summed = table.group_by("token").aggregate([("count", "sum")])
    summed = pa.table(
        {"token": summed.column("token"), "count": summed.column("count_sum")},
        schema=COUNT_SCHEMA,
    )
    kept = summed.filter(pc.greater_equal(summed.column("count"), min_count))
    stats = {
        "tokens": int(pc.sum(summed.column("count")).as_py() or 0),
        "distinct_tokens": summed.num_rows,
    }
    return kept, stats


def order_vocabulary(table: pa.Table, max_vocab: int | None = None) -> tuple[list[str], np.ndarray]:
    """Sort (token, count) rows by count descending then token ascending; cut to max_vocab."""
    order = pc.sort_indices(table, sort_keys=[("count", "descending"), ("token", "ascending")])
    if max_vocab is not None:
        order = order[:max_vocab]
    ordered = table.take(order)
    tokens = ordered.column("token").to_pylist()
    counts = ordered.column("count").to_numpy().astype(np.int64)
    return tokens, counts


def vocabulary_table(table: pa.Table, max_vocab: int | None = None) -> pa.Table:
    """``vocab.parquet`` rows (id, token, count) in `order_vocabulary` order, in Arrow.

    The same rows `order_vocabulary` gives, without making a Python string per token (a
    vocabulary of millions of tokens stays a few bytes per token).

    >>> vocabulary_table(pa.table({"token": ["b", "a", "c"], "count": [2, 2, 5]})).to_pydict()
    {'id': [0, 1, 2], 'token': ['c', 'a', 'b'], 'count': [5, 2, 2]}
    """
    order = pc.sort_indices(table, sort_keys=[("count", "descending"), ("token", "ascending")])
    if max_vocab is not None:
        order = order[:max_vocab]
    ordered = table.take(order)
    return pa.table(
        {
            "id": pa.array(np.arange(ordered.num_rows, dtype=np.int32)),
            "token": ordered.column("token").combine_chunks(),
            "count": ordered.column("count").combine_chunks().cast(pa.int64()),
        },
        schema=VOCAB_SCHEMA,
    )


def sorted_by_token(table: pa.Table) -> pa.Table:
    """Rows in token order (a stable id order for the phrase passes)."""
    return table.take(pc.sort_indices(table, sort_keys=[("token", "ascending")]))


def read_tables(folder: str | Path, schema: pa.Schema) -> pa.Table:
    """All ``part-*.parquet`` / ``b*.parquet`` tables in ``folder``, in name order (or none)."""
    folder = Path(folder)
    files = sorted(folder.glob("*.parquet")) if folder.is_dir() else []
    if not files:
        return schema.empty_table()
    return pa.concat_tables(pq.read_table(f, schema=schema) for f in files)


def write_table(table: pa.Table, path: str | Path) -> None:
    """Write a scratch table whole or not at all (not an artifact: scratch dies with the job)."""
    with task_output(path) as tmp:
        pq.write_table(table, tmp)
