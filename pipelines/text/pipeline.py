"""The text pipeline: raw text files → a text dataset directory (``embedrec text-pipeline``).

Stages, each a set of Dask tasks over line-aligned partitions (see `embedrec.pipelines.text.tasks`):

1. scan      — find format, size, lines and partition cuts of every input (spool archives);
2. tokenize  — decode, split sentences, tokenise, count tokens; bad lines kept aside;
3. phrases   — ``phrases`` passes of word2phrase: count pairs, score, join (optional);
4. vocab     — exact counts reduced by hash bucket; ids by count, then token;
5. write     — tokens → ids, OOV dropped, long sentences cut, ``corpus/part-N.parquet``.

The result depends only on the inputs and the config, not on the number of workers or
partitions, nor on where it ran (the embedded LocalCluster or ``--scheduler``): same
``vocab.parquet`` bytes and the same corpus rows in the same order. Workers write every file;
the client sends small task descriptions and gets counts back, so its memory does not grow
with the corpus, and a task whose worker dies is run again by Dask with the same result.

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

from embedrec.core.artifacts import staged_output_dir, write_manifest
from embedrec.core.errors import InputError, PipelineError
from embedrec.core.schemas import REJECTED_DIR, TEXT_DATASET_KIND
from embedrec.pipelines.runtime.dask_cluster import ClusterConfig, dashboard_link, dask_client
from embedrec.pipelines.runtime.task_runner import TaskRunner, remove_stray_temp_files
from embedrec.pipelines.text.config import TextPipelineConfig
from embedrec.pipelines.text.partitions import plan_partitions
from embedrec.pipelines.text.phrase_tasks import (
    collect_phrases,
    count_bigrams_partition,
    merge_phrases_partition,
    reduce_bigrams,
    write_accepted,
    write_eligible,
    write_phrases_file,
)
from embedrec.pipelines.text.report import (
    input_records,
    summarise_counts,
    warn_skipped,
    write_skipped,
)
from embedrec.pipelines.text.sources import InputFile, ScannedInput, SkippedInput, discover_inputs
from embedrec.pipelines.text.sources import scan_inputs as scan_inputs_task
from embedrec.pipelines.text.tasks import (
    TaskContext,
    reduce_unigrams,
    tokenize_partition,
    write_corpus_partition,
    write_vocabulary,
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
        remove_stray_temp_files(stage)
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
        phrases_by_pass = [
            self.phrase_pass(ctx, len(partitions), k) for k in range(1, config.phrases + 1)
        ]
        token_stats = self.reduce_unigrams(ctx, config.phrases, "vocab")
        vocab_size = self.runner.one(
            "vocab: write", write_vocabulary, config.phrases, ctx=ctx, max_vocab=config.max_vocab
        )
        if not vocab_size:
            raise PipelineError(
                f"no token occurs at least --min-count {config.min_count} times in "
                f"{token_stats['tokens']} token(s); lower --min-count"
            )
        written = self.runner.map(
            "write", write_corpus_partition, range(len(partitions)), pass_no=config.phrases, ctx=ctx
        )
        phrases = (
            self.runner.one("phrases: write", write_phrases_file, config.phrases, ctx=ctx)
            if config.phrases
            else 0
        )
        if skipped:
            write_skipped(self.stage / REJECTED_DIR / "inputs.parquet", skipped)
        counts_out = summarise_counts(
            usable, skipped, partitions, tokenized, written, token_stats, vocab_size
        )
        counts_out["phrases"] = phrases
        counts_out["phrase_joins"] = self.joins
        extra = {
            "phrases_by_pass": phrases_by_pass,
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

    def reduce_unigrams(self, ctx: TaskContext, pass_no: int, stage: str) -> dict[str, int]:
        """Sum pass ``pass_no``'s token counts bucket by bucket; the kept tokens stay on disk."""
        results = self.runner.map(
            stage, reduce_unigrams, range(ctx.buckets), pass_no=pass_no, ctx=ctx
        )
        return {
            "tokens": sum(r["tokens"] for r in results),
            "distinct_tokens": sum(r["distinct_tokens"] for r in results),
        }

    def phrase_pass(self, ctx: TaskContext, n_partitions: int, pass_no: int) -> int:
        """One word2phrase pass over the output of pass ``pass_no - 1`` (the stages are in
        `embedrec.pipelines.text.phrase_tasks`); returns how many phrases formed."""
        config = self.config
        label = f"phrases {pass_no}/{config.phrases}"
        partitions = range(n_partitions)
        stats = self.reduce_unigrams(ctx, pass_no - 1, f"{label}: counts")
        self.runner.one(f"{label}: eligible", write_eligible, pass_no, ctx=ctx)
        self.runner.map(
            f"{label}: pairs", count_bigrams_partition, partitions, pass_no=pass_no, ctx=ctx
        )
        self.runner.map(
            f"{label}: score",
            reduce_bigrams,
            range(ctx.buckets),
            pass_no=pass_no,
            ctx=ctx,
            total_words=stats["tokens"],
            delta=config.delta,
            threshold=config.phrase_threshold,
        )
        self.runner.one(f"{label}: accepted", write_accepted, pass_no, ctx=ctx)
        merged = self.runner.map(
            f"{label}: join", merge_phrases_partition, partitions, pass_no=pass_no, ctx=ctx
        )
        self.joins += sum(m["joins"] for m in merged)
        formed: int = self.runner.one(f"{label}: phrases", collect_phrases, pass_no, ctx=ctx)
        shutil.rmtree(ctx.pass_dir(pass_no - 1), ignore_errors=True)
        return formed


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
