"""Criteo display-ads TSV lines: label, 13 integer columns, 26 hashed categorical columns.

An empty field is missing. There is no query, doc, user or time: the 26 categoricals are
sparse features ``c1..c26`` and the 13 integers dense features ``i1..i13``, kept raw (with
null for missing; a log(1 + x) transform is the model's choice, not the pipeline's). Each
line is one impression with one result (doc None, position None).

>>> line = "1\\t" + "\\t".join(["5"] * 13) + "\\t" + "\\t".join(["68fd1e64"] * 26)
>>> imp = parse_criteo_line(line)
>>> imp.results[0].label, imp.dense["i1"], imp.features["c26"]
(1, 5, '68fd1e64')
"""

from __future__ import annotations

import re

from embedrec.pipelines.clicks.records import BadLine, Impression, Result

CRITEO_DENSE = tuple(f"i{k}" for k in range(1, 14))
CRITEO_SPARSE = tuple(f"c{k}" for k in range(1, 27))
_FIELDS = 1 + len(CRITEO_DENSE) + len(CRITEO_SPARSE)
_INT64 = (-(2**63), 2**63 - 1)
_INTEGER = re.compile(r"-?[0-9]+\Z")


def parse_criteo_line(text: str) -> Impression:
    """One Criteo row → an impression with one result; raises `BadLine` otherwise."""
    fields = text.split("\t")
    if len(fields) != _FIELDS:
        raise BadLine(
            "wrong_field_count", f"{len(fields)} tab-separated fields, expected {_FIELDS}"
        )
    if fields[0] not in ("0", "1"):
        raise BadLine("bad_label", f"label {fields[0]!r} is not 0 or 1")
    dense: dict[str, int | None] = {}
    for name, raw in zip(CRITEO_DENSE, fields[1:14], strict=True):
        dense[name] = _parse_int(name, raw) if raw else None
    features: dict[str, str | None] = {
        name: (raw or None) for name, raw in zip(CRITEO_SPARSE, fields[14:], strict=True)
    }
    return Impression(
        results=[Result(doc=None, position=None, label=int(fields[0]))],
        features=features,
        dense=dense,
    )


def _parse_int(name: str, raw: str) -> int:
    if not _INTEGER.match(raw):
        raise BadLine("bad_integer", f"{name} {raw!r} is not an integer")
    value = int(raw)
    if not _INT64[0] <= value <= _INT64[1]:
        raise BadLine("bad_integer", f"{name} {raw!r} is out of the int64 range")
    return value
