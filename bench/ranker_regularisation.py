"""Which regularisation suits small click logs: measured on the tuning worlds only.

    .venv/bin/python bench/ranker_regularisation.py                  # 3 worlds x 4 settings
    .venv/bin/python bench/ranker_regularisation.py --models cascade --settings none,dropout
    .venv/bin/python bench/ranker_regularisation.py --parallel 2     # two runs at a time

Trains the ranker (CLI defaults, early stopping on the validation split included) on the
train file of each *tuning* world — click models position, cascade and taste, seed 1
(`bench/ranker_worlds.py`; seed 2 is held out of all tuning) — once per setting:

- ``none``: no regularisation beyond early stopping;
- ``dropout``: ``--dropout 0.2`` on the top MLP's input;
- ``table_l2``: ``--table-weight-decay 1e-4`` (L2 on the embedding rows, in the fused
  row-wise Adagrad);
- ``weight_decay``: ``--weight-decay 0.05`` (AdamW on the dense part);

and prints AUC on the whole test file beside the oracle's, with the kept epoch. Quality
figures only (no timings), so no lock is needed. ``--json FILE`` saves the rows.
``--base former`` (the default) starts every setting from the defaults it was first
measured on (``--dim 32``, eps 1e-8, no weight average, retrieval weight 0.25: the table in
docs/ranker.md); ``--base current`` from today's defaults.
"""

from __future__ import annotations

import argparse
import json
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

from ranker_tuning import FORMER_DEFAULTS
from ranker_worlds import auc_of, prepare, ranker_test_scores, test_truth, train_ranker

SETTINGS: dict[str, list[str]] = {
    "none": ["--dropout", "0", "--table-weight-decay", "0", "--weight-decay", "0"],
    "dropout": ["--dropout", "0.2", "--table-weight-decay", "0", "--weight-decay", "0"],
    "table_l2": ["--dropout", "0", "--table-weight-decay", "1e-4", "--weight-decay", "0"],
    "weight_decay": ["--dropout", "0", "--table-weight-decay", "0", "--weight-decay", "0.05"],
}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--work", default="bench/results/work/ranker/worlds")
    parser.add_argument("--models", default="position,cascade,taste")
    parser.add_argument("--settings", default=",".join(SETTINGS))
    parser.add_argument("--train", type=int, default=50000, help="Train impressions.")
    parser.add_argument("--test", type=int, default=20000, help="Test-file impressions.")
    parser.add_argument("--parallel", type=int, default=1, help="Runs at a time.")
    parser.add_argument("--json", help="Also write the rows to this JSON file.")
    parser.add_argument(
        "--base", choices=("former", "current"), default="former", help="Defaults to start from."
    )
    args = parser.parse_args(argv)
    jobs = [
        (args.work, model, setting, args.train, args.test, args.base)
        for model in args.models.split(",")
        for setting in args.settings.split(",")
    ]
    for model in args.models.split(","):  # generate each world once, before the runs
        prepare(Path(args.work), model, 1, args.train, args.test)
    with ProcessPoolExecutor(max_workers=args.parallel) as pool:
        rows = list(pool.map(_run, jobs))
    print(_markdown(rows))
    if args.json:
        Path(args.json).write_text(json.dumps({"rows": rows}, indent=2) + "\n")


# The defaults this table was first measured on (before `--dim 64` and the second sweep).
FORMER_BASE = ["--dim", "32", *FORMER_DEFAULTS.split()]


def _run(job: tuple[str, str, str, int, int, str]) -> dict[str, Any]:
    work, model, setting, train, test, base = job
    world = prepare(Path(work), model, 1, train, test)
    out = world.root / f"ranker-{setting}-{base}"
    prefix = FORMER_BASE if base == "former" else []
    trained = train_ranker(world, out, *prefix, *SETTINGS[setting])
    truth = test_truth(world)
    scores = ranker_test_scores(world, out, truth)
    row = {
        "world": world.name,
        "setting": setting,
        "oracle": auc_of(truth["p_click"], truth["clicked"]),
        "ranker": auc_of(scores["with_position"], truth["clicked"]),
        "validation_auc": trained["validation"]["auc"],
        "kept_epoch": trained["early_stop"]["kept_epoch"],
        "epochs_run": trained["early_stop"]["epochs_run"],
    }
    print(json.dumps(row), file=sys.stderr, flush=True)
    return row


def _markdown(rows: list[dict[str, Any]]) -> str:
    settings = list(dict.fromkeys(r["setting"] for r in rows))
    worlds = list(dict.fromkeys(r["world"] for r in rows))
    by = {(r["world"], r["setting"]): r for r in rows}
    lines = [
        "| world | oracle | " + " | ".join(settings) + " |",
        "|---|---:|" + "---:|" * len(settings),
    ]
    for world in worlds:
        oracle = next(r["oracle"] for r in rows if r["world"] == world)
        cells = [
            f"{by[(world, s)]['ranker']:.4f} (ep {by[(world, s)]['kept_epoch']})" for s in settings
        ]
        lines.append(f"| {world} | {oracle:.4f} | " + " | ".join(cells) + " |")
    means = [
        sum(by[(w, s)]["ranker"] - by[(w, s)]["oracle"] for w in worlds) / len(worlds)
        for s in settings
    ]
    lines.append("| mean gap to oracle | | " + " | ".join(f"{m:+.4f}" for m in means) + " |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
