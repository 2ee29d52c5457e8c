"""The Dask tasks of one word2phrase pass (see `embedrec.pipelines.text.phrases` for the method).

A pass ``K`` reads the tokens of pass ``K - 1`` and, like every text task, talks to the
others only through scratch files (layout in `embedrec.pipelines.text.tasks`); each returns a few
counts. In order, with the tasks per stage:

1. `write_eligible` (1)              — the tokens of pass K-1 with count >= min-count, by token;
2. `count_bigrams_partition` (P)     — pair counts over those, written by hash bucket;
3. `reduce_bigrams` (B)              — one bucket summed and scored; accepted pairs written;
4. `write_accepted` (1)              — all accepted pairs in key order;
5. `merge_phrases_partition` (P)     — accepted pairs joined, left to right; the new tokens,
                                       their counts and the pairs that actually joined;
6. `collect_phrases` (1)             — the pass's phrases: accepted pairs that joined.

`write_phrases_file` then writes ``phrases.parquet`` from every pass. The single tasks hold
at most the eligible tokens (the vocabulary) or the accepted pairs, never the corpus.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from embedrec.core.artifacts import atomic_path
from embedrec.core.schemas import PHRASES_FILE, PHRASES_SCHEMA
from embedrec.pipelines.text.counts import (
    COUNT_SCHEMA,
    read_tables,
    sorted_by_token,
    write_table,
    write_token_counts,
)
from embedrec.pipelines.text.encoded import EncodedTokens
from embedrec.pipelines.text.phrases import (
    count_pair_keys,
    greedy_joins,
    merge_pairs,
    pair_keys,
    reduce_pair_counts,
    score_pairs,
    token_ids,
)
from embedrec.pipelines.text.tasks import TaskContext, part_name

_PAIR_SCHEMA = pa.schema([pa.field("key", pa.int64()), pa.field("count", pa.int64())])
_SCORED_SCHEMA = pa.schema(
    [
        pa.field("key", pa.int64()),
        pa.field("count", pa.int64()),
        pa.field("score", pa.float64()),
    ]
)
_FORMED_SCHEMA = pa.schema([pa.field("key", pa.int64())])


def write_eligible(pass_no: int, ctx: TaskContext) -> int:
    """Write the kept tokens of pass ``pass_no - 1`` in token order; return how many."""
    eligible = sorted_by_token(read_tables(ctx.kept_dir(pass_no - 1), COUNT_SCHEMA))
    write_table(eligible, ctx.eligible_path(pass_no))
    return eligible.num_rows


def _read_eligible(ctx: TaskContext, pass_no: int) -> tuple[pa.Array, np.ndarray]:
    table = pq.read_table(ctx.eligible_path(pass_no))
    tokens = table.column("token").combine_chunks()
    return tokens, table.column("count").to_numpy().astype(np.int64)


def count_bigrams_partition(partition: int, pass_no: int, ctx: TaskContext) -> dict[str, Any]:
    """Count the pairs of eligible tokens in one partition of pass ``pass_no - 1``."""
    eligible, _ = _read_eligible(ctx, pass_no)
    tokens = EncodedTokens.read(ctx.tokens_dir(pass_no - 1), partition)
    keys = _pair_keys(tokens, eligible)
    unique, counts = count_pair_keys(keys)
    bucket_of = unique % ctx.buckets
    for bucket in range(ctx.buckets):
        mask = bucket_of == bucket
        if mask.any():
            table = pa.table({"key": unique[mask], "count": counts[mask]}, schema=_PAIR_SCHEMA)
            write_table(table, ctx.bigrams_dir(pass_no) / f"b{bucket:03d}" / part_name(partition))
    return {"pairs": int(counts.sum()), "distinct_pairs": len(unique)}


def reduce_bigrams(
    bucket: int, pass_no: int, ctx: TaskContext, total_words: int, delta: float, threshold: float
) -> dict[str, int]:
    """Sum one bucket of pair counts; write the pairs scoring above ``threshold``."""
    _, unigram_counts = _read_eligible(ctx, pass_no)
    folder = ctx.bigrams_dir(pass_no) / f"b{bucket:03d}"
    parts = []
    for path in sorted(folder.glob("part-*.parquet")) if folder.is_dir() else []:
        table = pq.read_table(path, schema=_PAIR_SCHEMA)
        parts.append((table.column("key").to_numpy(), table.column("count").to_numpy()))
    keys, counts = reduce_pair_counts(parts)
    scores = score_pairs(keys, counts, unigram_counts, total_words, delta)
    accept = scores > threshold
    scored = pa.table(
        {"key": keys[accept], "count": counts[accept], "score": scores[accept]},
        schema=_SCORED_SCHEMA,
    )
    write_table(scored, ctx.scored_dir(pass_no) / f"b{bucket:03d}.parquet")
    return {"distinct_pairs": len(keys), "accepted": scored.num_rows}


def write_accepted(pass_no: int, ctx: TaskContext) -> int:
    """Write every bucket's accepted pairs in key order; return how many."""
    scored = read_tables(ctx.scored_dir(pass_no), _SCORED_SCHEMA)
    accepted = scored.take(pc.sort_indices(scored, sort_keys=[("key", "ascending")]))
    write_table(accepted, ctx.accepted_path(pass_no))
    return accepted.num_rows


