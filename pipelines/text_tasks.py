"""The Dask tasks of the text pipeline: one function per stage, one call per partition/bucket.

Tasks talk through files in the job's scratch directory (inside the staged output, so every
worker sees it and it disappears with the job), never by shipping corpus data through the
client. Each returns a small dict of counts.

    scratch/pass-0/tokens/{ids,dict}-N        sentences after tokenising (`EncodedTokens`)
    scratch/pass-K/tokens/{ids,dict}-N        … after phrase pass K
    scratch/pass-K/unigrams/bB/part-N         token counts of pass K, bucket B
    scratch/pass-K/eligible.parquet           tokens of pass K-1 with count >= min-count
    scratch/pass-K/bigrams/bB/part-N          pair counts of pass K over those, bucket B
    scratch/pass-K/accepted.parquet           accepted pair keys of pass K
"""

from __future__ import annotations

import collections
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from pipelines.artifacts import atomic_path
from pipelines.errors import PipelineError
from pipelines.schemas import (
    CORPUS_DIR,
    CORPUS_SCHEMA,
    REJECTED_DIR,
    REJECTED_SCHEMA,
    VOCAB_FILE,
)
from pipelines.text_counts import reduce_token_counts, write_table, write_token_counts
from pipelines.text_encoded import EncodedTokens
from pipelines.text_partitions import Partition, RejectedLine, read_segment
from pipelines.text_phrases import (
    count_pair_keys,
    greedy_joins,
    merge_pairs,
    pair_keys,
    reduce_pair_counts,
    score_pairs,
    token_ids,
)
from pipelines.text_sources import FORMAT_WIKIEXTRACTOR
from pipelines.text_tokenize import chunk_lengths, tokenize_line

_PAIR_SCHEMA = pa.schema([pa.field("key", pa.int64()), pa.field("count", pa.int64())])


@dataclass(frozen=True)
class TaskContext:
    """What every task needs to find its files; small, sent with each task."""

    stage: str  # the artifact directory being built
    scratch: str
    buckets: int
    min_count: int
    max_sentence_length: int

    def pass_dir(self, pass_no: int) -> Path:
        return Path(self.scratch) / f"pass-{pass_no}"

    def tokens_dir(self, pass_no: int) -> Path:
        return self.pass_dir(pass_no) / "tokens"

    def unigrams_dir(self, pass_no: int) -> Path:
        return self.pass_dir(pass_no) / "unigrams"

    def bigrams_dir(self, pass_no: int) -> Path:
        return self.pass_dir(pass_no) / "bigrams"

    def eligible_path(self, pass_no: int) -> Path:
        return self.pass_dir(pass_no) / "eligible.parquet"

    def accepted_path(self, pass_no: int) -> Path:
        return self.pass_dir(pass_no) / "accepted.parquet"


def part_name(partition: int) -> str:
    return f"part-{partition:06d}.parquet"


def tokenize_partition(partition: Partition, ctx: TaskContext) -> dict[str, Any]:
    """Read, decode, split and tokenise one partition; write its tokens and token counts."""
    flat: list[str] = []
    offsets = [0]
    rejected: list[RejectedLine] = []
    lines_read = documents = markup = 0
    for segment in partition.segments:
        try:
            lines, bad = read_segment(segment)
        except OSError as exc:
            raise PipelineError(f"{segment.source}: cannot read ({exc})") from None
        rejected.extend(bad)
        lines_read += len(lines)
        wiki = segment.format == FORMAT_WIKIEXTRACTOR
        if not wiki and segment.first_line == 1:
            documents += 1  # a plain-text file is one document
        for line in lines:
            if line is None:
                continue
            if wiki and line.startswith("<"):
                stripped = line.strip()
                if stripped.startswith("<doc ") and stripped.endswith(">"):
                    documents += 1
                    markup += 1
                    continue
                if stripped == "</doc>":
                    markup += 1
                    continue
            for sentence in tokenize_line(line):
                flat.extend(sentence)
                offsets.append(len(flat))
    encoded = EncodedTokens.encode(flat, offsets)
    encoded.write(ctx.tokens_dir(0), partition.index)
    write_token_counts(
        encoded.dictionary, encoded.counts(), ctx.unigrams_dir(0), partition.index, ctx.buckets
    )
    if rejected:
        _write_rejected(Path(ctx.stage) / REJECTED_DIR / part_name(partition.index), rejected)
    return {
        "bytes": partition.bytes,
        "lines": lines_read,
        "documents": documents,
        "markup_lines": markup,
        "text_sentences": len(offsets) - 1,
        "raw_tokens": len(flat),
        "rejected_lines": dict(collections.Counter(r.reason for r in rejected)),
    }


