"""What every click-log parser returns: one impression per input line, or a `BadLine`.

An *impression* is what one input line describes: a query shown with results (JSONL), one
click on a result page (AOL) or one ad display (Criteo). Each of its results becomes one
example row. Parsers raise `BadLine(reason, detail)` for a line they cannot use; the
reason is a short code counted in the manifest, the detail goes into ``rejected/``.
"""

from __future__ import annotations

import datetime as _dt
import re
from dataclasses import dataclass, field

_EPOCH = _dt.datetime(1970, 1, 1, tzinfo=_dt.UTC)
_ONE_MICROSECOND = _dt.timedelta(microseconds=1)
_FEATURE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


class BadLine(Exception):
    """A line that cannot be used: ``reason`` is a short code, ``detail`` says what was wrong."""

    def __init__(self, reason: str, detail: str = "") -> None:
        self.reason = reason
        self.detail = detail
        super().__init__(f"{reason}: {detail}" if detail else reason)

    def describe(self) -> str:
        """``reason`` or ``reason: detail``, as stored in the rejected rows."""
        return str(self)


@dataclass(slots=True)
class Result:
    """One shown result: a doc (None for Criteo), its 1-based position, and the label."""

    doc: str | None
    position: int | None
    label: int
    title: str | None = None


@dataclass(slots=True)
class Impression:
    """Everything one input line says. ``time_us``: microseconds since 1970-01-01 UTC."""

    results: list[Result]
    query: str | None = None
    user: str | None = None
    time_us: int | None = None
    impression_id: str | None = None
    features: dict[str, str | None] = field(default_factory=dict)
    dense: dict[str, int | None] = field(default_factory=dict)
    ignored_features: list[str] = field(default_factory=list)


def datetime_to_us(value: _dt.datetime) -> int:
    """Microseconds since the Unix epoch; a naive datetime is taken as UTC."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=_dt.UTC)
    return (value - _EPOCH) // _ONE_MICROSECOND


def parse_iso_time(text: str) -> int:
    """ISO 8601 (``2026-01-05T10:00:00Z``, offsets allowed, no zone = UTC) → microseconds.

    >>> parse_iso_time("1970-01-01T00:00:01Z")
    1000000
    """
    try:
        return datetime_to_us(_dt.datetime.fromisoformat(text))
    except (ValueError, OverflowError):
        raise BadLine("bad_time", f"{text!r} is not an ISO 8601 time") from None


def check_feature_name(name: str, reserved: frozenset[str]) -> None:
    """Feature names become column names: identifiers that do not shadow a fixed column."""
    if not _FEATURE_NAME.match(name):
        raise BadLine("bad_feature_name", f"{name!r} is not an identifier")
    if name in reserved:
        raise BadLine("bad_feature_name", f"{name!r} is the name of a fixed column")
