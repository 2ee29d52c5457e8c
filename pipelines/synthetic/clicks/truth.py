"""``truth.parquet``: the true click model behind every shown result of the generated logs.

One row per (impression, result), impression-major in time order, result order within
(schema `embedrec.core.schemas.CLICK_TRUTH_SCHEMA`):

- keys into the logs — ``impression_id`` (the JSONL ``id``), ``jsonl_line`` and
  ``result_index`` (0-based into ``results``), ``aol_line`` (the impression's first AOL
  row: its no-click row or its first click), ``aol_click_line`` (this result's click row,
  null unless clicked), ``criteo_line`` (null unless this result is the impression's Criteo
  row). Line numbers are 1-based in the files as written (headers and bad lines counted).
- what was shown — ``time``, ``split`` (``train`` or ``validation``: the time-last
  ``validation_fraction`` of impressions), ``user``, ``query``, ``doc``, ``position``.
- the truth — ``clicked`` (the sampled click), ``examination`` = P(examined) (1/position**
  exponent, or the cascade's marginal),
  ``relevance`` = P(click | examined), position-free, ``p_click`` = examination × relevance.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from embedrec.core.schemas import CLICK_TRUTH_SCHEMA
from embedrec.pipelines.synthetic.clicks.model import (
    ClickLog,
    ClickWorld,
    doc_names,
    impression_ids,
    user_names,
)

TRUTH_FILE = "truth.parquet"


@dataclass(frozen=True)
class LogLines:
    """1-based line numbers of the good lines, per format (shapes as noted).

    ``jsonl`` (n,) per impression; ``aol_first`` (n,) per impression; ``aol_click`` (n, R)
    per result, −1 where not clicked; ``criteo`` (n,) per impression, for the result
    ``criteo_result`` (n,).
    """

    jsonl: np.ndarray
    aol_first: np.ndarray
    aol_click: np.ndarray
    criteo: np.ndarray
    criteo_result: np.ndarray


def validation_count(n: int, fraction: float) -> int:
    """Impressions in the validation part: round(fraction × n), at least 1 and at most n − 1."""
    if n < 2:
        return 0
    return min(max(round(fraction * n), 1), n - 1)


def build_truth_table(
    world: ClickWorld, log: ClickLog, lines: LogLines, validation_fraction: float
) -> pa.Table:
    """The truth rows (n × R) of ``log`` as a table with `CLICK_TRUTH_SCHEMA`."""
    n, results = log.docs.shape
    imp = np.repeat(np.arange(n), results)
    result = np.tile(np.arange(results, dtype=np.int32), n)
    is_validation = np.zeros(n, dtype=bool)
    is_validation[n - validation_count(n, validation_fraction) :] = True
    criteo_line = np.where(result == lines.criteo_result[imp], lines.criteo[imp], -1)
    aol_click = lines.aol_click.ravel()
    columns = {
        "impression_id": _decoded(imp, impression_ids(n)),
        "jsonl_line": pa.array(lines.jsonl[imp], pa.int64()),
        "result_index": pa.array(result, pa.int32()),
        "aol_line": pa.array(lines.aol_first[imp], pa.int64()),
        "aol_click_line": pa.array(aol_click, pa.int64(), mask=aol_click < 0),
        "criteo_line": pa.array(criteo_line, pa.int64(), mask=criteo_line < 0),
        "time": pa.array(log.time[imp], pa.timestamp("s", tz="UTC")),
        "split": _decoded(is_validation[imp].astype(np.int32), ["train", "validation"]),
        "user": _decoded(log.user[imp], user_names(np.arange(len(world.user_device)))),
        "query": _decoded(log.query[imp], world.query_text),
        "doc": _decoded(log.docs.ravel(), doc_names(np.arange(len(world.doc_title)))),
        "position": pa.array(result + 1, pa.int32()),
        "clicked": pa.array(log.clicked.ravel(), pa.bool_()),
        "examination": pa.array(
            np.broadcast_to(log.examination, log.docs.shape).ravel(), pa.float64()
        ),
        "relevance": pa.array(log.relevance.ravel(), pa.float64()),
        "p_click": pa.array(log.p_click.ravel(), pa.float64()),
    }
    return pa.Table.from_arrays(list(columns.values()), schema=CLICK_TRUTH_SCHEMA)


def _decoded(indices: np.ndarray, values: list[str]) -> pa.Array:
    """``values[indices]`` as a plain string array, built in Arrow rather than in Python."""
    dictionary = pa.DictionaryArray.from_arrays(
        pa.array(indices, pa.int32()), pa.array(values, pa.string())
    )
    return dictionary.cast(pa.string())
