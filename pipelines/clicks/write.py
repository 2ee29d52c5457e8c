"""Stage 3 of the clicks pipeline, one Dask task per partition: ids, split, final files.

`finalize_partition` reads a parsed work file, gives lines their number in the file, adds
AOL negatives, assigns each impression to train or validation, maps raw values to ids
through the written vocabularies (`click_dataset.remap_ids`, the same function a model
uses on newer data), and writes ``examples/part-NNNNN.parquet`` and, when the partition
had bad lines, ``rejected/part-NNNNN.parquet``.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from embedrec.core.artifacts import atomic_path
from embedrec.core.schemas import (
    DOC_VOCAB,
    EXAMPLES_DIR,
    QUERY_TOKEN_VOCAB,
    REJECTED_DIR,
    REJECTED_SCHEMA,
    click_examples_schema,
)
from embedrec.pipelines.clicks.dataset import ClickVocab, read_click_vocab, remap_ids
from embedrec.pipelines.clicks.hashing import string_hash64
from embedrec.pipelines.clicks.negatives import NegativeSampler
from embedrec.pipelines.clicks.parse import DENSE_PREFIX, SPARSE_PREFIX, parsed_path, rejected_path
from embedrec.pipelines.clicks.split import (
    TRAIN,
    VALIDATION,
    hash_user_validation,
    order_validation,
    time_validation,
)
from embedrec.pipelines.clicks.vocab import vocab_path


@dataclass(frozen=True)
class FinalizePlan:
    """What every partition's final step shares (decided after stage 1)."""

    work_dir: str
    out_dir: str
    fmt: str
    sparse: tuple[str, ...]
    dense: tuple[str, ...]
    split_method: str  # "time" | "hash-user" | "line-order"
    valid_fraction: float
    cut_time: int | None  # time split: validation is time > cut_time
    total_impressions: int  # line-order split
    aol_negatives: int
    seed: int
    pairs_path: str | None  # AOL: sorted clicked pair keys (.npy)


@dataclass(frozen=True)
class Placement:
    """Where one partition sits in its file and in the whole input."""

    index: int
    source: str
    source_index: int
    line_offset: int  # lines owned by the file's earlier partitions
    impression_offset: int  # impressions in all earlier partitions


def part_name(index: int) -> str:
    return f"part-{index:05d}.parquet"


def finalize_partition(plan: FinalizePlan, place: Placement) -> dict[str, int]:
    """Write the partition's examples (and rejected lines); return its counts by split."""
    work = Path(plan.work_dir)
    table = pq.read_table(parsed_path(work, place.index))
    vocabs = _load_vocabs(plan.out_dir, (QUERY_TOKEN_VOCAB, DOC_VOCAB, *plan.sparse))
    lines = table.column("line").to_numpy() + (place.line_offset + 1)
    first = table.column("ex").to_numpy() == 0
    ordinals = np.cumsum(first) - 1 + place.impression_offset
    missing_negatives = 0
    if plan.fmt == "aol" and plan.aol_negatives > 0 and table.num_rows:
        table, lines, first, ordinals, missing_negatives = _add_negatives(
            plan, place, table, lines, first, ordinals, vocabs[DOC_VOCAB]
        )
    valid = _validation_mask(plan, table, ordinals)
    examples = _examples_table(plan, place, table, lines, valid)
    examples = remap_ids(examples, vocabs)
    schema = click_examples_schema(plan.sparse, plan.dense)
    examples = examples.select(schema.names).cast(schema)
    with atomic_path(Path(plan.out_dir) / EXAMPLES_DIR / part_name(place.index)) as tmp:
        pq.write_table(examples, tmp)
    rejected = _write_rejected(plan, place)
    labels = table.column("label").to_numpy()
    counts = {"rejected_rows": rejected, "negatives_missing": missing_negatives}
    for key, column in (("time", "impressions_without_time"), ("user", "impressions_without_user")):
        null = pc.is_null(table.column(key)).to_numpy(zero_copy_only=False)
        counts[column] = int((first & null).sum())
    for name, mask in ((TRAIN, ~valid), (VALIDATION, valid)):
        counts[f"examples_{name}"] = int(mask.sum())
        counts[f"impressions_{name}"] = int((mask & first).sum())
        counts[f"positives_{name}"] = int((mask & (labels == 1)).sum())
    return counts


@functools.lru_cache(maxsize=2)
def _load_vocabs(out_dir: str, names: tuple[str, ...]) -> dict[str, ClickVocab]:
    # Once per worker process and run: every partition of a run maps through the same files.
    return {name: read_click_vocab(vocab_path(out_dir, name), name) for name in names}


@functools.lru_cache(maxsize=2)
def _load_sampler(pairs_path: str, out_dir: str, per_click: int, seed: int) -> NegativeSampler:
    doc = read_click_vocab(vocab_path(out_dir, DOC_VOCAB), DOC_VOCAB)
    return NegativeSampler(
        doc_counts=doc.counts,
        doc_hashes=string_hash64(doc.values),
        clicked=np.load(pairs_path),
        per_click=per_click,
        seed=seed,
    )


