"""The clicks pipeline: raw click logs (AOL, JSONL, Criteo) → a click dataset directory.

    embedrec clicks-pipeline logs/*.jsonl --format jsonl --out data/clicks

>>> result = run_clicks_pipeline(                                     # doctest: +SKIP
...     ClicksPipelineConfig(inputs=("logs/",), format="jsonl", out="data/clicks"),
...     ClusterConfig(workers=2))
>>> result.manifest["counts"]["examples"]  # doctest: +SKIP
18342

Stages, each a set of Dask tasks over partitions (byte ranges of whole lines, see
`clicks_inputs`), so the client only ever holds per-partition summaries:

1. parse (`clicks_parse`): lines → parsed work files + rejected lines, value counts and,
   for AOL, the clicked (query, doc) pair keys;
2. merge the counts and pair keys in a tree of tasks; write the vocabularies
   (`clicks_vocab`) and the pair file from a worker;
3. split: the time cut by histogram passes (`clicks_split`), or line order / user hash;
4. finalize (`clicks_write`): line numbers, AOL negatives, split, ids, ``examples/`` and
   ``rejected/``; then the manifest. Output rows do not depend on the partitioning.

The whole directory is built beside ``out`` and renamed into place at the end.
"""

from __future__ import annotations

import datetime as _dt
import logging
import operator
import shutil
import sys
import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from embedrec.core.artifacts import check_output_dir, fingerprint, staged_output_dir, write_manifest
from embedrec.core.errors import InputError
from embedrec.core.schemas import (
    CLICK_DATASET_KIND,
    DOC_VOCAB,
    EXAMPLES_DIR,
    QUERY_TOKEN_VOCAB,
    VOCABS_DIR,
)
from embedrec.pipelines.clicks.config import ClicksPipelineConfig
from embedrec.pipelines.clicks.inputs import InputPart, expand_inputs, plan_partitions
from embedrec.pipelines.clicks.negatives import merge_pairs, negatives_record, save_pairs
from embedrec.pipelines.clicks.parse import PartSummary, parse_partition, parsed_path
from embedrec.pipelines.clicks.parse_criteo import CRITEO_DENSE, CRITEO_SPARSE
from embedrec.pipelines.clicks.split import (
    TRAIN,
    VALIDATION,
    add_histograms,
    find_time_cut,
    partition_time_histogram,
    validation_count,
)
from embedrec.pipelines.clicks.tokens import TOKENIZER_NAME
from embedrec.pipelines.clicks.vocab import merge_counts, write_vocabs
from embedrec.pipelines.clicks.write import FinalizePlan, Placement, finalize_partition
from embedrec.pipelines.runtime.dask_cluster import ClusterConfig, dashboard_link, dask_client
from embedrec.pipelines.runtime.task_runner import remove_stray_temp_files

log = logging.getLogger(__name__)

WORK_DIR = "_work"  # scratch inside the staged output; removed before it is renamed
_FAN_IN = 8


@dataclass(frozen=True)
class ClicksPipelineResult:
    """Where the dataset went, its manifest, and the dashboard the job ran under."""

    out: str
    manifest: dict[str, Any]
    dashboard: str

    def to_json(self) -> dict[str, Any]:
        m = self.manifest
        return {
            "out": self.out,
            "format": m["format"],
            "counts": m["counts"],
            "rejected": m["rejected"],
            "split": m["split"],
            "vocab_sizes": {name: v["size"] for name, v in m["vocabs"].items()},
            "features": m["features"],
            "dashboard": self.dashboard,
        }


def run_clicks_pipeline(
    config: ClicksPipelineConfig,
    cluster: ClusterConfig | None = None,
    *,
    progress: bool = False,
    on_dashboard: Callable[[str], None] | None = None,
) -> ClicksPipelineResult:
    """Build a click dataset at ``config.out`` (see module doc); returns its manifest.

    Raises `InputError` for missing or empty inputs and `OutputExistsError` for an
    existing output without ``overwrite`` — both before any cluster is started.
    """
    files = expand_inputs(config.inputs)
    check_output_dir(config.out, overwrite=config.overwrite)
    parts = plan_partitions(files, config.block_size)
    if not parts:
        raise InputError(", ".join(config.inputs), "holds no lines (every input file is empty)")
    inputs = [fingerprint(f) for f in files]
    with (
        staged_output_dir(config.out, overwrite=config.overwrite) as stage,
        dask_client(cluster or ClusterConfig()) as client,
    ):
        link = dashboard_link(client)
        if on_dashboard is not None:
            on_dashboard(link)
        job = _Job(client, config, parts, stage, progress)
        manifest = job.run(inputs)
    return ClicksPipelineResult(out=config.out, manifest=manifest, dashboard=link)


