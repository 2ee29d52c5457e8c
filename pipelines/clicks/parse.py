"""Stage 1 of the clicks pipeline, one Dask task per input partition: parse and count.

`parse_partition` reads the lines a partition owns, parses them with the format's parser,
and writes two work files: the parsed examples (raw values, local line numbers) and the
rejected lines. It returns a `PartResult` that stays on the worker: value counts for the
vocabularies and the clicked (query, doc) pair keys are merged by further tasks; only the
small `PartSummary` travels to the client.
"""

from __future__ import annotations

import collections
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from embedrec.core.schemas import DOC_VOCAB, QUERY_TOKEN_VOCAB
from embedrec.pipelines.clicks.hashing import pair_key, string_hash64
from embedrec.pipelines.clicks.inputs import InputPart, read_partition_lines
from embedrec.pipelines.clicks.parse_aol import parse_aol_line
from embedrec.pipelines.clicks.parse_criteo import parse_criteo_line
from embedrec.pipelines.clicks.parse_jsonl import parse_jsonl_line
from embedrec.pipelines.clicks.records import BadLine, Impression
from embedrec.pipelines.clicks.tokens import tokenize_query
from embedrec.pipelines.runtime.task_runner import task_output

PARSERS: dict[str, Callable[[str], Impression | None]] = {
    "aol": parse_aol_line,
    "jsonl": parse_jsonl_line,
    "criteo": parse_criteo_line,
}
SPARSE_PREFIX = "f."  # work-file column of a sparse feature
DENSE_PREFIX = "d."  # work-file column of a dense feature
# Rejected raw text is cut here so one giant garbage line cannot bloat rejected/.
MAX_RAW_CHARS = 10_000

WORK_REJECTED_SCHEMA = pa.schema(
    [
        pa.field("line", pa.int64(), nullable=False),
        pa.field("raw", pa.string(), nullable=True),
        pa.field("reason", pa.string(), nullable=False),
    ]
)


@dataclass
class PartSummary:
    """What the client needs to know about one parsed partition (small)."""

    index: int
    lines: int = 0  # lines owned, blank and header lines included
    impressions: int = 0  # lines that gave at least one example
    examples: int = 0
    positives: int = 0
    header_lines: int = 0
    blank_lines: int = 0
    without_click: int = 0  # AOL rows with no click: no example (counted, not kept)
    rejected: dict[str, int] = field(default_factory=dict)
    sparse: list[str] = field(default_factory=list)  # sparse feature names seen
    ignored_features: dict[str, int] = field(default_factory=dict)
    time_min: int | None = None
    time_max: int | None = None
    timed_impressions: int = 0


@dataclass
class PartResult:
    """A parsed partition: the summary, value counts per vocabulary, clicked pair keys."""

    summary: PartSummary
    counts: dict[str, collections.Counter[str]]
    pairs: np.ndarray  # sorted unique uint64 keys of clicked (query, doc) pairs


def parsed_path(work: Path, index: int) -> Path:
    return work / f"parsed-{index:05d}.parquet"


def rejected_path(work: Path, index: int) -> Path:
    return work / f"rejected-{index:05d}.parquet"


def parse_partition(part: InputPart, fmt: str, work_dir: str) -> PartResult:
    """Parse one partition into ``work_dir`` (see module doc); runs as a Dask task."""
    parse = PARSERS[fmt]
    summary = PartSummary(index=part.index)
    rows = _Rows()
    rejected: dict[str, list] = {"line": [], "raw": [], "reason": []}
    counts: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    ignored: collections.Counter[str] = collections.Counter()
    tokens_of = _TokenCache()
    for local_line, raw in read_partition_lines(part):
        summary.lines += 1
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            _reject(
                rejected,
                local_line,
                raw.decode("utf-8", "backslashreplace"),
                BadLine("not_utf8", str(exc)),
            )
            continue
        if not text.strip():
            summary.blank_lines += 1
            continue
        try:
            impression = parse(text)
        except BadLine as bad:
            _reject(rejected, local_line, text, bad)
            continue
        if impression is None:
            summary.header_lines += 1
            continue
        if not impression.results:
            summary.without_click += 1
            continue
        ignored.update(impression.ignored_features)
        rows.add(local_line, impression)
        _count(counts, impression, tokens_of)
    summary.impressions = rows.impressions
    summary.examples = len(rows.line)
    summary.positives = sum(rows.label)
    summary.rejected = dict(collections.Counter(r.split(":", 1)[0] for r in rejected["reason"]))
    summary.sparse = sorted(rows.sparse_names)
    summary.ignored_features = dict(ignored)
    times = [t for t in rows.impression_times if t is not None]
    if times:
        summary.time_min, summary.time_max = min(times), max(times)
        summary.timed_impressions = len(times)
    # Whole files or none, same names on a rerun: Dask reruns this task when its worker dies.
    work = Path(work_dir)
    with task_output(parsed_path(work, part.index)) as tmp:
        pq.write_table(rows.table(), tmp)
    with task_output(rejected_path(work, part.index)) as tmp:
        pq.write_table(pa.table(rejected, schema=WORK_REJECTED_SCHEMA), tmp)
    pairs = _clicked_pairs(rows) if fmt == "aol" else np.zeros(0, dtype=np.uint64)
    return PartResult(summary=summary, counts=dict(counts), pairs=pairs)


