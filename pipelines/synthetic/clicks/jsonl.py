"""``impressions.jsonl``: one JSON object per impression, in time order (line i+1 = impression i).

Each line (keys in this order; ``title`` and ``features`` are optional in the format and
always written here; ``id`` joins the line with ``truth.parquet``)::

    {"id": "i0000042", "user": "u17", "time": "2026-01-05T10:00:00Z", "query": "kalo mive",
     "results": [{"doc": "d17", "position": 1, "clicked": false, "title": "kalo rupe video"},
                 …],
     "features": {"device": "mobile", "region": "fr"}}
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any, BinaryIO

import numpy as np

from embedrec.pipelines.synthetic.clicks.bad_lines import BadLinePlan, write_lines
from embedrec.pipelines.synthetic.clicks.config import DEVICES, REGIONS
from embedrec.pipelines.synthetic.clicks.model import (
    ClickLog,
    ClickWorld,
    doc_names,
    impression_ids,
    user_names,
    utc_times,
)

CHUNK = 16384


class JsonlFormatter:
    """Formats impressions as JSONL lines; the per-doc and per-query parts are built once."""

    def __init__(self, world: ClickWorld, log: ClickLog) -> None:
        self._log = log
        self._ids = impression_ids(log.n_impressions)
        self._times = utc_times(log.time).tolist()
        n_docs = len(world.doc_title)
        # A result is  head[doc] + middle[position, clicked] + tail[doc].
        names = doc_names(np.arange(n_docs))
        self._head = np.array([f'{{"doc": "{name}", ' for name in names], dtype=object)
        self._tail = np.array(
            [f'"title": {json.dumps(t)}}}' for t in world.doc_title], dtype=object
        )
        results = log.docs.shape[1]
        self._middle = np.array(
            [
                [f'"position": {p}, "clicked": {"true" if c else "false"}, ' for c in (False, True)]
                for p in range(1, results + 1)
            ],
            dtype=object,
        )
        self._queries = [json.dumps(q) for q in world.query_text]
        self._features = [
            [
                f'"features": {{"device": "{device}", "region": "{code}"}}}}'
                for code, _, _ in REGIONS
            ]
            for device in DEVICES
        ]
        self._users = user_names(np.arange(len(world.user_device)))
        self._user_device = world.user_device.tolist()
        self._user_region = world.user_region.tolist()

    def lines(self, start: int, stop: int) -> list[str]:
        """Lines (without line endings) of impressions ``start`` to ``stop - 1``."""
        log = self._log
        docs = log.docs[start:stop]
        positions = np.broadcast_to(np.arange(docs.shape[1]), docs.shape)
        results = (
            self._head[docs] + self._middle[positions, log.clicked[start:stop].astype(np.intp)]
        )
        results = results + self._tail[docs]
        out = []
        for i, row in zip(range(start, stop), results.tolist(), strict=True):
            user = int(log.user[i])
            out.append(
                f'{{"id": "{self._ids[i]}", "user": "{self._users[user]}", '
                f'"time": "{self._times[i]}Z", "query": {self._queries[log.query[i]]}, '
                f'"results": [{", ".join(row)}], '
                + self._features[self._user_device[user]][self._user_region[user]]
            )
        return out

    def chunks(self) -> Iterator[list[str]]:
        """All lines, in chunks of `CHUNK` impressions."""
        for start in range(0, self._log.n_impressions, CHUNK):
            yield self.lines(start, min(start + CHUNK, self._log.n_impressions))


def write_jsonl(
    handle: BinaryIO, world: ClickWorld, log: ClickLog, plan: BadLinePlan
) -> list[dict[str, Any]]:
    """Write every impression, plus ``plan``'s bad lines; returns the planted-line entries."""
    formatter = JsonlFormatter(world, log)
    return write_lines(handle, formatter.chunks(), plan, lambda i: formatter.lines(i, i + 1)[0])
