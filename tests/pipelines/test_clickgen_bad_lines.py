"""Planted bad lines: a strict plain reader finds exactly the lines bad_lines.json lists."""

from __future__ import annotations

import datetime as dt
import io
import json
import re

import numpy as np
import pyarrow.parquet as pq
import pytest

from embedrec.pipelines.synthetic.clicks.bad_lines import (
    BAD_LINE_KINDS,
    KIND_CYCLE,
    BadLinePlan,
    write_lines,
)
from embedrec.pipelines.synthetic.clicks.config import ClickLogConfig
from embedrec.pipelines.synthetic.clicks.generate import generate_click_logs

CONFIG = ClickLogConfig(queries=60, docs=200, impressions=400, users=50, seed=5, bad_lines=30)
INTEGER = re.compile(r"-?[0-9]+\Z")
HEX8 = re.compile(r"[0-9a-f]{8}\Z")


def jsonl_problem(text: str) -> str | None:
    try:
        obj = json.loads(text)
    except json.JSONDecodeError:
        return "bad_json"
    if "query" not in obj or "results" not in obj:
        return "missing_field"
    try:
        dt.datetime.fromisoformat(obj["time"])
    except ValueError:
        return "bad_time"
    if any(not isinstance(r["position"], int) for r in obj["results"]):
        return "bad_position"
    return None


def aol_problem(text: str) -> str | None:
    fields = text.split("\t")
    if len(fields) not in (3, 5):
        return "wrong_field_count"
    try:
        dt.datetime.strptime(fields[2], "%Y-%m-%d %H:%M:%S")
    except ValueError:
        return "bad_time"
    if len(fields) == 5 and not fields[3].isdigit():
        return "bad_rank"
    return None


def criteo_problem(text: str) -> str | None:
    fields = text.split("\t")
    if len(fields) != 40:
        return "wrong_field_count"
    if fields[0] not in ("0", "1"):
        return "bad_label"
    if any(value and not INTEGER.match(value) for value in fields[1:14]):
        return "bad_integer"
    assert all(value == "" or HEX8.match(value) for value in fields[14:])
    return None


READERS = {"impressions.jsonl": jsonl_problem, "aol.tsv": aol_problem, "criteo.tsv": criteo_problem}


@pytest.fixture(scope="module")
def logs(tmp_path_factory):
    out = tmp_path_factory.mktemp("clickgen-bad") / "logs"
    generate_click_logs(CONFIG, out)
    return out


def found_problems(out):
    found = {}
    for name, problem in READERS.items():
        raw_lines = (out / name).read_bytes().split(b"\n")
        assert raw_lines[-1] == b""  # every line ends with a newline
        for number, raw in enumerate(raw_lines[:-1], start=1):
            if name == "aol.tsv" and number == 1:
                continue  # header
            try:
                kind = problem(raw.decode("utf-8"))
            except UnicodeDecodeError:
                kind = "not_utf8"
            if kind is not None:
                found[(name, number)] = kind
    return found


def test_reader_finds_exactly_the_listed_lines(logs):
    report = json.loads((logs / "bad_lines.json").read_text())
    listed = {(entry["file"], entry["line"]): entry["kind"] for entry in report["lines"]}
    assert report["total"] == len(listed) == 30
    assert found_problems(logs) == listed


def test_every_kind_is_planted_and_counted(logs):
    report = json.loads((logs / "bad_lines.json").read_text())
    # 30 lines cycle through 13 kinds: each kind twice, the first four of the cycle thrice.
    for file, kinds in BAD_LINE_KINDS.items():
        for kind in kinds:
            expected = 2 + (KIND_CYCLE.index((file, kind)) < 4)
            assert report["by_file"][file][kind] == expected, (file, kind)


def test_bad_lines_are_extra_lines(logs):
    truth = pq.read_table(logs / "truth.parquet", columns=["jsonl_line", "criteo_line"])
    report = json.loads((logs / "bad_lines.json").read_text())
    bad = {(e["file"], e["line"]) for e in report["lines"]}
    jsonl = set(truth.column("jsonl_line").to_pylist())
    assert len(jsonl) == CONFIG.impressions  # every impression is still there …
    assert not {("impressions.jsonl", n) for n in jsonl} & bad  # … on a good line
    criteo = {n for n in truth.column("criteo_line").to_pylist() if n is not None}
    assert not {("criteo.tsv", n) for n in criteo} & bad
    jsonl_lines = (logs / "impressions.jsonl").read_bytes().count(b"\n")
    assert jsonl_lines == CONFIG.impressions + sum(report["by_file"]["impressions.jsonl"].values())


def test_write_lines_puts_bad_lines_in_their_slots():
    plan = BadLinePlan(
        file="criteo.tsv",
        n_good=5,
        header_lines=1,
        slots=np.array([0, 0, 3, 5]),
        kinds=("bad_label", "bad_label", "bad_label", "bad_label"),
        sources=np.array([0, 1, 2, 4]),
        first_number=0,
    )
    good = [f"{i % 2}\t" + "\t".join(["1"] * 13 + ["0000000a"] * 26) for i in range(5)]
    handle = io.BytesIO()
    entries = write_lines(handle, [good[:2], good[2:4], good[4:]], plan, lambda i: good[i])
    lines = handle.getvalue().decode().splitlines()
    labels = [line.split("\t")[0] for line in lines]
    assert labels == ["yes", "yes", "0", "1", "0", "yes", "1", "0", "yes"]
    # Line numbers count the header line the caller writes first.
    assert [e["line"] for e in entries] == [2, 3, 7, 10]
    assert plan.good_line_numbers(np.arange(5)).tolist() == [4, 5, 6, 8, 9]
