"""What a text pipeline run reports: manifest counts and inputs, skipped inputs, phrases.

The manifest's ``counts`` of a text dataset:

==================  ======================================================================
inputs              files read; ``skipped_inputs``: files not read, by reason (binary,
                    empty, unreadable, unsupported-compression, hidden, duplicate, …)
bytes, partitions   decompressed text bytes read; units of work (changes nothing else)
documents           WikiExtractor ``<doc>`` blocks, plus one per plain-text file
lines               lines read, markup and blank ones included (``markup_lines``: the
                    ``<doc ...>``/``</doc>`` lines); ``rejected_lines``: by reason
                    (invalid-utf8, nul-byte), each kept in ``rejected/``
text_sentences      sentences with at least one token
raw_tokens          tokens out of the tokeniser
phrases             phrases that formed (rows of ``phrases.parquet``); ``phrase_joins``:
                    how many times pairs were joined, all passes together
tokens              tokens after phrase joining (= raw_tokens − phrase_joins)
distinct_tokens     distinct strings among ``tokens``; ``vocab_size``: those kept
corpus_tokens       in-vocabulary tokens written to ``corpus/`` (what training reads);
                    ``oov_tokens``: the others, dropped (tokens = corpus + oov)
sentences           rows written to ``corpus/``; ``empty_sentences``: sentences dropped
                    because no token was in the vocabulary; ``chunked_sentences``:
                    sentences longer than max_sentence_length, cut into several rows
==================  ======================================================================
"""

from __future__ import annotations

import collections
import os
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from embedrec.core.artifacts import atomic_path
from embedrec.core.schemas import REJECTED_SCHEMA
from embedrec.pipelines.text.sources import ScannedInput, SkippedInput


def warn_skipped(skipped: Sequence[SkippedInput], warn: Callable[[str], None]) -> None:
    """One warning line per skip reason, naming up to three of the inputs."""
    by_reason: dict[str, list[SkippedInput]] = collections.defaultdict(list)
    for s in skipped:
        by_reason[s.reason].append(s)
    for reason, items in sorted(by_reason.items()):
        shown = "; ".join(f"{s.path} ({s.detail})" if s.detail else s.path for s in items[:3])
        more = f"; and {len(items) - 3} more" if len(items) > 3 else ""
        warn(f"skipped {len(items)} input(s) as {reason}: {shown}{more}")


def write_skipped(path: Path, skipped: Sequence[SkippedInput]) -> None:
    """Skipped inputs into ``rejected/`` (REJECTED_SCHEMA; no line, the detail as ``raw``)."""
    table = pa.table(
        {
            "source": [s.path for s in skipped],
            "line": pa.nulls(len(skipped), pa.int64()),
            "raw": [s.detail or None for s in skipped],
            "reason": [s.reason for s in skipped],
        },
        schema=REJECTED_SCHEMA,
    )
    with atomic_path(path) as tmp:
        pq.write_table(table, tmp)


def _sum(rows: Iterable[dict[str, Any]], key: str) -> int:
    return int(sum(r[key] for r in rows))


def _merge_counters(rows: Iterable[dict[str, int]]) -> dict[str, int]:
    total: collections.Counter[str] = collections.Counter()
    for row in rows:
        total.update(row)
    return dict(sorted(total.items()))


def summarise_counts(
    usable: Sequence[ScannedInput],
    skipped: Sequence[SkippedInput],
    partitions: Sequence[Any],
    tokenized: Sequence[dict[str, Any]],
    written: Sequence[dict[str, Any]],
    token_stats: dict[str, int],
    vocab_size: int,
) -> dict[str, Any]:
    """The manifest's ``counts`` from the tasks' own counts (see `pipelines.text.tasks`)."""
    return {
        "inputs": len(usable),
        "skipped_inputs": dict(sorted(collections.Counter(s.reason for s in skipped).items())),
        "bytes": sum(s.bytes for s in usable),
        "partitions": len(partitions),
        "documents": _sum(tokenized, "documents"),
        "lines": _sum(tokenized, "lines"),
        "markup_lines": _sum(tokenized, "markup_lines"),
        "rejected_lines": _merge_counters(t["rejected_lines"] for t in tokenized),
        "text_sentences": _sum(tokenized, "text_sentences"),
        "raw_tokens": _sum(tokenized, "raw_tokens"),
        "tokens": token_stats["tokens"],
        "distinct_tokens": token_stats["distinct_tokens"],
        "vocab_size": vocab_size,
        "corpus_tokens": _sum(written, "corpus_tokens"),
        "oov_tokens": _sum(written, "oov_tokens"),
        "sentences": _sum(written, "sentences"),
        "empty_sentences": _sum(written, "empty_sentences"),
        "chunked_sentences": _sum(written, "chunked_sentences"),
    }


def input_records(
    scans: Sequence[ScannedInput], skipped: Sequence[SkippedInput]
) -> list[dict[str, Any]]:
    """Manifest ``inputs``: a fingerprint per file read, and each skipped input with why."""
    records: list[dict[str, Any]] = []
    for scan in scans:
        if scan.skipped is None:
            records.append(
                {
                    "path": os.path.abspath(scan.path),
                    **scan.fingerprint,
                    "format": scan.format,
                    "compression": scan.compression,
                    "text_bytes": scan.bytes,
                    "lines": scan.lines,
                }
            )
    for s in skipped:
        records.append({"path": os.path.abspath(s.path), "skipped": s.reason, "detail": s.detail})
    return records
