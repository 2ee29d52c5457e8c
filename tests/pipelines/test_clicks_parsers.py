"""Line parsers of the three click-log formats: fields, types and each rejection reason."""

from __future__ import annotations

import json

import pytest

from embedrec.pipelines.clicks.parse_aol import AOL_HEADER, parse_aol_line
from embedrec.pipelines.clicks.parse_criteo import CRITEO_DENSE, CRITEO_SPARSE, parse_criteo_line
from embedrec.pipelines.clicks.parse_jsonl import parse_jsonl_line
from embedrec.pipelines.clicks.records import BadLine, parse_iso_time

HOUR_US = 3600 * 10**6


def reason_of(parse, text: str) -> str:
    with pytest.raises(BadLine) as info:
        parse(text)
    return info.value.reason


# --- JSONL ------------------------------------------------------------------------------


def test_jsonl_full_line():
    line = json.dumps(
        {
            "id": "imp-9",
            "user": "u1",
            "time": "2026-01-05T10:00:00Z",
            "query": "cheap flights",
            "results": [
                {"doc": "d17", "position": 1, "clicked": False, "title": "Cheap!"},
                {"doc": 42, "position": 2, "clicked": True},
            ],
            "features": {"device": "mobile", "region": "fr", "age": 31, "empty": ""},
        }
    )
    imp = parse_jsonl_line(line)
    assert imp.impression_id == "imp-9"
    assert imp.user == "u1"
    assert imp.time_us == parse_iso_time("2026-01-05T10:00:00+00:00")
    assert imp.query == "cheap flights"
    assert [(r.doc, r.position, r.label, r.title) for r in imp.results] == [
        ("d17", 1, 0, "Cheap!"),
        ("42", 2, 1, None),
    ]
    assert imp.features == {"device": "mobile", "region": "fr", "empty": None}
    assert imp.ignored_features == ["age"]


def test_jsonl_optional_fields_and_time_zones():
    imp = parse_jsonl_line('{"query": "q", "results": [{"doc": "d", "clicked": 0}]}')
    assert (imp.user, imp.time_us, imp.impression_id, imp.features) == (None, None, None, {})
    assert imp.results[0].position is None and imp.results[0].label == 0
    paris = parse_iso_time("2026-01-05T11:00:00+01:00")
    naive = parse_iso_time("2026-01-05T10:00:00")
    assert paris == naive == parse_iso_time("2026-01-05T10:00:00Z")
    assert parse_iso_time("2026-01-05T11:00:00Z") - naive == HOUR_US


OK = [{"doc": "d", "clicked": True}]


@pytest.mark.parametrize(
    ("record", "reason"),
    [
        ('{"query": "q", ', "bad_json"),
        ("[1]", "not_an_object"),
        ({"results": OK}, "missing_field"),
        ({"query": None, "results": OK}, "missing_field"),
        ({"query": "q"}, "missing_field"),
        ({"query": ["q"], "results": OK}, "bad_field"),
        ({"query": "q", "user": 1.5, "results": OK}, "bad_field"),
        ({"query": "q", "features": [1], "results": OK}, "bad_field"),
        ({"query": "q", "time": "soon", "results": OK}, "bad_time"),
        ({"query": "q", "time": 1700000000, "results": OK}, "bad_time"),
        ({"query": "q", "results": {}}, "bad_results"),
        ({"query": "q", "results": []}, "bad_results"),
        ({"query": "q", "results": ["d"]}, "bad_result"),
        ({"query": "q", "results": [{"clicked": True}]}, "bad_result"),
        ({"query": "q", "results": [{"doc": "", "clicked": True}]}, "bad_result"),
        ({"query": "q", "results": [{"doc": "d", "clicked": "yes"}]}, "bad_result"),
        ({"query": "q", "results": [{"doc": "d", "clicked": 2}]}, "bad_result"),
        ({"query": "q", "results": [{"doc": "d", "clicked": 1.0}]}, "bad_result"),
        ({"query": "q", "results": [{"doc": "d", "clicked": True, "title": 3}]}, "bad_result"),
        ({"query": "q", "results": [{"doc": "d", "clicked": True, "position": 0}]}, "bad_position"),
        ({"query": "q", "results": [{"doc": "d", "clicked": 1, "position": "1"}]}, "bad_position"),
        ({"query": "q", "results": OK, "features": {"doc": "x"}}, "bad_feature_name"),
        ({"query": "q", "results": OK, "features": {"a b": "x"}}, "bad_feature_name"),
    ],
)
def test_jsonl_rejections(record, reason):
    text = record if isinstance(record, str) else json.dumps(record)
    assert reason_of(parse_jsonl_line, text) == reason