def _add_negatives(
    plan: FinalizePlan,
    place: Placement,
    table: pa.Table,
    lines: np.ndarray,
    first: np.ndarray,
    ordinals: np.ndarray,
    doc_vocab: ClickVocab,
) -> tuple[pa.Table, np.ndarray, np.ndarray, np.ndarray, int]:
    """Each AOL click row followed by its sampled negatives (same impression, label 0)."""
    if plan.pairs_path is None:
        raise RuntimeError("AOL negatives need the clicked-pairs file; the plan has none")
    sampler = _load_sampler(plan.pairs_path, plan.out_dir, plan.aol_negatives, plan.seed)
    queries = table.column("query").to_pylist()
    drawn = sampler.sample(string_hash64(q or "" for q in queries), place.source_index, lines)
    found = drawn > 0
    per_row = 1 + found.sum(axis=1)
    take = np.repeat(np.arange(table.num_rows), per_row)
    # Within each row's group, slot 0 is the click and slots 1.. its negatives in draw order.
    slot = np.arange(len(take)) - np.repeat(np.cumsum(per_row) - per_row, per_row)
    is_negative = slot > 0
    negative_docs = [doc_vocab.values[d] for d in drawn[found]]  # row-major: draw order
    expanded = table.take(pa.array(take))
    docs = np.array(expanded.column("doc").to_pylist(), dtype=object)
    docs[is_negative] = negative_docs
    positions = [
        None if negative else p
        for p, negative in zip(expanded.column("position").to_pylist(), is_negative, strict=True)
    ]
    labels = expanded.column("label").to_numpy().copy()
    labels[is_negative] = 0
    ex = slot.astype(np.int32)
    expanded = _replace(expanded, "doc", pa.array(docs.tolist(), pa.string()))
    expanded = _replace(expanded, "position", pa.array(positions, pa.int32()))
    expanded = _replace(expanded, "label", pa.array(labels, pa.int8()))
    expanded = _replace(expanded, "ex", pa.array(ex, pa.int32()))
    missing = int(plan.aol_negatives * table.num_rows - found.sum())
    return expanded, lines[take], first[take] & ~is_negative, ordinals[take], missing


def _replace(table: pa.Table, name: str, column: pa.Array) -> pa.Table:
    return table.set_column(table.schema.get_field_index(name), name, column)


def _validation_mask(plan: FinalizePlan, table: pa.Table, ordinals: np.ndarray) -> np.ndarray:
    if plan.split_method == "time":
        return time_validation(table.column("time").to_pylist(), plan.cut_time)
    if plan.split_method == "hash-user":
        return hash_user_validation(table.column("user").to_pylist(), plan.valid_fraction)
    return order_validation(ordinals, plan.total_impressions, plan.valid_fraction)


def _examples_table(
    plan: FinalizePlan, place: Placement, table: pa.Table, lines: np.ndarray, valid: np.ndarray
) -> pa.Table:
    n = table.num_rows
    fallback_ids = pa.array([f"{place.source}:{line}" for line in lines.tolist()], pa.string())
    columns: dict[str, pa.Array | pa.ChunkedArray] = {
        "impression": pc.coalesce(table.column("impression"), fallback_ids),
        "source": pa.array([place.source] * n, pa.string()),
        "line": pa.array(lines, pa.int64()),
        "split": pa.array(np.where(valid, VALIDATION, TRAIN).tolist(), pa.string()),
        "user": table.column("user"),
        "time": table.column("time").cast(pa.timestamp("us", tz="UTC")),
        "query": table.column("query"),
        "title": table.column("title"),
        "doc": table.column("doc"),
        "position": table.column("position"),
        "label": table.column("label"),
    }
    for name in plan.sparse:
        key = SPARSE_PREFIX + name
        columns[name] = table.column(key) if key in table.column_names else pa.nulls(n, pa.string())
    for name in plan.dense:
        key = DENSE_PREFIX + name
        columns[name] = table.column(key) if key in table.column_names else pa.nulls(n, pa.int64())
    return pa.table(columns)


def _write_rejected(plan: FinalizePlan, place: Placement) -> int:
    work = pq.read_table(rejected_path(Path(plan.work_dir), place.index))
    if work.num_rows == 0:
        return 0
    lines = work.column("line").to_numpy() + (place.line_offset + 1)
    table = pa.table(
        {
            "source": pa.array([place.source] * work.num_rows, pa.string()),
            "line": pa.array(lines, pa.int64()),
            "raw": work.column("raw"),
            "reason": work.column("reason"),
        },
        schema=REJECTED_SCHEMA,
    )
    with atomic_path(Path(plan.out_dir) / REJECTED_DIR / part_name(place.index)) as tmp:
        pq.write_table(table, tmp)
    return work.num_rows