def _reject(rejected: dict[str, list], line: int, text: str, bad: BadLine) -> None:
    rejected["line"].append(line)
    rejected["raw"].append(text[:MAX_RAW_CHARS])
    rejected["reason"].append(bad.describe())


class _TokenCache(dict[str, list[str]]):
    """Tokens of each distinct text, computed once per partition (queries repeat a lot)."""

    limit = 100_000  # distinct texts kept; memory stays bounded on titles that never repeat

    def __missing__(self, text: str) -> list[str]:
        if len(self) >= self.limit:
            self.clear()
        tokens = self[text] = tokenize_query(text)
        return tokens


def _count(
    counts: dict[str, collections.Counter[str]], impression: Impression, tokens_of: _TokenCache
) -> None:
    # Impression-level values count once per impression, result-level ones once per result.
    tokens = counts[QUERY_TOKEN_VOCAB]
    if impression.query is not None:
        tokens.update(tokens_of[impression.query])
    for result in impression.results:
        if result.title is not None:
            tokens.update(tokens_of[result.title])
        if result.doc is not None:
            counts[DOC_VOCAB][result.doc] += 1
    for name, value in impression.features.items():
        if value is not None:
            counts[name][value] += 1


def _clicked_pairs(rows: _Rows) -> np.ndarray:
    clicked = [
        (q, d)
        for q, d, y in zip(rows.query, rows.doc, rows.label, strict=True)
        if y and q is not None and d is not None
    ]
    if not clicked:
        return np.zeros(0, dtype=np.uint64)
    keys = pair_key(string_hash64(q for q, _ in clicked), string_hash64(d for _, d in clicked))
    return np.unique(keys)


class _Rows:
    """Column lists of the parsed examples, one row per result."""

    def __init__(self) -> None:
        self.line: list[int] = []
        self.ex: list[int] = []
        self.impression: list[str | None] = []
        self.user: list[str | None] = []
        self.time: list[int | None] = []
        self.query: list[str | None] = []
        self.title: list[str | None] = []
        self.doc: list[str | None] = []
        self.position: list[int | None] = []
        self.label: list[int] = []
        self.features: list[dict[str, str | None]] = []
        self.dense: list[dict[str, int | None]] = []
        self.sparse_names: set[str] = set()
        self.dense_names: set[str] = set()
        self.impression_times: list[int | None] = []
        self.impressions = 0

    def add(self, local_line: int, imp: Impression) -> None:
        self.impressions += 1
        self.impression_times.append(imp.time_us)
        self.sparse_names.update(imp.features)
        self.dense_names.update(imp.dense)
        for ex, result in enumerate(imp.results):
            self.line.append(local_line)
            self.ex.append(ex)
            self.impression.append(imp.impression_id)
            self.user.append(imp.user)
            self.time.append(imp.time_us)
            self.query.append(imp.query)
            self.title.append(result.title)
            self.doc.append(result.doc)
            self.position.append(result.position)
            self.label.append(result.label)
            self.features.append(imp.features)
            self.dense.append(imp.dense)

    def table(self) -> pa.Table:
        columns: dict[str, pa.Array] = {
            "line": pa.array(self.line, pa.int64()),
            "ex": pa.array(self.ex, pa.int32()),
            "impression": pa.array(self.impression, pa.string()),
            "user": pa.array(self.user, pa.string()),
            "time": pa.array(self.time, pa.int64()),
            "query": pa.array(self.query, pa.string()),
            "title": pa.array(self.title, pa.string()),
            "doc": pa.array(self.doc, pa.string()),
            "position": pa.array(self.position, pa.int32()),
            "label": pa.array(self.label, pa.int8()),
        }
        for name in sorted(self.sparse_names):
            values = [f.get(name) for f in self.features]
            columns[SPARSE_PREFIX + name] = pa.array(values, pa.string())
        for name in sorted(self.dense_names):
            numbers = [d.get(name) for d in self.dense]
            columns[DENSE_PREFIX + name] = pa.array(numbers, pa.int64())
        return pa.table(columns)
