r"""Planted bad lines: malformed lines mixed into the generated logs, each listed exactly.

``--bad-lines N`` adds N lines (extra lines: every good impression is still there) spread
over the three files by cycling through `BAD_LINE_KINDS` in the order of `KIND_CYCLE`, so
N = 13 plants one of each kind. Each bad line is a corrupted copy of a random good line of
its file, at a random place after the header. ``bad_lines.json`` lists them all with their
1-based line number in the file as written (header and other bad lines counted), and the
truth's line columns point at the good lines' final numbers.

Kinds (the reason codes the clicks pipeline uses, where it has one):

=====================  ==================  ==================================================
file                   kind                what the line holds
=====================  ==================  ==================================================
impressions.jsonl      bad_json            the first half of a JSON line (unterminated)
impressions.jsonl      missing_field       a JSON object without ``"results"``
impressions.jsonl      bad_time            ``"time": "2026-01-05T25:61:00Z"`` (no such time)
impressions.jsonl      bad_position        ``"position": "first"`` in the first result
impressions.jsonl      not_utf8            byte 0xFF inside the query string
aol.tsv                wrong_field_count   4 fields: AnonID, Query, QueryTime, ItemRank
aol.tsv                bad_time            QueryTime ``2026-01-05 25:61:00``
aol.tsv                bad_rank            ItemRank ``top``
aol.tsv                not_utf8            byte 0xFF at the start of the query
criteo.tsv             wrong_field_count   39 fields (the last categorical dropped)
criteo.tsv             bad_label           label ``yes``
criteo.tsv             bad_integer         first integer column with an ``x`` appended
criteo.tsv             not_utf8            byte 0xFF replacing the first hex digit of C1
=====================  ==================  ==================================================

Planted JSONL copies carry the id ``bad<N>`` so they never repeat a real impression's id.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, BinaryIO

import numpy as np

JSONL_FILE = "impressions.jsonl"
AOL_FILE = "aol.tsv"
CRITEO_FILE = "criteo.tsv"
BAD_LINES_FILE = "bad_lines.json"

BAD_LINE_KINDS: dict[str, tuple[str, ...]] = {
    JSONL_FILE: ("bad_json", "missing_field", "bad_time", "bad_position", "not_utf8"),
    AOL_FILE: ("wrong_field_count", "bad_time", "bad_rank", "not_utf8"),
    CRITEO_FILE: ("wrong_field_count", "bad_label", "bad_integer", "not_utf8"),
}
# Files take turns, so a handful of bad lines already reaches all three.
KIND_CYCLE: tuple[tuple[str, str], ...] = tuple(
    (file, kinds[i])
    for i in range(max(len(k) for k in BAD_LINE_KINDS.values()))
    for file, kinds in BAD_LINE_KINDS.items()
    if i < len(kinds)
)
_NOT_UTF8 = b"\xff"


@dataclass(frozen=True)
class BadLinePlan:
    """Where one file's bad lines go: bad line j sits just before good line ``slots[j]``.

    ``slots`` (B,) sorted, in [0, n_good]; ``kinds`` (B,) and ``sources`` (B,), the good
    line each one is a corrupted copy of; ``header_lines``: lines before the first good one.
    """

    file: str
    n_good: int
    header_lines: int
    slots: np.ndarray
    kinds: tuple[str, ...]
    sources: np.ndarray
    first_number: int

    def bad_line_numbers(self) -> np.ndarray:
        """1-based line numbers of the bad lines in the written file, shape (B,)."""
        return self.header_lines + self.slots + np.arange(len(self.slots)) + 1

    def good_line_numbers(self, good: np.ndarray) -> np.ndarray:
        """1-based line numbers of good lines ``good`` (indices in write order)."""
        return self.header_lines + good + np.searchsorted(self.slots, good, side="right") + 1


def plan_bad_lines(
    total: int, n_good: dict[str, int], header_lines: dict[str, int], rng: np.random.Generator
) -> dict[str, BadLinePlan]:
    """Split ``total`` bad lines over the files by `KIND_CYCLE` and place them at random."""
    kinds_per_file: dict[str, list[str]] = {file: [] for file in BAD_LINE_KINDS}
    for j in range(total):
        file, kind = KIND_CYCLE[j % len(KIND_CYCLE)]
        kinds_per_file[file].append(kind)
    plans = {}
    number = 0
    for file, kinds in kinds_per_file.items():
        good = n_good[file]
        order = rng.permutation(len(kinds))
        plans[file] = BadLinePlan(
            file=file,
            n_good=good,
            header_lines=header_lines.get(file, 0),
            slots=np.sort(rng.integers(0, good + 1, size=len(kinds))),
            kinds=tuple(kinds[i] for i in order),
            sources=rng.integers(0, max(good, 1), size=len(kinds)),
            first_number=number,
        )
        number += len(kinds)
    return plans


def corrupt(file: str, kind: str, line: str, number: int) -> bytes:
    """The bad line of ``kind`` made from good ``line`` of ``file`` (no line ending)."""
    if file == JSONL_FILE:
        return _corrupt_jsonl(kind, line, number)
    if file == AOL_FILE:
        return _corrupt_aol(kind, line)
    return _corrupt_criteo(kind, line)


def write_lines(
    handle: BinaryIO,
    chunks: Iterable[list[str]],
    plan: BadLinePlan,
    good_line: Callable[[int], str],
) -> list[dict[str, Any]]:
    """Write the good lines of ``chunks`` with ``plan``'s bad lines in their slots.

    ``good_line(i)`` formats good line i (the source of a corrupted copy). Returns the
    ``bad_lines.json`` entries of this file.
    """
    bad = [
        corrupt(plan.file, kind, good_line(int(source)), plan.first_number + j)
        for j, (kind, source) in enumerate(zip(plan.kinds, plan.sources, strict=True))
    ]
    slots = plan.slots.tolist()
    next_bad = 0
    written = 0
    for chunk in chunks:
        end = written + len(chunk)
        cut = 0
        while next_bad < len(bad) and slots[next_bad] < end:
            at = slots[next_bad] - written
            handle.write(_joined(chunk[cut:at]))
            handle.write(bad[next_bad] + b"\n")
            cut = at
            next_bad += 1
        handle.write(_joined(chunk[cut:]))
        written = end
    for raw in bad[next_bad:]:
        handle.write(raw + b"\n")
    numbers = plan.bad_line_numbers().tolist()
    return [
        {
            "file": plan.file,
            "line": number,
            "kind": kind,
            "raw": raw.decode("utf-8", "backslashreplace"),
        }
        for number, kind, raw in zip(numbers, plan.kinds, bad, strict=True)
    ]


def bad_lines_report(entries: list[dict[str, Any]]) -> dict[str, Any]:
    """The ``bad_lines.json`` document: totals per file and kind, and every line."""
    by_file: dict[str, dict[str, int]] = {file: {} for file in BAD_LINE_KINDS}
    for entry in entries:
        kinds = by_file[entry["file"]]
        kinds[entry["kind"]] = kinds.get(entry["kind"], 0) + 1
    return {
        "total": len(entries),
        "by_file": by_file,
        "lines": sorted(entries, key=lambda e: (e["file"], e["line"])),
        "note": "line: 1-based, counting every line of the file as written (AOL header = 1); "
        "raw: the line, undecodable bytes as \\x escapes",
    }


def _joined(lines: list[str]) -> bytes:
    return "".join(line + "\n" for line in lines).encode("utf-8")


def _corrupt_jsonl(kind: str, line: str, number: int) -> bytes:
    obj = json.loads(line)
    obj["id"] = f"bad{number}"
    if kind == "missing_field":
        del obj["results"]
    elif kind == "bad_time":
        obj["time"] = obj["time"][:10] + "T25:61:00Z"
    elif kind == "bad_position":
        obj["results"][0]["position"] = "first"
    text = json.dumps(obj)
    if kind == "bad_json":
        return text[: len(text) // 2].encode()
    if kind == "not_utf8":
        key = b'"query": "'
        raw = text.encode()
        at = raw.index(key) + len(key)
        return raw[:at] + _NOT_UTF8 + raw[at:]
    return text.encode()


def _corrupt_aol(kind: str, line: str) -> bytes:
    fields = line.split("\t")
    if kind == "wrong_field_count":
        return "\t".join([*fields[:3], fields[3] if len(fields) == 5 else "1"]).encode()
    if kind == "bad_time":
        fields[2] = fields[2][:10] + " 25:61:00"
        return "\t".join(fields).encode()
    if kind == "bad_rank":
        url = fields[4] if len(fields) == 5 else "http://www.d1.com"
        return "\t".join([*fields[:3], "top", url]).encode()
    head, rest = line.split("\t", 1)
    return head.encode() + b"\t" + _NOT_UTF8 + rest.encode()


def _corrupt_criteo(kind: str, line: str) -> bytes:
    fields = line.split("\t")
    if kind == "wrong_field_count":
        return "\t".join(fields[:-1]).encode()
    if kind == "bad_label":
        fields[0] = "yes"
        return "\t".join(fields).encode()
    if kind == "bad_integer":
        fields[1] = (fields[1] or "3") + "x"
        return "\t".join(fields).encode()
    raw = [field.encode() for field in fields]
    raw[14] = _NOT_UTF8 + (raw[14][1:] if raw[14] else b"0000000")
    return b"\t".join(raw)
