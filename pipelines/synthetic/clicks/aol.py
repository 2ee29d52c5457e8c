r"""``aol.tsv``: the impressions as an AOL query log (clicks only, no shown lists).

Header ``AnonID\tQuery\tQueryTime\tItemRank\tClickURL``, then per impression either one row
``AnonID\tQuery\tQueryTime`` (no click) or one row per click, by position, with ItemRank =
the 1-based position and ClickURL = ``http://www.<doc>.com``. AnonID is the user's number
(user ``u17`` → ``17``), QueryTime ``YYYY-MM-DD HH:MM:SS`` (UTC). As in the published AOL
files, rows are sorted by AnonID, then time (then rank).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, BinaryIO

import numpy as np

from embedrec.pipelines.synthetic.clicks.bad_lines import BadLinePlan, write_lines
from embedrec.pipelines.synthetic.clicks.model import ClickLog, ClickWorld, utc_times

AOL_HEADER = "AnonID\tQuery\tQueryTime\tItemRank\tClickURL"
CHUNK = 65536


@dataclass(frozen=True)
class AolRows:
    """The rows in write order: ``impression`` (m,) and ``result`` (m,) the 0-based index
    of the clicked result, −1 for an impression's no-click row."""

    impression: np.ndarray
    result: np.ndarray

    def __len__(self) -> int:
        return len(self.impression)


def aol_rows(log: ClickLog) -> AolRows:
    """One row per click, one per impression without a click, sorted by user then time."""
    click_imp, click_result = np.nonzero(log.clicked)
    no_click = np.flatnonzero(~log.clicked.any(axis=1))
    impression = np.concatenate([click_imp, no_click])
    result = np.concatenate([click_result, np.full(len(no_click), -1)])
    # Impression indices are in time order, so (user, impression, result) = (user, time, rank).
    order = np.lexsort((result, impression, log.user[impression]))
    return AolRows(
        impression=impression[order].astype(np.int64), result=result[order].astype(np.int64)
    )


class AolFormatter:
    """Formats AOL rows; query text and times are looked up per row."""

    def __init__(self, world: ClickWorld, log: ClickLog, rows: AolRows) -> None:
        self._world, self._log, self._rows = world, log, rows
        self._times = np.char.replace(utc_times(log.time), "T", " ").tolist()

    def lines(self, start: int, stop: int) -> list[str]:
        """Lines (without line endings) of rows ``start`` to ``stop - 1``."""
        log, texts, times = self._log, self._world.query_text, self._times
        out = []
        for imp, result in zip(
            self._rows.impression[start:stop].tolist(),
            self._rows.result[start:stop].tolist(),
            strict=True,
        ):
            line = f"{log.user[imp] + 1}\t{texts[log.query[imp]]}\t{times[imp]}"
            if result >= 0:
                line += f"\t{result + 1}\thttp://www.d{log.docs[imp, result] + 1}.com"
            out.append(line)
        return out

    def chunks(self) -> Iterator[list[str]]:
        """All rows, in chunks of `CHUNK`."""
        for start in range(0, len(self._rows), CHUNK):
            yield self.lines(start, min(start + CHUNK, len(self._rows)))


def write_aol(
    handle: BinaryIO, world: ClickWorld, log: ClickLog, rows: AolRows, plan: BadLinePlan
) -> list[dict[str, Any]]:
    """Write the header and every row, plus ``plan``'s bad lines; returns the planted entries."""
    handle.write((AOL_HEADER + "\n").encode())
    formatter = AolFormatter(world, log, rows)
    return write_lines(handle, formatter.chunks(), plan, lambda i: formatter.lines(i, i + 1)[0])
