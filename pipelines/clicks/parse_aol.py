r"""AOL query log lines: ``AnonID\tQuery\tQueryTime[\tItemRank\tClickURL]``.

A row with a click has five fields (ItemRank 1-based, ClickURL the doc id); a row without a
click has three (or five with the last two empty, as in the published files). The header
line may repeat where files were concatenated; `parse_aol_line` returns None for it.
QueryTime (``YYYY-MM-DD HH:MM:SS``) carries no zone; it is stored as given, tagged UTC.

The log holds clicks only: each click row is one impression with the click as its one
result. Negatives are added later, once the doc popularity is known (`clicks_negatives`).

>>> parse_aol_line("142\tcheap flights\t2006-03-01 07:17:12\t1\thttp://a.com").results
[Result(doc='http://a.com', position=1, label=1, title=None)]
"""

from __future__ import annotations

import datetime as _dt
import re

from embedrec.pipelines.clicks.records import BadLine, Impression, Result, datetime_to_us

AOL_HEADER = "AnonID\tQuery\tQueryTime\tItemRank\tClickURL"
_TIME = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\Z")


def parse_aol_line(text: str) -> Impression | None:
    """One AOL row → an impression (no results when no click); None for a header line."""
    if text == AOL_HEADER:
        return None
    fields = text.split("\t")
    if len(fields) not in (3, 5):
        raise BadLine("wrong_field_count", f"{len(fields)} tab-separated fields, expected 3 or 5")
    user, query, when = fields[0], fields[1], fields[2]
    if not user:
        raise BadLine("missing_field", "AnonID is empty")
    if not query:
        raise BadLine("missing_field", "Query is empty")
    time_us = _parse_aol_time(when)
    impression = Impression(results=[], query=query, user=user, time_us=time_us)
    if len(fields) == 3 or (fields[3] == "" and fields[4] == ""):
        return impression
    rank_text, url = fields[3], fields[4]
    if not url:
        raise BadLine("bad_click", "ItemRank given without ClickURL")
    if not rank_text:
        raise BadLine("bad_click", "ClickURL given without ItemRank")
    impression.results.append(Result(doc=url, position=_parse_rank(rank_text), label=1))
    return impression


def _parse_aol_time(text: str) -> int:
    if not _TIME.match(text):
        raise BadLine("bad_time", f"{text!r} is not YYYY-MM-DD HH:MM:SS")
    try:
        return datetime_to_us(_dt.datetime.fromisoformat(text))
    except ValueError:
        raise BadLine("bad_time", f"{text!r} is not a valid date and time") from None


def _parse_rank(text: str) -> int:
    if not text.isascii() or not text.isdigit() or int(text) < 1:
        raise BadLine("bad_rank", f"ItemRank {text!r} is not an integer >= 1")
    rank = int(text)
    if rank > 2**31 - 1:
        raise BadLine("bad_rank", f"ItemRank {text!r} is out of range")
    return rank