class _Job:
    """One run's Dask calls, stage by stage (see module doc)."""

    def __init__(
        self,
        client: Any,
        config: ClicksPipelineConfig,
        parts: list[InputPart],
        stage: Path,
        progress: bool,
    ) -> None:
        self.client = client
        self.config = config
        self.parts = parts
        self.stage = stage
        self.work = stage / WORK_DIR
        self.progress = progress
        self.token = uuid.uuid4().hex[:8]  # task keys unique even on a shared scheduler

    def key(self, *name: object) -> str:
        return "clicks-" + "-".join(str(n) for n in name) + "-" + self.token

    def run(self, inputs: list[dict[str, Any]]) -> dict[str, Any]:
        for directory in (self.work, self.stage / EXAMPLES_DIR, self.stage / VOCABS_DIR):
            directory.mkdir(parents=True, exist_ok=True)
        fmt = self.config.format
        parsed = [
            self.client.submit(
                parse_partition, p, fmt, str(self.work), key=self.key("parse", p.index)
            )
            for p in self.parts
        ]
        self._wait(parsed, "parse")
        summaries: list[PartSummary] = self.client.gather(
            [
                self.client.submit(operator.attrgetter("summary"), f, key=self.key("summary", i))
                for i, f in enumerate(parsed)
            ]
        )
        sparse, dense = _feature_names(fmt, summaries)
        vocabs = self._write_vocabs(parsed, sparse)
        pairs_path = (
            self._write_pairs(parsed) if fmt == "aol" and self.config.aol_negatives else None
        )
        del parsed  # releases the per-partition counts held by the workers
        plan = self._plan(summaries, sparse, dense, pairs_path)
        totals = self._finalize(plan, summaries)
        shutil.rmtree(self.work)
        remove_stray_temp_files(self.stage)
        return write_manifest(
            self.stage,
            kind=CLICK_DATASET_KIND,
            config=self.config.to_json(),
            inputs=inputs,
            counts=_counts(summaries, totals),
            extra=_manifest_extra(self.config, plan, summaries, totals, vocabs, len(self.parts)),
        )

    def _wait(self, futures: Sequence[Any], what: str) -> None:
        from distributed import as_completed
        from tqdm import tqdm

        with tqdm(
            total=len(futures), desc=what, unit="part", file=sys.stderr, disable=not self.progress
        ) as bar:
            for future in as_completed(futures):
                future.result()  # re-raise a failed task's error here
                bar.update(1)

    def _reduce(self, func: Callable[..., Any], futures: list[Any], name: str) -> Any:
        level = 0
        while len(futures) > 1:
            futures = [
                self.client.submit(func, *futures[i : i + _FAN_IN], key=self.key(name, level, i))
                for i in range(0, len(futures), _FAN_IN)
            ]
            level += 1
        return futures[0]

    def _write_vocabs(self, parsed: list[Any], sparse: tuple[str, ...]) -> dict[str, Any]:
        counts = [
            self.client.submit(operator.attrgetter("counts"), f, key=self.key("counts", i))
            for i, f in enumerate(parsed)
        ]
        merged = self._reduce(merge_counts, counts, "merge-counts")
        names = [QUERY_TOKEN_VOCAB, DOC_VOCAB, *sparse]
        report = self.client.submit(
            write_vocabs,
            merged,
            names,
            str(self.stage),
            self.config.min_count,
            key=self.key("vocabs"),
        ).result()
        log.info("wrote %d vocabularies", len(report))
        return dict(report)

    def _write_pairs(self, parsed: list[Any]) -> str:
        pairs = [
            self.client.submit(operator.attrgetter("pairs"), f, key=self.key("pairs", i))
            for i, f in enumerate(parsed)
        ]
        merged = self._reduce(merge_pairs, pairs, "merge-pairs")
        path = str(self.work / "clicked-pairs.npy")
        saved = self.client.submit(save_pairs, path, merged, key=self.key("save-pairs"))
        return str(saved.result())

    def _plan(
        self,
        summaries: list[PartSummary],
        sparse: tuple[str, ...],
        dense: tuple[str, ...],
        pairs_path: str | None,
    ) -> FinalizePlan:
        config = self.config
        method = "line-order" if config.format == "criteo" else config.split
        cut = None
        if method == "time":
            timed = [s for s in summaries if s.timed_impressions]
            if timed:
                cut = find_time_cut(
                    self._time_histogram,
                    min(s.time_min for s in timed if s.time_min is not None),
                    max(s.time_max for s in timed if s.time_max is not None),
                    sum(s.timed_impressions for s in timed),
                    config.valid_fraction,
                )
            else:
                log.warning("no impression has a time: the time split puts everything in train")
        return FinalizePlan(
            work_dir=str(self.work),
            out_dir=str(self.stage),
            fmt=config.format,
            sparse=sparse,
            dense=dense,
            split_method=method,
            valid_fraction=config.valid_fraction,
            cut_time=cut,
            total_impressions=sum(s.impressions for s in summaries),
            aol_negatives=config.aol_negatives,
            seed=config.seed,
            pairs_path=pairs_path,
        )

    def _time_histogram(self, lo: int, width: int, bins: int) -> np.ndarray:
        futures = [
            self.client.submit(
                partition_time_histogram,
                str(parsed_path(self.work, p.index)),
                lo,
                width,
                bins,
                key=self.key("time-histogram", lo, width, p.index),
            )
            for p in self.parts
        ]
        # Summed on the workers: the client gets one histogram, not one per partition.
        total = self._reduce(add_histograms, futures, f"time-histogram-sum-{lo}-{width}")
        return np.asarray(total.result())

    def _finalize(self, plan: FinalizePlan, summaries: list[PartSummary]) -> Counter[str]:
        futures = []
        line_offsets: Counter[int] = Counter()
        impressions = 0
        for part, summary in zip(self.parts, summaries, strict=True):
            place = Placement(
                index=part.index,
                source=part.source,
                source_index=part.source_index,
                line_offset=line_offsets[part.source_index],
                impression_offset=impressions,
            )
            line_offsets[part.source_index] += summary.lines
            impressions += summary.impressions
            futures.append(
                self.client.submit(
                    finalize_partition, plan, place, key=self.key("write", part.index)
                )
            )
        self._wait(futures, "write")
        totals: Counter[str] = Counter()
        for counts in self.client.gather(futures):
            totals.update(counts)
        return totals


