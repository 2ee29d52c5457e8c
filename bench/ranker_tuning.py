"""Which training defaults close the ranker's gap to the oracle: measured on the tuning worlds.

    .venv/bin/python bench/ranker_tuning.py --settings sweep          # ~40 min, the docs' table
    .venv/bin/python bench/ranker_tuning.py --settings sweep2 --recall  # ~60 min, the second one
    .venv/bin/python bench/ranker_tuning.py --settings dim32,dim64
    .venv/bin/python bench/ranker_tuning.py --settings default --models cascade
    .venv/bin/python bench/ranker_tuning.py --setting 'mine=--batch-size 512 --dim 48'
    .venv/bin/python bench/ranker_tuning.py --settings default --seeds 2,3   # held out

Trains the ranker once per (setting, world) on the train file of each *tuning* world —
click models position, cascade and taste, seed 1 (`bench/ranker_worlds.py`) — and prints
AUC on the whole test file beside the oracle's, the gap, the kept epoch and the training
time. A setting is a list of `embedrec train ranker` options added to the CLI's defaults
(``default``: none), so the same name measures something else once a default changes: the
``SETTINGS`` below name the options explicitly where that matters. Seeds other than 1 are
the held-out worlds: score them only with the chosen defaults. Quality figures (AUC does
not depend on machine load); ``--json FILE`` appends the rows (one JSON object a line).
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from pathlib import Path
from typing import Any

from ranker_worlds import auc_of, prepare, ranker_test_scores, test_truth, train_ranker

# The defaults before the second sweep. Every setting of both sweeps starts from them (a
# later option overrides an earlier one), so it measures what it measured then whatever
# today's defaults are.
FORMER_DEFAULTS = "--table-eps 1e-8 --doc-table-eps 0 --ema-decay 0 --retrieval-weight 0.25"
_SWEPT: dict[str, str] = {
    # The sweep behind the defaults (docs/ranker.md), measured from the former defaults
    # (dim 32): each names its options whole.
    "dim32": "--dim 32",
    "dim16": "--dim 16",
    "dim64": "--dim 64",
    "dim128": "--dim 128",
    "table_lr_0.15": "--dim 32 --table-lr 0.15",
    "batch_512": "--dim 32 --batch-size 512",
    "dim64_dense_lr_0.001": "--dim 64 --dense-lr 0.001",
    "dim64_log_loss_stop": "--dim 64 --early-stop-metric log_loss",
    "dim64_mlp_256_128": "--dim 64 --mlp 256,128",
    "dim64_retrieval_0.1": "--dim 64 --retrieval-weight 0.1",
    # The second sweep (issue 13, point 4), from `--dim 64` with the table eps and the weight
    # average off (the defaults before it): what `bench/ranker_errors.py` pointed at.
    "eps_1e-8": "--table-eps 1e-8 --ema-decay 0",
    "table_l2_1e-3": "--table-eps 1e-8 --ema-decay 0 --table-weight-decay 1e-3",
    "mlp_none": "--table-eps 1e-8 --ema-decay 0 --mlp ''",
    "mlp_32": "--table-eps 1e-8 --ema-decay 0 --mlp 32",
    "ema_0.99": "--table-eps 1e-8 --ema-decay 0.99",
    "eps_3e-5": "--table-eps 3e-5 --ema-decay 0",
    "eps_1e-4": "--table-eps 1e-4 --ema-decay 0",
    "eps_3e-4": "--table-eps 3e-4 --ema-decay 0",
    "eps_1e-3": "--table-eps 1e-3 --ema-decay 0",
    "eps_3e-3": "--table-eps 3e-3 --ema-decay 0",
    "eps_1e-2": "--table-eps 1e-2 --ema-decay 0",
    "eps_3e-3_table_lr_0.1": "--table-eps 3e-3 --table-lr 0.1 --ema-decay 0",
    "eps_1e-2_table_lr_0.2": "--table-eps 1e-2 --table-lr 0.2 --ema-decay 0",
    "eps_3e-3_ema_0.99": "--table-eps 3e-3 --ema-decay 0.99",
    "eps_3e-3_ema_0.99_retrieval_1": "--table-eps 3e-3 --ema-decay 0.99 --retrieval-weight 1",
    "eps_3e-3_ema_0.99_retrieval_3": "--table-eps 3e-3 --ema-decay 0.99 --retrieval-weight 3",
    "doc_eps_3e-3_ema_0.99": "--table-eps 1e-8 --doc-table-eps 3e-3 --ema-decay 0.99",
    "doc_eps_3e-3_ema_0.99_retrieval_0.5": (
        "--table-eps 1e-8 --doc-table-eps 3e-3 --ema-decay 0.99 --retrieval-weight 0.5"
    ),
    "doc_eps_3e-3_ema_0.99_retrieval_1": (
        "--table-eps 1e-8 --doc-table-eps 3e-3 --ema-decay 0.99 --retrieval-weight 1"
    ),
}
SETTINGS: dict[str, str] = {
    "default": "",  # today's defaults (= doc_eps_3e-3_ema_0.99_retrieval_1 since that sweep)
    **{name: f"{FORMER_DEFAULTS} {options}" for name, options in _SWEPT.items()},
}
SWEEP = (
    "dim32,dim16,dim64,dim128,table_lr_0.15,batch_512,dim64_dense_lr_0.001,dim64_log_loss_stop,"
    "dim64_mlp_256_128,dim64_retrieval_0.1"
)
SWEEP2 = (
    "eps_1e-8,table_l2_1e-3,mlp_none,mlp_32,ema_0.99,eps_3e-5,eps_1e-4,eps_3e-4,eps_1e-3,"
    "eps_3e-3,eps_1e-2,eps_3e-3_table_lr_0.1,eps_1e-2_table_lr_0.2,eps_3e-3_ema_0.99,"
    "eps_3e-3_ema_0.99_retrieval_1,eps_3e-3_ema_0.99_retrieval_3,doc_eps_3e-3_ema_0.99,"
    "doc_eps_3e-3_ema_0.99_retrieval_0.5,doc_eps_3e-3_ema_0.99_retrieval_1"
)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--work", default="bench/results/work/ranker/worlds")
    parser.add_argument("--models", default="position,cascade,taste")
    parser.add_argument("--seeds", default="1", help="World seeds (1: tuning; 2, 3: held out).")
    parser.add_argument("--settings", help="Names from SETTINGS (default: default).")
    parser.add_argument(
        "--setting", action="append", default=[], help="NAME=OPTIONS, an ad-hoc setting."
    )
    parser.add_argument("--train", type=int, default=50000, help="Train impressions.")
    parser.add_argument("--test", type=int, default=20000, help="Test-file impressions.")
    parser.add_argument("--json", help="Append the rows to this JSON-lines file.")
    parser.add_argument(
        "--recall",
        action="store_true",
        help="Also recall@100 of the validation clicks by ANN over the exported doc vectors.",
    )
    args = parser.parse_args(argv)
    names = args.settings if args.settings is not None else ("" if args.setting else "default")
    names = {"sweep": SWEEP, "sweep2": SWEEP2}.get(names, names)
    chosen = {name: SETTINGS[name] for name in names.split(",") if name}
    for item in args.setting:
        name, _, options = item.partition("=")
        chosen[name] = options
    rows = []
    for name, options in chosen.items():
        for model in args.models.split(","):
            for seed in (int(s) for s in args.seeds.split(",")):
                row = _run(Path(args.work), model, seed, name, options, args)
                print(json.dumps(row), file=sys.stderr, flush=True)
                if args.json:
                    with open(args.json, "a") as f:
                        f.write(json.dumps(row) + "\n")
                rows.append(row)
    print(markdown(rows))


def _run(
    work: Path, model: str, seed: int, name: str, options: str, args: argparse.Namespace
) -> dict[str, Any]:
    world = prepare(work, model, seed, args.train, args.test)
    out = world.root / f"ranker-{name}"
    trained = train_ranker(world, out, *shlex.split(options))
    truth = test_truth(world)
    scores = ranker_test_scores(world, out, truth)
    stop = trained["early_stop"]
    recall = None
    if args.recall:
        from ranker_quality import RECALL_K, _retrieval

        recall = _retrieval(out, world.train_data, 2000)[f"recall@{RECALL_K}_ann"]
    return {
        "world": world.name,
        "setting": name,
        "options": options,
        "oracle": auc_of(truth["p_click"], truth["clicked"]),
        "ranker": auc_of(scores["with_position"], truth["clicked"]),
        "validation_auc": (trained["validation"] or {}).get("auc"),
        "kept_epoch": stop["kept_epoch"],
        "epochs_run": stop["epochs_run"],
        "train_seconds": trained["seconds"],
        "recall@100": recall,
    }


def markdown(rows: list[dict[str, Any]]) -> str:
    """One line per (setting, world) and each setting's mean gap over its worlds."""
    lines = [
        "| setting | world | oracle | ranker | gap | kept epoch | train s |",
        "|---|---|---:|---:|---:|---|---:|",
    ]
    gaps: dict[str, list[float]] = {}
    for r in rows:
        gap = r["ranker"] - r["oracle"]
        gaps.setdefault(r["setting"], []).append(gap)
        lines.append(
            f"| {r['setting']} | {r['world']} | {r['oracle']:.4f} | {r['ranker']:.4f} | "
            f"{gap:+.4f} | {r['kept_epoch']} of {r['epochs_run']} | {r['train_seconds']:.0f} |"
        )
    lines += ["", "| setting | mean gap | worst gap |", "|---|---:|---:|"]
    for name, values in gaps.items():
        lines.append(f"| {name} | {sum(values) / len(values):+.4f} | {min(values):+.4f} |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