def _write_rejected(path: Path, rows: list[RejectedLine]) -> None:
    table = pa.table(
        {
            "source": [r.source for r in rows],
            "line": [r.line for r in rows],
            "raw": [r.raw for r in rows],
            "reason": [r.reason for r in rows],
        },
        schema=REJECTED_SCHEMA,
    )
    with atomic_path(path) as tmp:
        pq.write_table(table, tmp)


def reduce_unigrams(bucket: int, pass_no: int, ctx: TaskContext) -> tuple[pa.Table, dict[str, int]]:
    """Exact counts of one bucket of pass ``pass_no``; tokens below min-count are dropped."""
    return reduce_token_counts(ctx.unigrams_dir(pass_no), bucket, ctx.min_count)


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
) -> dict[str, Any]:
    """Sum one bucket of pair counts and keep the pairs scoring above ``threshold``."""
    _, unigram_counts = _read_eligible(ctx, pass_no)
    folder = ctx.bigrams_dir(pass_no) / f"b{bucket:03d}"
    parts = []
    for path in sorted(folder.glob("part-*.parquet")) if folder.is_dir() else []:
        table = pq.read_table(path, schema=_PAIR_SCHEMA)
        parts.append((table.column("key").to_numpy(), table.column("count").to_numpy()))
    keys, counts = reduce_pair_counts(parts)
    scores = score_pairs(keys, counts, unigram_counts, total_words, delta)
    accept = scores > threshold
    return {
        "keys": keys[accept],
        "counts": counts[accept],
        "scores": scores[accept],
        "distinct_pairs": len(keys),
    }


def merge_phrases_partition(partition: int, pass_no: int, ctx: TaskContext) -> dict[str, Any]:
    """Rewrite one partition with the accepted pairs of pass ``pass_no`` joined."""
    eligible, _ = _read_eligible(ctx, pass_no)
    accepted = pq.read_table(ctx.accepted_path(pass_no)).column("key").combine_chunks()
    tokens = EncodedTokens.read(ctx.tokens_dir(pass_no - 1), partition)
    keys = _pair_keys(tokens, eligible)
    candidate = pc.is_in(pa.array(keys), value_set=accepted).to_numpy(zero_copy_only=False)
    joined = greedy_joins(candidate & (keys >= 0))
    merged = merge_pairs(tokens, joined)
    merged.write(ctx.tokens_dir(pass_no), partition)
    write_token_counts(
        merged.dictionary, merged.counts(), ctx.unigrams_dir(pass_no), partition, ctx.buckets
    )
    formed, times = np.unique(keys[joined], return_counts=True)
    return {"joins": int(joined.sum()), "formed_keys": formed, "formed_counts": times}


def _pair_keys(tokens: EncodedTokens, eligible: pa.Array) -> np.ndarray:
    """Pair keys over the eligible tokens; each distinct string is looked up once."""
    ids = token_ids(tokens.dictionary, eligible)[tokens.indices]
    return pair_keys(ids, tokens.offsets, len(eligible))


def write_corpus_partition(partition: int, pass_no: int, ctx: TaskContext) -> dict[str, Any]:
    """Map the final tokens to vocabulary ids and write ``corpus/part-N.parquet``.

    Out-of-vocabulary tokens are dropped (and counted), sentences left empty are dropped (and
    counted), longer ones are cut into rows of at most ``max_sentence_length`` ids.
    """
    vocab = pq.read_table(Path(ctx.stage) / VOCAB_FILE, columns=["token"]).column("token")
    tokens = EncodedTokens.read(ctx.tokens_dir(pass_no), partition)
    ids = token_ids(tokens.dictionary, vocab.combine_chunks())[tokens.indices]
    known = ids >= 0
    lengths = np.diff(tokens.offsets)
    sentence_of = np.repeat(np.arange(len(lengths)), lengths)
    kept = np.bincount(sentence_of[known], minlength=len(lengths))
    row_lengths, rows_per_sentence = chunk_lengths(kept, ctx.max_sentence_length)
    row_offsets = np.concatenate([[0], np.cumsum(row_lengths)]).astype(np.int32)
    column = pa.ListArray.from_arrays(
        pa.array(row_offsets), pa.array(ids[known].astype(np.int32), type=pa.int32())
    )
    table = pa.table({"tokens": column}, schema=CORPUS_SCHEMA)
    with atomic_path(Path(ctx.stage) / CORPUS_DIR / part_name(partition)) as tmp:
        pq.write_table(table, tmp)
    return {
        "sentences": len(row_lengths),
        "corpus_tokens": int(known.sum()),
        "oov_tokens": int(len(ids) - known.sum()),
        "empty_sentences": int((kept == 0).sum()),
        "chunked_sentences": int((rows_per_sentence > 1).sum()),
    }