def _feature_names(
    fmt: str, summaries: Sequence[PartSummary]
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    if fmt == "criteo":
        return CRITEO_SPARSE, CRITEO_DENSE
    return tuple(sorted({name for s in summaries for name in s.sparse})), ()


def _counts(summaries: Sequence[PartSummary], totals: Counter[str]) -> dict[str, Any]:
    def total(field: str) -> int:
        return sum(getattr(s, field) for s in summaries)

    examples = totals[f"examples_{TRAIN}"] + totals[f"examples_{VALIDATION}"]
    positives = totals[f"positives_{TRAIN}"] + totals[f"positives_{VALIDATION}"]
    return {
        "lines": total("lines"),
        "header_lines": total("header_lines"),
        "blank_lines": total("blank_lines"),
        "rows_without_click": total("without_click"),
        "rejected": sum(sum(s.rejected.values()) for s in summaries),
        "impressions": total("impressions"),
        "examples": examples,
        "positives": positives,
        "negatives": examples - positives,
        "negatives_missing": totals["negatives_missing"],
    }


def _manifest_extra(
    config: ClicksPipelineConfig,
    plan: FinalizePlan,
    summaries: Sequence[PartSummary],
    totals: Counter[str],
    vocabs: dict[str, Any],
    partitions: int,
) -> dict[str, Any]:
    rejected: Counter[str] = Counter()
    ignored: Counter[str] = Counter()
    for s in summaries:
        rejected.update(s.rejected)
        ignored.update(s.ignored_features)
    impressions = sum(s.impressions for s in summaries)
    missing = {name: impressions - vocabs[name]["occurrences"] for name in plan.sparse}
    extra: dict[str, Any] = {
        "format": config.format,
        "tokenizer": TOKENIZER_NAME,
        "partitions": partitions,
        "features": {
            "sparse": list(plan.sparse),
            "dense": list(plan.dense),
            "missing": missing,
            "ignored_values": dict(sorted(ignored.items())),
        },
        "vocabs": vocabs,
        "rejected": dict(sorted(rejected.items())),
        "split": _split_record(plan, totals),
    }
    if config.format == "aol":
        record = negatives_record(config.aol_negatives, config.seed)
        record["missing"] = totals["negatives_missing"]
        extra["negatives"] = record
    return extra


def _split_record(plan: FinalizePlan, totals: Counter[str]) -> dict[str, Any]:
    record: dict[str, Any] = {"method": plan.split_method, "valid_fraction": plan.valid_fraction}
    if plan.split_method == "time":
        record["rule"] = "validation: impression time > cut_time; no time: train"
        record["cut_time_us"] = plan.cut_time
        record["cut_time"] = (
            None
            if plan.cut_time is None
            else (
                _dt.datetime(1970, 1, 1, tzinfo=_dt.UTC) + _dt.timedelta(microseconds=plan.cut_time)
            ).isoformat()
        )
        record["impressions_without_time"] = totals["impressions_without_time"]
    elif plan.split_method == "hash-user":
        record["rule"] = (
            "validation: blake2b-64(user, UTF-8) / 2**64 < valid_fraction; no user: train"
        )
        record["impressions_without_user"] = totals["impressions_without_user"]
    else:
        first = plan.total_impressions - validation_count(
            plan.total_impressions, plan.valid_fraction
        )
        record["rule"] = "validation: impressions at input-order position >= cut_index (0-based)"
        record["cut_index"] = first
    for what in ("impressions", "examples", "positives"):
        record[what] = {split: totals[f"{what}_{split}"] for split in (TRAIN, VALIDATION)}
    return record
