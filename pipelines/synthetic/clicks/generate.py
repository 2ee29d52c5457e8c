"""Seeded click logs with known answers: the job behind ``embedrec generate clicks``.

Simulates a small search engine (`embedrec.pipelines.synthetic.clicks.model`) and writes the same
sessions in three formats plus the truth, into one directory built beside its final name
and moved into place at the end::

    impressions.jsonl   JSONL impressions (`embedrec.pipelines.synthetic.clicks.jsonl`)
    aol.tsv             AOL query log (`embedrec.pipelines.synthetic.clicks.aol`)
    criteo.tsv          Criteo TSV (`embedrec.pipelines.synthetic.clicks.criteo`)
    truth.parquet       true P(click) and relevance per shown result (`..._truth`)
    oracle.json         oracle and baseline metrics (`embedrec.pipelines.synthetic.clicks.oracle`)
    bad_lines.json      the planted bad lines (`embedrec.pipelines.synthetic.clicks.bad_lines`)
    manifest.json       kind "synthetic-clicks", with the config

Same config (seed included), same bytes in every file but ``manifest.json``.

>>> config = ClickLogConfig(queries=50, docs=200, impressions=500, seed=7)
>>> result = generate_click_logs(config, "logs")                   # doctest: +SKIP
>>> result["oracle"]["auc"]                                        # doctest: +SKIP
0.89...
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.parquet as pq
from tqdm import tqdm

from embedrec.core.artifacts import (
    atomic_path,
    check_output_dir,
    staged_output_dir,
    write_json,
    write_manifest,
)
from embedrec.core.schemas import SYNTHETIC_CLICKS_KIND
from embedrec.pipelines.synthetic.clicks.aol import AolRows, aol_rows, write_aol
from embedrec.pipelines.synthetic.clicks.bad_lines import (
    AOL_FILE,
    BAD_LINES_FILE,
    CRITEO_FILE,
    JSONL_FILE,
    BadLinePlan,
    bad_lines_report,
    plan_bad_lines,
)
from embedrec.pipelines.synthetic.clicks.config import ClickLogConfig
from embedrec.pipelines.synthetic.clicks.criteo import criteo_results, write_criteo
from embedrec.pipelines.synthetic.clicks.jsonl import write_jsonl
from embedrec.pipelines.synthetic.clicks.model import component_rng
from embedrec.pipelines.synthetic.clicks.oracle import ORACLE_FILE, oracle_report
from embedrec.pipelines.synthetic.clicks.truth import TRUTH_FILE, LogLines, build_truth_table
from embedrec.pipelines.synthetic.clicks.worlds import simulate_world

log = logging.getLogger(__name__)

FILES = (
    JSONL_FILE,
    AOL_FILE,
    CRITEO_FILE,
    TRUTH_FILE,
    ORACLE_FILE,
    BAD_LINES_FILE,
    "manifest.json",
)
_STAGES = ("simulate", JSONL_FILE, AOL_FILE, CRITEO_FILE, TRUTH_FILE, ORACLE_FILE)


def generate_click_logs(
    config: ClickLogConfig, out: str | Path, *, overwrite: bool = False, progress: bool = False
) -> dict[str, Any]:
    """Write the logs of ``config`` into directory ``out``; return counts and oracle figures.

    Raises `ConfigError` for a bad config and `OutputExistsError` when ``out`` holds
    anything and ``overwrite`` is false (checked before any work).
    """
    config.validate()
    check_output_dir(out, overwrite=overwrite)
    began = time.perf_counter()
    bar = tqdm(total=len(_STAGES), desc="generate clicks", unit="stage", disable=not progress)
    with bar, staged_output_dir(out, overwrite=overwrite) as stage:
        with _stage(bar, "simulate", began):
            world, clicks = simulate_world(config)
        n = clicks.docs.shape[0]
        rows = aol_rows(clicks)
        criteo_result = criteo_results(config, clicks)
        plans = plan_bad_lines(
            config.bad_lines,
            {JSONL_FILE: n, AOL_FILE: len(rows), CRITEO_FILE: n},
            {AOL_FILE: 1},
            component_rng(config.seed, "bad-lines"),
        )
        planted = _write_logs(bar, stage, began, config, world, clicks, rows, criteo_result, plans)

        with _stage(bar, TRUTH_FILE, began):
            lines = _log_lines(plans, rows, criteo_result, clicks.docs.shape)
            truth = build_truth_table(world, clicks, lines, config.validation_fraction)
            with atomic_path(stage / TRUTH_FILE) as tmp:
                pq.write_table(truth, tmp)
        with _stage(bar, ORACLE_FILE, began):
            oracle = oracle_report(truth, validation_fraction=config.validation_fraction)
            write_json(stage / ORACLE_FILE, oracle)
        write_json(stage / BAD_LINES_FILE, bad_lines_report(planted))
        counts = _counts(config, clicks, rows, planted, oracle)
        write_manifest(
            stage,
            kind=SYNTHETIC_CLICKS_KIND,
            config=config.to_json(),
            counts=counts,
            extra={"files": list(FILES), "oracle": oracle["summary"]},
        )
    seconds = time.perf_counter() - began
    log.info("wrote %s in %.1f s", out, seconds)
    return {
        "out": str(out),
        "files": list(FILES),
        "counts": counts,
        "oracle": oracle["summary"],
        "seconds": round(seconds, 2),
    }


def _write_logs(
    bar: tqdm,
    stage: Path,
    began: float,
    config: ClickLogConfig,
    world: Any,
    clicks: Any,
    rows: AolRows,
    criteo_result: np.ndarray,
    plans: dict[str, BadLinePlan],
) -> list[dict[str, Any]]:
    """The three log files, each written whole or not at all; the bad lines planted."""
    planted: list[dict[str, Any]] = []
    with (
        _stage(bar, JSONL_FILE, began),
        atomic_path(stage / JSONL_FILE) as tmp,
        open(tmp, "wb") as handle,
    ):
        planted += write_jsonl(handle, world, clicks, plans[JSONL_FILE])
    with (
        _stage(bar, AOL_FILE, began),
        atomic_path(stage / AOL_FILE) as tmp,
        open(tmp, "wb") as handle,
    ):
        planted += write_aol(handle, world, clicks, rows, plans[AOL_FILE])
    with (
        _stage(bar, CRITEO_FILE, began),
        atomic_path(stage / CRITEO_FILE) as tmp,
        open(tmp, "wb") as handle,
    ):
        planted += write_criteo(handle, config, world, clicks, criteo_result, plans[CRITEO_FILE])
    return planted


def _counts(
    config: ClickLogConfig,
    clicks: Any,
    rows: AolRows,
    planted: list[dict[str, Any]],
    oracle: dict[str, Any],
) -> dict[str, Any]:
    n, results = clicks.docs.shape
    return {
        "impressions": n,
        "results": n * results,
        "clicks": int(clicks.clicked.sum()),
        "aol_rows": len(rows),
        "criteo_rows": n,
        "bad_lines": len(planted),
        "queries": config.queries,
        "docs": config.docs,
        "users": config.users,
        "validation_impressions": oracle["split"]["validation_impressions"],
    }


@contextlib.contextmanager
def _stage(bar: tqdm, name: str, began: float) -> Iterator[None]:
    """Show ``name`` on the progress bar while it runs; log when it is done."""
    bar.set_postfix_str(name)
    yield
    bar.update()
    log.info("%s done after %.1f s", name, time.perf_counter() - began)


def _log_lines(
    plans: dict[str, BadLinePlan], rows: AolRows, criteo_result: np.ndarray, shape: tuple[int, int]
) -> LogLines:
    """Final 1-based line numbers of every good line, for the truth table."""
    n, results = shape
    impressions = np.arange(n)
    aol_numbers = plans[AOL_FILE].good_line_numbers(np.arange(len(rows)))
    aol_first = np.full(n, np.iinfo(np.int64).max)
    np.minimum.at(aol_first, rows.impression, aol_numbers)
    aol_click = np.full((n, results), -1, dtype=np.int64)
    clicked = rows.result >= 0
    aol_click[rows.impression[clicked], rows.result[clicked]] = aol_numbers[clicked]
    return LogLines(
        jsonl=plans[JSONL_FILE].good_line_numbers(impressions),
        aol_first=aol_first,
        aol_click=aol_click,
        criteo=plans[CRITEO_FILE].good_line_numbers(impressions),
        criteo_result=criteo_result,
    )