def merge_phrases_partition(partition: int, pass_no: int, ctx: TaskContext) -> dict[str, int]:
    """Rewrite one partition with the accepted pairs of pass ``pass_no`` joined."""
    eligible, _ = _read_eligible(ctx, pass_no)
    accepted = pq.read_table(ctx.accepted_path(pass_no), columns=["key"]).column("key")
    tokens = EncodedTokens.read(ctx.tokens_dir(pass_no - 1), partition)
    keys = _pair_keys(tokens, eligible)
    candidate = pc.is_in(pa.array(keys), value_set=accepted.combine_chunks())
    joined = greedy_joins(candidate.to_numpy(zero_copy_only=False) & (keys >= 0))
    merged = merge_pairs(tokens, joined)
    merged.write(ctx.tokens_dir(pass_no), partition)
    write_token_counts(
        merged.dictionary, merged.counts(), ctx.unigrams_dir(pass_no), partition, ctx.buckets
    )
    formed = pa.table({"key": np.unique(keys[joined])}, schema=_FORMED_SCHEMA)
    write_table(formed, ctx.formed_dir(pass_no) / part_name(partition))
    return {"joins": int(joined.sum())}


def _pair_keys(tokens: EncodedTokens, eligible: pa.Array) -> np.ndarray:
    """Pair keys over the eligible tokens; each distinct string is looked up once."""
    ids = token_ids(tokens.dictionary, eligible)[tokens.indices]
    return pair_keys(ids, tokens.offsets, len(eligible))


def collect_phrases(pass_no: int, ctx: TaskContext) -> int:
    """Write the phrases of pass ``pass_no``: accepted pairs that joined somewhere.

    A pair can score high yet never join ("york city" inside "new york city" when "new york"
    joins first): only phrases that appear in the text are reported. Returns how many.
    """
    accepted = pq.read_table(ctx.accepted_path(pass_no))
    keys = accepted.column("key").to_numpy()
    formed = np.zeros(len(keys), dtype=bool)
    folder = ctx.formed_dir(pass_no)
    for path in sorted(folder.glob("part-*.parquet")) if folder.is_dir() else []:
        formed |= np.isin(keys, pq.read_table(path).column("key").to_numpy())
    words, _ = _read_eligible(ctx, pass_no)
    n = len(words)
    keys = keys[formed]
    phrase = pc.binary_join_element_wise(words.take(keys // n), words.take(keys % n), "_")
    table = pa.table(
        {
            "phrase": phrase,
            "count": accepted.column("count").to_numpy()[formed].astype(np.int64),
            "score": accepted.column("score").to_numpy()[formed].astype(np.float64),
            "pass": np.full(len(keys), pass_no, dtype=np.int32),
        },
        schema=PHRASES_SCHEMA,
    )
    write_table(table, ctx.phrases_path(pass_no))
    return table.num_rows


def write_phrases_file(passes: int, ctx: TaskContext) -> int:
    """Write ``phrases.parquet``: every pass's phrases, by pass, then score descending, then
    phrase. Returns its rows."""
    table = pa.concat_tables(
        pq.read_table(ctx.phrases_path(k), schema=PHRASES_SCHEMA) for k in range(1, passes + 1)
    )
    order = pc.sort_indices(
        table, sort_keys=[("pass", "ascending"), ("score", "descending"), ("phrase", "ascending")]
    )
    table = table.take(order)
    with atomic_path(Path(ctx.stage) / PHRASES_FILE) as tmp:
        pq.write_table(table, tmp)
    return table.num_rows
