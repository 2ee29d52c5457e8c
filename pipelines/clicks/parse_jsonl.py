"""JSONL impression lines: one JSON object per line, one example per shown result.

    {"user": "u1", "time": "2026-01-05T10:00:00Z", "query": "cheap flights",
     "results": [{"doc": "d17", "position": 1, "clicked": false, "title": "…"}, …],
     "features": {"device": "mobile", "region": "fr"}, "id": "imp-1"}

Required: ``query`` (string) and ``results`` (non-empty list; each with ``doc`` and
``clicked``). Optional: ``id`` (impression id), ``user``, ``time`` (ISO 8601; no zone =
UTC), per result ``position`` (integer >= 1) and ``title``, and ``features``. Ids (``id``,
``user``, ``doc``) may be strings or integers. ``clicked`` is a boolean or 0/1. Every
string-valued feature becomes a sparse feature; a null or empty one is missing; any other value
(number, list, …) is not used and is counted per feature name in the manifest.

>>> imp = parse_jsonl_line('{"query": "q", "results": [{"doc": "d1", "clicked": true}]}')
>>> imp.query, imp.results[0].doc, imp.results[0].label
('q', 'd1', 1)
"""

from __future__ import annotations

import json
from typing import Any

from embedrec.core.schemas import CLICK_RESERVED_NAMES
from embedrec.pipelines.clicks.records import (
    BadLine,
    Impression,
    Result,
    check_feature_name,
    parse_iso_time,
)


def parse_jsonl_line(text: str) -> Impression:
    """One JSON line → an impression; raises `BadLine` with the reason otherwise."""
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as exc:
        raise BadLine("bad_json", str(exc)) from None
    except RecursionError:
        raise BadLine("bad_json", "nested too deeply") from None
    if not isinstance(obj, dict):
        raise BadLine("not_an_object", f"a JSON {type(obj).__name__}, expected an object")
    if obj.get("query") is None:
        raise BadLine("missing_field", "query")
    query = obj["query"]
    if not isinstance(query, str):
        raise BadLine("bad_field", f"query is a {type(query).__name__}, expected a string")
    if "results" not in obj:
        raise BadLine("missing_field", "results")
    impression = Impression(
        results=_parse_results(obj["results"]),
        query=query,
        user=_optional_id(obj, "user"),
        impression_id=_optional_id(obj, "id"),
        time_us=_optional_time(obj.get("time")),
    )
    _parse_features(obj.get("features"), impression)
    return impression


def _parse_results(results: Any) -> list[Result]:
    if not isinstance(results, list) or not results:
        raise BadLine("bad_results", "results is not a non-empty list")
    parsed = []
    for i, entry in enumerate(results):
        if not isinstance(entry, dict):
            raise BadLine("bad_result", f"results[{i}] is not an object")
        doc = entry.get("doc")
        if isinstance(doc, int) and not isinstance(doc, bool):
            doc = str(doc)
        if not isinstance(doc, str) or not doc:
            raise BadLine("bad_result", f"results[{i}].doc is missing or not a non-empty string")
        clicked = entry.get("clicked")
        if clicked not in (True, False) or isinstance(clicked, float):
            raise BadLine("bad_result", f"results[{i}].clicked is {clicked!r}, expected a boolean")
        title = entry.get("title")
        if title is not None and not isinstance(title, str):
            raise BadLine("bad_result", f"results[{i}].title is not a string")
        parsed.append(
            Result(
                doc=doc,
                position=_position(entry.get("position"), i),
                label=int(clicked),
                title=title,
            )
        )
    return parsed


def _position(value: Any, i: int) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 2**31 - 1:
        raise BadLine(
            "bad_position", f"results[{i}].position is {value!r}, expected an integer >= 1"
        )
    return value


def _optional_id(obj: dict[str, Any], key: str) -> str | None:
    value = obj.get(key)
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if not isinstance(value, str):
        raise BadLine("bad_field", f"{key} is a {type(value).__name__}, expected a string")
    return value


def _optional_time(value: Any) -> int | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise BadLine("bad_time", f"{value!r} is not an ISO 8601 string")
    return parse_iso_time(value)


def _parse_features(features: Any, impression: Impression) -> None:
    if features is None:
        return
    if not isinstance(features, dict):
        raise BadLine("bad_field", f"features is a {type(features).__name__}, expected an object")
    for name, value in features.items():
        check_feature_name(name, CLICK_RESERVED_NAMES)
        if value is None or isinstance(value, str):
            impression.features[name] = value or None  # "" is missing, as in Criteo
        else:
            impression.ignored_features.append(name)