# --- AOL --------------------------------------------------------------------------------


def test_aol_click_row_and_rows_without_click():
    imp = parse_aol_line("142\tcheap flights\t2006-03-01 07:17:12\t3\thttp://a.com")
    assert (imp.user, imp.query) == ("142", "cheap flights")
    assert imp.time_us == parse_iso_time("2006-03-01T07:17:12Z")
    assert [(r.doc, r.position, r.label) for r in imp.results] == [("http://a.com", 3, 1)]
    assert parse_aol_line("142\tcheap flights\t2006-03-01 07:17:12").results == []
    assert parse_aol_line("142\tcheap flights\t2006-03-01 07:17:12\t\t").results == []
    assert parse_aol_line(AOL_HEADER) is None


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("142\tq", "wrong_field_count"),
        ("142\tq\t2006-03-01 07:17:12\t1", "wrong_field_count"),
        ("142\tq\t2006-03-01 07:17:12\t1\turl\textra", "wrong_field_count"),
        ("\tq\t2006-03-01 07:17:12", "missing_field"),
        ("142\t\t2006-03-01 07:17:12", "missing_field"),
        ("142\tq\t2006-03-01", "bad_time"),
        ("142\tq\t2006-02-30 07:17:12", "bad_time"),
        ("142\tq\t2006-03-01T07:17:12", "bad_time"),
        ("142\tq\t2006-03-01 07:17:12\t0\thttp://a.com", "bad_rank"),
        ("142\tq\t2006-03-01 07:17:12\t-1\thttp://a.com", "bad_rank"),
        ("142\tq\t2006-03-01 07:17:12\ttwo\thttp://a.com", "bad_rank"),
        ("142\tq\t2006-03-01 07:17:12\t1\t", "bad_click"),
        ("142\tq\t2006-03-01 07:17:12\t\thttp://a.com", "bad_click"),
    ],
)
def test_aol_rejections(text, reason):
    assert reason_of(parse_aol_line, text) == reason


# --- Criteo -----------------------------------------------------------------------------


def criteo(label="1", ints=("5",) * 13, cats=("68fd1e64",) * 26):
    return "\t".join([label, *ints, *cats])


def test_criteo_values_and_missing():
    ints = ["", "-1", "0", "12345678901"] + [""] * 9
    cats = ["a1b2c3d4", ""] + ["x"] * 24
    imp = parse_criteo_line(criteo("0", ints, cats))
    assert [(r.doc, r.position, r.label) for r in imp.results] == [(None, None, 0)]
    assert list(imp.dense) == list(CRITEO_DENSE) and list(imp.features) == list(CRITEO_SPARSE)
    assert imp.dense["i1"] is None and imp.dense["i2"] == -1 and imp.dense["i3"] == 0
    assert imp.dense["i4"] == 12345678901 and imp.dense["i13"] is None
    assert imp.features["c1"] == "a1b2c3d4" and imp.features["c2"] is None
    assert imp.query is None and imp.user is None and imp.time_us is None


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("1\t2\t3", "wrong_field_count"),
        (criteo() + "\textra", "wrong_field_count"),
        (criteo(label=""), "bad_label"),
        (criteo(label="2"), "bad_label"),
        (criteo(ints=("1.5",) + ("",) * 12), "bad_integer"),
        (criteo(ints=("1_000",) + ("",) * 12), "bad_integer"),
        (criteo(ints=(str(2**63),) + ("",) * 12), "bad_integer"),
    ],
)
def test_criteo_rejections(text, reason):
    assert reason_of(parse_criteo_line, text) == reason
