"""The three logs parse with plain readers, agree with each other and with truth.parquet."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re

import pyarrow.parquet as pq
import pytest

from embedrec.core.artifacts import read_manifest
from embedrec.pipelines.synthetic.clicks.config import ClickLogConfig
from embedrec.pipelines.synthetic.clicks.generate import FILES, generate_click_logs

CONFIG = ClickLogConfig(queries=60, docs=200, impressions=600, users=50, seed=3)
HEX8 = re.compile(r"[0-9a-f]{8}\Z")


@pytest.fixture(scope="module")
def logs(tmp_path_factory):
    out = tmp_path_factory.mktemp("clickgen") / "logs"
    result = generate_click_logs(CONFIG, out)
    return out, result


@pytest.fixture(scope="module")
def truth(logs):
    return pq.read_table(logs[0] / "truth.parquet").to_pylist()


def test_writes_every_file_and_a_manifest(logs):
    out, result = logs
    assert sorted(p.name for p in out.iterdir()) == sorted(FILES)
    manifest = read_manifest(out, kinds=["synthetic-clicks"])
    assert manifest["config"]["seed"] == 3 and manifest["config"]["impressions"] == 600
    assert manifest["counts"] == result["counts"]
    assert manifest["counts"]["results"] == 6000


def test_jsonl_parses_and_matches_the_contract(logs):
    out, _ = logs
    lines = (out / "impressions.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(lines) == CONFIG.impressions
    times = []
    for i, line in enumerate(lines):
        obj = json.loads(line)
        assert list(obj) == ["id", "user", "time", "query", "results", "features"]
        assert obj["id"] == f"i{i:07d}" and re.fullmatch(r"u\d+", obj["user"])
        times.append(dt.datetime.fromisoformat(obj["time"]))
        assert obj["time"].endswith("Z") and obj["query"]
        assert [r["position"] for r in obj["results"]] == list(range(1, 11))
        for result in obj["results"]:
            assert list(result) == ["doc", "position", "clicked", "title"]
            assert re.fullmatch(r"d\d+", result["doc"]) and isinstance(result["clicked"], bool)
        assert set(obj["features"]) == {"device", "region"}
    assert times == sorted(times) and len(set(times)) == len(times)


def test_aol_parses_and_matches_the_contract(logs):
    out, _ = logs
    text = (out / "aol.tsv").read_text(encoding="utf-8")
    rows = list(csv.reader(io.StringIO(text), delimiter="\t", quoting=csv.QUOTE_NONE))
    assert rows[0] == ["AnonID", "Query", "QueryTime", "ItemRank", "ClickURL"]
    keys = []
    for row in rows[1:]:
        assert len(row) in (3, 5)
        assert row[0].isdigit()
        when = dt.datetime.strptime(row[2], "%Y-%m-%d %H:%M:%S")
        if len(row) == 5:
            assert 1 <= int(row[3]) <= 10 and re.fullmatch(r"http://www\.d\d+\.com", row[4])
        keys.append((int(row[0]), when, int(row[3]) if len(row) == 5 else 0))
    assert keys == sorted(keys)  # by AnonID, then time, then rank, as the AOL release


def test_criteo_parses_and_matches_the_contract(logs):
    out, _ = logs
    rows = [
        line.split("\t") for line in (out / "criteo.tsv").read_text(encoding="utf-8").splitlines()
    ]
    assert len(rows) == CONFIG.impressions
    missing_ints = [0] * 13
    for row in rows:
        assert len(row) == 40 and row[0] in ("0", "1")
        for j, value in enumerate(row[1:14]):
            if value:
                int(value)
            else:
                missing_ints[j] += 1
        assert all(value == "" or HEX8.match(value) for value in row[14:])
    assert missing_ints[0] == 0 and missing_ints[11] > 0  # position never missing, noise often


def test_truth_rows_point_at_the_jsonl_results(logs, truth):
    out, _ = logs
    lines = (out / "impressions.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(truth) == CONFIG.impressions * CONFIG.results_per_impression
    for row in truth:
        obj = json.loads(lines[row["jsonl_line"] - 1])
        result = obj["results"][row["result_index"]]
        assert obj["id"] == row["impression_id"] and obj["user"] == row["user"]
        assert obj["query"] == row["query"] and result["doc"] == row["doc"]
        assert result["position"] == row["position"] and result["clicked"] == row["clicked"]
        assert dt.datetime.fromisoformat(obj["time"]) == row["time"]
        assert row["p_click"] == pytest.approx(row["examination"] * row["relevance"])
        assert row["examination"] == pytest.approx(row["position"] ** -0.7)


def test_truth_rows_point_at_the_aol_rows(logs, truth):
    out, _ = logs
    rows = (out / "aol.tsv").read_text(encoding="utf-8").splitlines()
    clicks_per_impression: dict[str, int] = {}
    for row in truth:
        first = rows[row["aol_line"] - 1].split("\t")
        assert f"u{first[0]}" == row["user"] and first[1] == row["query"]
        assert first[2] == row["time"].strftime("%Y-%m-%d %H:%M:%S")
        clicks_per_impression[row["impression_id"]] = clicks_per_impression.get(
            row["impression_id"], 0
        )
        if row["clicked"]:
            clicks_per_impression[row["impression_id"]] += 1
            fields = rows[row["aol_click_line"] - 1].split("\t")
            assert fields[:3] == first[:3]
            assert fields[3:] == [str(row["position"]), f"http://www.{row['doc']}.com"]
        else:
            assert row["aol_click_line"] is None
    for row in truth:
        if clicks_per_impression[row["impression_id"]] == 0:
            assert len(rows[row["aol_line"] - 1].split("\t")) == 3
    expected_rows = sum(max(c, 1) for c in clicks_per_impression.values())
    assert len(rows) == 1 + expected_rows


def test_truth_rows_point_at_the_criteo_rows(logs, truth):
    out, _ = logs
    rows = [
        line.split("\t") for line in (out / "criteo.tsv").read_text(encoding="utf-8").splitlines()
    ]
    marked = [row for row in truth if row["criteo_line"] is not None]
    assert len(marked) == CONFIG.impressions  # one Criteo row per impression
    assert sorted(row["criteo_line"] for row in marked) == list(range(1, CONFIG.impressions + 1))
    for row in marked:
        fields = rows[row["criteo_line"] - 1]
        assert fields[0] == ("1" if row["clicked"] else "0")
        assert fields[1] == str(row["position"])  # I1 = position
    # Same user, same hash in C1 (when not missing): hashes are per value.
    user_hash: dict[str, set[str]] = {}
    for row in marked:
        value = rows[row["criteo_line"] - 1][14]
        if value:
            user_hash.setdefault(row["user"], set()).add(value)
    assert all(len(hashes) == 1 for hashes in user_hash.values())
    assert len({h for hashes in user_hash.values() for h in hashes}) == len(user_hash)


def test_split_is_the_time_last_tenth(truth):
    validation = [row for row in truth if row["split"] == "validation"]
    train = [row for row in truth if row["split"] == "train"]
    assert len({row["impression_id"] for row in validation}) == 60
    assert max(row["time"] for row in train) < min(row["time"] for row in validation)


def test_same_seed_same_bytes_other_seed_other_bytes(logs, tmp_path):
    out, _ = logs
    again = tmp_path / "again"
    generate_click_logs(CONFIG, again)
    for name in FILES:
        if name != "manifest.json":  # holds the creation time
            assert (out / name).read_bytes() == (again / name).read_bytes(), name
    other = tmp_path / "other"
    generate_click_logs(
        ClickLogConfig(queries=60, docs=200, impressions=600, users=50, seed=4), other
    )
    assert (out / "impressions.jsonl").read_bytes() != (other / "impressions.jsonl").read_bytes()
