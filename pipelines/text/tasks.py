"""The Dask tasks of the text pipeline: one function per stage, one call per partition/bucket.

Tasks talk through files in the job's scratch directory (inside the staged output, so every
worker sees it and it disappears with the job), never by shipping corpus data through the
client or between workers. Each returns a small dict of counts; the client never holds more
than those. The phrase tasks are in `embedrec.pipelines.text.phrase_tasks`.

    scratch/pass-0/tokens/{ids,dict}-N        sentences after tokenising (`EncodedTokens`)
    scratch/pass-K/tokens/{ids,dict}-N        … after phrase pass K
    scratch/pass-K/unigrams/bB/part-N         token counts of pass K, bucket B
    scratch/pass-K/kept/bB                    … summed, tokens with count >= min-count
    scratch/pass-K/eligible.parquet           tokens of pass K-1 with count >= min-count
    scratch/pass-K/bigrams/bB/part-N          pair counts of pass K over those, bucket B
    scratch/pass-K/scored/bB                  accepted pairs of bucket B (key, count, score)
    scratch/pass-K/accepted.parquet           accepted pairs of pass K, by key
    scratch/pass-K/formed/part-N              accepted pairs that joined in partition N
    scratch/phrases/pass-K.parquet            phrases that formed in pass K

Every task may run twice (Dask reruns the tasks of a worker that died): its files depend
only on its arguments and are written whole or not at all (`task_runner.task_output`).
Memory per task is bounded by the partition size (tokenising: ~11x the partition's text) or
by one bucket's share of the distinct tokens; the vocabulary task holds the vocabulary.
"""

from __future__ import annotations

import collections
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from embedrec.core.artifacts import atomic_path
from embedrec.core.errors import PipelineError
from embedrec.core.schemas import (
    CORPUS_DIR,
    CORPUS_SCHEMA,
    REJECTED_DIR,
    REJECTED_SCHEMA,
    VOCAB_FILE,
)
from embedrec.pipelines.text.counts import (
    COUNT_SCHEMA,
    read_tables,
    reduce_token_counts,
    vocabulary_table,
    write_table,
    write_token_counts,
)
from embedrec.pipelines.text.encoded import EncodedTokens
from embedrec.pipelines.text.partitions import Partition, RejectedLine, Segment, read_segment_pieces
from embedrec.pipelines.text.phrases import token_ids
from embedrec.pipelines.text.sources import FORMAT_WIKIEXTRACTOR
from embedrec.pipelines.text.tokenize import chunk_lengths, tokenize_line

# Tokens held as Python strings before they are dictionary-encoded: a Python string costs
# ~60 bytes against ~4 once encoded. Encoding every 64k tokens, and decoding the text 1 MiB
# at a time, keeps a task's peak near 11x its partition's text (8 MiB of Wikipedia: +90 MB;
# it was +170 MB with the whole partition decoded and tokenised at once).
_ENCODE_EVERY = 1 << 16


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

    def kept_dir(self, pass_no: int) -> Path:
        return self.pass_dir(pass_no) / "kept"

    def bigrams_dir(self, pass_no: int) -> Path:
        return self.pass_dir(pass_no) / "bigrams"

    def scored_dir(self, pass_no: int) -> Path:
        return self.pass_dir(pass_no) / "scored"

    def formed_dir(self, pass_no: int) -> Path:
        return self.pass_dir(pass_no) / "formed"

    def phrases_path(self, pass_no: int) -> Path:
        return Path(self.scratch) / "phrases" / f"pass-{pass_no}.parquet"

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
    pieces: list[EncodedTokens] = []
    sentences = tokens = 0
    rejected: list[RejectedLine] = []
    lines_read = documents = markup = 0
    for segment, first_piece, lines, bad in _pieces(partition):
        rejected.extend(bad)
        lines_read += len(lines)
        wiki = segment.format == FORMAT_WIKIEXTRACTOR
        if not wiki and segment.first_line == 1 and first_piece:
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
            if len(flat) >= _ENCODE_EVERY:
                pieces.append(EncodedTokens.encode(flat, offsets))
                sentences, tokens = sentences + len(offsets) - 1, tokens + len(flat)
                flat, offsets = [], [0]
    pieces.append(EncodedTokens.encode(flat, offsets))
    sentences, tokens = sentences + len(offsets) - 1, tokens + len(flat)
    del flat
    encoded = EncodedTokens.concat(pieces)
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
        "text_sentences": sentences,
        "raw_tokens": tokens,
        "rejected_lines": dict(collections.Counter(r.reason for r in rejected)),
    }


def _pieces(
    partition: Partition,
) -> Iterator[tuple[Segment, bool, list[str | None], list[RejectedLine]]]:
    """``(segment, first piece of it?, lines, rejected)`` for the partition's text, in order."""
    for segment in partition.segments:
        try:
            for i, (lines, bad) in enumerate(read_segment_pieces(segment)):
                yield segment, i == 0, lines, bad
        except OSError as exc:
            raise PipelineError(f"{segment.source}: cannot read ({exc})") from None


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


def reduce_unigrams(bucket: int, pass_no: int, ctx: TaskContext) -> dict[str, int]:
    """Sum one bucket of pass ``pass_no``'s token counts; write the tokens >= min-count.

    Returns ``tokens`` (all occurrences in the bucket), ``distinct_tokens`` and ``kept``.
    """
    kept, stats = reduce_token_counts(ctx.unigrams_dir(pass_no), bucket, ctx.min_count)
    write_table(kept, ctx.kept_dir(pass_no) / f"b{bucket:03d}.parquet")
    return {**stats, "kept": kept.num_rows}


def write_vocabulary(pass_no: int, ctx: TaskContext, max_vocab: int | None) -> int:
    """Write ``vocab.parquet`` from the kept tokens of pass ``pass_no``; return its size."""
    table = vocabulary_table(read_tables(ctx.kept_dir(pass_no), COUNT_SCHEMA), max_vocab)
    if table.num_rows:
        with atomic_path(Path(ctx.stage) / VOCAB_FILE) as tmp:
            pq.write_table(table, tmp)
    return table.num_rows


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
