"""The text pipeline: raw text files → a text dataset directory (``embedrec text-pipeline``).

Stages, each a set of Dask tasks over line-aligned partitions (see `pipelines.text_tasks`):

1. scan      — find format, size, lines and partition cuts of every input (spool archives);
2. tokenize  — decode, split sentences, tokenise, count tokens; bad lines kept aside;
3. phrases   — ``phrases`` passes of word2phrase: count pairs, score, join (optional);
4. vocab     — exact counts reduced by hash bucket; ids by count, then token;
5. write     — tokens → ids, OOV dropped, long sentences cut, ``corpus/part-N.parquet``.

The result depends only on the inputs and the config, not on the number of workers or
partitions: same ``vocab.parquet`` bytes and the same corpus rows in the same order.

Commands (one machine, a cluster, a tiny smoke run)::

    embedrec text-pipeline wiki.wikiextractor.gz --out data/wiki --phrases 2
    embedrec text-pipeline 'corpus/**/*.txt.gz' --out data/c --scheduler tcp://head:8786
    embedrec text-pipeline tests/assets/text/wiki_00 --out /tmp/tiny --min-count 1 --workers 1

>>> config = TextPipelineConfig(inputs=("wiki-en-raw-100mb.wikiextractor.gz",), out="ds")
>>> result = run_text_pipeline(config, ClusterConfig(workers=2))     # doctest: +SKIP
>>> [result.counts[k] for k in ("documents", "vocab_size", "corpus_tokens")]  # doctest: +SKIP
[6371, 79089, 15452818]
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import math
import os
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from pipelines.artifacts import staged_output_dir, write_manifest
from pipelines.dask_cluster import ClusterConfig, dashboard_link, dask_client
from pipelines.errors import InputError, PipelineError
from pipelines.schemas import (
    PHRASES_FILE,
    PHRASES_SCHEMA,
    REJECTED_DIR,
    TEXT_DATASET_KIND,
    VOCAB_FILE,
)
from pipelines.task_runner import TaskRunner
from pipelines.text_config import TextPipelineConfig
from pipelines.text_counts import order_vocabulary, sorted_by_token, write_table
from pipelines.text_dataset import write_vocab
from pipelines.text_partitions import plan_partitions
from pipelines.text_report import (
    input_records,
    summarise_counts,
    warn_skipped,
    write_phrases,
    write_skipped,
)
from pipelines.text_sources import InputFile, ScannedInput, SkippedInput, discover_inputs
from pipelines.text_sources import scan_inputs as scan_inputs_task
from pipelines.text_tasks import (
    TaskContext,
    count_bigrams_partition,
    merge_phrases_partition,
    reduce_bigrams,
    reduce_unigrams,
    tokenize_partition,
    write_corpus_partition,
)

log = logging.getLogger(__name__)

_MAX_BUCKETS = 64
_SCAN_BATCH_FILES = 256


@dataclass(frozen=True)
class TextPipelineResult:
    """What a run made: the dataset path, its counts and how long it took."""

    out: Path
    counts: dict[str, Any]
    seconds: float
    dashboard: str
    manifest: dict[str, Any]


def run_text_pipeline(
    config: TextPipelineConfig,
    cluster: ClusterConfig | None = None,
    *,
    progress: bool = False,
    echo: Callable[[str], None] | None = None,
) -> TextPipelineResult:
    """Build a text dataset directory from ``config.inputs`` (see the module docstring).

    ``echo`` receives the human status lines (dashboard address, warnings about skipped
    inputs); without it they are logged. Raises `InputError` for a missing input or when no
    input is usable, `OutputExistsError` when ``config.out`` exists without ``overwrite``.
    """
    started = time.perf_counter()
    say = echo or log.info
    warn = (lambda m: echo(f"warning: {m}")) if echo else log.warning
    files, skipped = discover_inputs(config.inputs)
    with staged_output_dir(config.out, overwrite=config.overwrite) as stage:
        scratch = stage / ".scratch"
        try:
            with dask_client(cluster or ClusterConfig()) as client:
                link = dashboard_link(client)
                say(f"dask dashboard: {link or 'not available'}")
                job = _Job(config, stage, scratch, TaskRunner(client, progress=progress))
                counts, inputs, extra = job.run(files, skipped, warn)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
        seconds = time.perf_counter() - started
        extra["seconds"] = {"total": round(seconds, 3), **job.runner_seconds()}
        extra["cluster"] = dataclasses.asdict(cluster or ClusterConfig())
        manifest = write_manifest(
            stage,
            kind=TEXT_DATASET_KIND,
            config=config.to_json(),
            inputs=inputs,
            counts=counts,
            extra=extra,
        )
    return TextPipelineResult(
        out=Path(config.out), counts=counts, seconds=seconds, dashboard=link, manifest=manifest
    )


class _Job:
    """One run's state: the stages in order over the shared scratch directory."""

    def __init__(
        self, config: TextPipelineConfig, stage: Path, scratch: Path, runner: TaskRunner
    ) -> None:
        self.config = config
        self.stage = stage
        self.scratch = scratch
        self.runner = runner
        self.joins = 0

    def runner_seconds(self) -> dict[str, float]:
        return {k: round(v, 3) for k, v in self.runner.seconds.items()}

    def run(
        self,
        files: list[InputFile],
        skipped: list[SkippedInput],
        warn: Callable[[str], None],
    ) -> tuple[dict[str, Any], list[dict[str, Any]], dict[str, Any]]:
        config = self.config
        scans = self.scan(files) if files else []
        skipped = skipped + [s.skipped for s in scans if s.skipped is not None]
        warn_skipped(skipped, warn)
        usable = [s for s in scans if s.skipped is None]
        if not usable:
            listed = ", ".join(f"{s.path} ({s.reason})" for s in skipped[:5])
            more = f" and {len(skipped) - 5} more" if len(skipped) > 5 else ""
            raise InputError(", ".join(config.inputs), f"no usable text input: {listed}{more}")
        partitions = plan_partitions(usable, config.partition_bytes)
        ctx = TaskContext(
            stage=str(self.stage),
            scratch=str(self.scratch),
            # Every partition writes a file per bucket: ~sqrt(P) buckets keep P x B small
            # files in check while each reducer holds 1/B of the distinct tokens or pairs.
            buckets=max(1, min(math.isqrt(len(partitions) - 1) + 1, _MAX_BUCKETS)),
            min_count=config.min_count,
            max_sentence_length=config.max_sentence_length,
        )
        tokenized = self.runner.map(
            "tokenize",
            tokenize_partition,
            partitions,
            ctx=ctx,
            weights=[p.bytes for p in partitions],
            unit="B",
        )
        phrase_tables = [
            self.phrase_pass(ctx, len(partitions), k) for k in range(1, config.phrases + 1)
        ]
        kept, token_stats = self.reduce_unigrams(ctx, config.phrases, "vocab")
        tokens, counts = order_vocabulary(kept, config.max_vocab)
        if not tokens:
            raise PipelineError(
                f"no token occurs at least --min-count {config.min_count} times in "
                f"{token_stats['tokens']} token(s); lower --min-count"
            )
        write_vocab(self.stage / VOCAB_FILE, tokens, counts)
        written = self.runner.map(
            "write", write_corpus_partition, range(len(partitions)), pass_no=config.phrases, ctx=ctx
        )
        phrases = (
            write_phrases(self.stage / PHRASES_FILE, phrase_tables) if config.phrases else None
        )
        if skipped:
            write_skipped(self.stage / REJECTED_DIR / "inputs.parquet", skipped)
        counts_out = summarise_counts(
            usable, skipped, partitions, tokenized, written, token_stats, len(tokens)
        )
        counts_out["phrases"] = 0 if phrases is None else phrases.num_rows
        counts_out["phrase_joins"] = self.joins
        extra = {
            "phrases_by_pass": [t.num_rows for t in phrase_tables],
            "partitions": len(partitions),
            "buckets": ctx.buckets,
        }
        return counts_out, input_records(scans, skipped), extra

    def scan(self, files: list[InputFile]) -> list[ScannedInput]:
        batches = _batches(files, self.config.partition_bytes)
        results = self.runner.map(
            "scan",
            scan_inputs_task,
            batches,
            partition_bytes=self.config.partition_bytes,
            spool_dir=str(self.scratch / "spool"),
            weights=[len(b) for b in batches],
            unit="file",
        )
        return [scan for batch in results for scan in batch]

    def reduce_unigrams(
        self, ctx: TaskContext, pass_no: int, stage: str
    ) -> tuple[pa.Table, dict[str, int]]:
        results = self.runner.map(
            stage, reduce_unigrams, range(ctx.buckets), pass_no=pass_no, ctx=ctx
        )
        kept = pa.concat_tables([table for table, _ in results])
        stats = {
            "tokens": sum(s["tokens"] for _, s in results),
            "distinct_tokens": sum(s["distinct_tokens"] for _, s in results),
        }
        return kept, stats

    def phrase_pass(self, ctx: TaskContext, n_partitions: int, pass_no: int) -> pa.Table:
        """One word2phrase pass over the output of pass ``pass_no - 1``; returns its phrases."""
        config = self.config
        label = f"phrases {pass_no}/{config.phrases}"
        kept, stats = self.reduce_unigrams(ctx, pass_no - 1, f"{label}: counts")
        eligible = sorted_by_token(kept)
        write_table(eligible, ctx.eligible_path(pass_no))
        self.runner.map(
            f"{label}: pairs",
            count_bigrams_partition,
            range(n_partitions),
            pass_no=pass_no,
            ctx=ctx,
        )
        scored = self.runner.map(
            f"{label}: score",
            reduce_bigrams,
            range(ctx.buckets),
            pass_no=pass_no,
            ctx=ctx,
            total_words=stats["tokens"],
            delta=config.delta,
            threshold=config.phrase_threshold,
        )
        keys = np.concatenate([s["keys"] for s in scored]).astype(np.int64)
        order = np.argsort(keys)
        keys = keys[order]
        write_table(pa.table({"key": keys}), ctx.accepted_path(pass_no))
        merged = self.runner.map(
            f"{label}: join", merge_phrases_partition, range(n_partitions), pass_no=pass_no, ctx=ctx
        )
        self.joins += sum(m["joins"] for m in merged)
        shutil.rmtree(ctx.pass_dir(pass_no - 1), ignore_errors=True)
        # A pair can score high yet never join ("york city" inside "new york city" when
        # "new york" joins first): only phrases that appear in the text are reported.
        formed = np.isin(keys, np.concatenate([m["formed_keys"] for m in merged]))
        words = eligible.column("token").combine_chunks()
        n = len(words)
        keys = keys[formed]
        phrase = pc.binary_join_element_wise(words.take(keys // n), words.take(keys % n), "_")
        counts = np.concatenate([s["counts"] for s in scored])[order][formed]
        scores = np.concatenate([s["scores"] for s in scored])[order][formed]
        return pa.table(
            {
                "phrase": phrase,
                "count": counts.astype(np.int64),
                "score": scores.astype(np.float64),
                "pass": np.full(len(keys), pass_no, dtype=np.int32),
            },
            schema=PHRASES_SCHEMA,
        )


def _batches(files: list[InputFile], target_bytes: int) -> list[list[InputFile]]:
    """Consecutive files grouped so one scan task reads about a partition's worth."""
    batches: list[list[InputFile]] = []
    current: list[InputFile] = []
    size = 0
    for f in files:
        with contextlib.suppress(OSError):  # the scan reports it as unreadable
            size += os.path.getsize(f.path)
        current.append(f)
        if size >= target_bytes or len(current) >= _SCAN_BATCH_FILES:
            batches.append(current)
            current, size = [], 0
    if current:
        batches.append(current)
    return batches
