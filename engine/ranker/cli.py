"""``embedrec train ranker``, ``embedrec eval ranker`` and ``embedrec explain ranker``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from embedrec.core.cli_support import emit, json_option, subgroup
from embedrec.core.errors import ConfigError
from embedrec.engine.ranker.config import (
    DENSE_OPTIMIZERS,
    DEVICES,
    EARLY_STOP_METRICS,
    POSITION_MODES,
    SHARDING_TYPES,
    TABLE_OPTIMIZERS,
    RankerConfig,
    parse_widths,
)
from embedrec.engine.runtime.launch import train_or_launch, training_options

# Option defaults come from the config, so a default is changed in one place.
_DEFAULTS = RankerConfig()

TRAIN_EPILOG = """\b
Examples:
  embedrec train ranker data/clicks --out models/ranker
  embedrec train ranker data/clicks --out models/ranker --dim 48 --epochs 4 --mlp 256,64
  embedrec train ranker data/clicks --out models/ranker --warm-start models/wiki --dim 100
  embedrec train ranker data/clicks --out models/ranker --epochs 5 --resume   # continue
  embedrec train ranker data/criteo --out models/ctr     # sparse + dense features (DLRM)
  embedrec train ranker data/clicks --out models/ranker --nproc 2    # 2 ranks, torchrun
  torchrun --nproc-per-node 2 -m embedrec.engine train ranker data/clicks --out models/ranker
"""

EVAL_EPILOG = """\b
Examples:
  embedrec eval ranker models/ranker data/clicks
  embedrec eval ranker models/ranker data/clicks-june      # newer logs: ids remapped
  embedrec eval ranker models/ranker data/clicks --split all --k 5 --json
"""

EXPLAIN_EPILOG = """\b
Examples:
  embedrec explain ranker models/ranker --query "cheap flights" d17 d3 d250
  embedrec explain ranker models/ranker --query "kalo mive" d17 -f device=mobile -f region=fr
  embedrec explain ranker models/ranker --query "kalo mive" d17 d3 --json
"""


@click.command("ranker", epilog=TRAIN_EPILOG)
@click.argument("data", type=click.Path(path_type=Path))
@click.option(
    "--out", required=True, type=click.Path(path_type=Path), help="Model directory to write."
)
@click.option(
    "--dim", default=_DEFAULTS.dim, show_default=True, help="Width of every embedding table."
)
@click.option("--mlp", default="128,64", show_default=True, help="Top MLP hidden widths.")
@click.option(
    "--dense-mlp",
    default="64",
    show_default=True,
    help="Bottom MLP hidden widths (dense features only).",
)
@click.option(
    "--epochs",
    default=_DEFAULTS.epochs,
    show_default=True,
    help="Most epochs to train (early stopping may end sooner; the best epoch is kept).",
)
@click.option(
    "--patience",
    default=_DEFAULTS.patience,
    show_default=True,
    help="Stop after this many epochs without a better validation metric (0: never stop "
    "early; the best epoch is still the one exported).",
)
@click.option(
    "--early-stop-metric",
    type=click.Choice(EARLY_STOP_METRICS),
    default=_DEFAULTS.early_stop_metric,
    show_default=True,
    help="Validation figure that picks the best epoch.",
)
@click.option(
    "--ema-decay",
    type=float,
    default=_DEFAULTS.ema_decay or 0.0,
    show_default=True,
    help="Validate, early-stop on and export a moving average of the weights with this "
    "decay per step (0: the live weights).",
)
@click.option(
    "--dropout",
    default=_DEFAULTS.dropout,
    show_default=True,
    help="Dropout on the top MLP's input.",
)
@click.option(
    "--weight-decay",
    default=_DEFAULTS.weight_decay,
    show_default=True,
    help="AdamW weight decay (dense part).",
)
@click.option(
    "--table-weight-decay",
    default=_DEFAULTS.table_weight_decay,
    show_default=True,
    help="L2 on embedding rows (fused row-wise Adagrad).",
)
@click.option(
    "--batch-size",
    default=_DEFAULTS.batch_size,
    show_default=True,
    help="Examples per step and rank.",
)
@click.option(
    "--table-optimizer",
    type=click.Choice(TABLE_OPTIMIZERS),
    default=_DEFAULTS.table_optimizer,
    show_default=True,
    help="Optimizer fused into the tables' backward.",
)
@click.option("--table-lr", default=_DEFAULTS.table_lr, show_default=True)
@click.option(
    "--table-eps",
    default=_DEFAULTS.table_eps,
    show_default=True,
    help="Adagrad's eps on the tables: above a rare row's gradient norm, it damps that "
    "row's steps.",
)
@click.option(
    "--doc-table-eps",
    type=float,
    default=_DEFAULTS.doc_table_eps or 0.0,
    show_default=True,
    help="Adagrad's eps on the doc table (0: --table-eps).",
)
@click.option(
    "--dense-optimizer",
    type=click.Choice(DENSE_OPTIMIZERS),
    default=_DEFAULTS.dense_optimizer,
    show_default=True,
)
@click.option("--dense-lr", default=_DEFAULTS.dense_lr, show_default=True)
@click.option(
    "--oov-rate",
    default=_DEFAULTS.oov_rate,
    show_default=True,
    help="Share of ids dropped to <unk> in training, so unseen values score sensibly.",
)
@click.option(
    "--retrieval-weight",
    default=_DEFAULTS.retrieval_weight,
    show_default=True,
    help="Weight of the in-batch softmax that trains q·v for retrieval (0: off).",
)
@click.option(
    "--position",
    type=click.Choice(POSITION_MODES),
    default=_DEFAULTS.position,
    show_default=True,
    help="Learn P(examined | position) to absorb position bias (auto: when unclicked "
    "rows have positions).",
)
@click.option("--max-position", default=_DEFAULTS.max_position, show_default=True)
@click.option(
    "--validate/--no-validate",
    default=True,
    show_default=True,
    help="Score the validation split after each epoch.",
)
@click.option(
    "--warm-start",
    type=click.Path(path_type=Path),
    default=None,
    help="Skip-gram model whose word vectors start the token table (same --dim).",
)
@click.option("--seed", default=1, show_default=True)
@click.option("--device", type=click.Choice(DEVICES), default="cpu", show_default=True)
@click.option(
    "--threads",
    type=int,
    default=None,
    help="CPU threads per rank [1: the ranker's ops are small; add ranks instead].",
)
@click.option(
    "--sharding",
    type=click.Choice(SHARDING_TYPES),
    default=None,
    help="Planner constraint for every table (default: the planner chooses).",
)
@training_options
@json_option
@click.pass_context
def train_ranker_command(
    ctx: click.Context,
    data: Path,
    out: Path,
    mlp: str,
    dense_mlp: str,
    warm_start: Path | None,
    checkpoint_every: int | None,
    resume: bool,
    overwrite: bool,
    progress: bool,
    as_json: bool,
    nproc: int,
    max_restarts: int,
    patience: int,
    ema_decay: float,
    doc_table_eps: float,
    **settings: Any,
) -> None:
    """Train a click ranker (TorchRec tables + DLRM interaction) on a click dataset."""
    config = RankerConfig(
        patience=patience or None,
        ema_decay=ema_decay or None,
        doc_table_eps=doc_table_eps or None,
        mlp=parse_widths("mlp", mlp),
        dense_mlp=parse_widths("dense_mlp", dense_mlp),
        warm_start=None if warm_start is None else str(warm_start),
        checkpoint_every_steps=checkpoint_every,
        **settings,
    )

    train_or_launch(
        ctx,
        "embedrec.engine.ranker.train:train_ranker",
        data=data,
        out=out,
        config=config,
        resume=resume,
        overwrite=overwrite,
        progress=progress,
        nproc=nproc,
        max_restarts=max_restarts,
        as_json=as_json,
        summary=_train_summary,
    )


def _train_summary(result: dict[str, Any]) -> str:
    loss = "n/a" if result["loss"] is None else f"{result['loss']:.4f}"
    lines = [
        f"trained {result['model_dir']} ({result['world_size']} rank(s)): "
        f"{result['examples']:,} examples in {result['seconds']:.1f}s = "
        f"{result['examples_per_sec']:,.0f} examples/s, final loss {loss}",
        f"  groups: {', '.join(result['groups'])}; position term: "
        f"{'on' if result['position'] else 'off'}",
    ]
    validation = result.get("validation")
    if validation:
        lines.append(
            f"  validation: AUC {_fmt(validation.get('auc'))}, "
            f"log loss {_fmt(validation.get('log_loss'))} ({validation['rows']:,} rows)"
        )
    stop = result.get("early_stop") or {}
    if stop.get("kept_epoch") is not None:
        lines.append(
            f"  kept epoch {stop['kept_epoch']} of {stop['epochs_run']} run "
            f"(best validation {stop['metric']}; stopped: {stop['stop_reason']})"
        )
    if result.get("warm_start"):
        ws = result["warm_start"]
        lines.append(f"  warm start: {ws['matched']:,} of {ws['rows']:,} token rows")
    return "\n".join(lines)


@click.command("ranker", epilog=EVAL_EPILOG)
@click.argument("model", type=click.Path(path_type=Path))
@click.argument("data", type=click.Path(path_type=Path))
@click.option(
    "--split",
    type=click.Choice(["validation", "train", "all"]),
    default="validation",
    show_default=True,
)
@click.option("-k", "--k", "k", default=10, show_default=True, help="Cut-off of NDCG@k.")
@click.option(
    "--baselines/--no-baselines",
    default=True,
    show_default=True,
    help="Also score doc popularity, per-query CTR and the logged order.",
)
@json_option
def eval_ranker_command(
    model: Path, data: Path, split: str, k: int, baselines: bool, as_json: bool
) -> None:
    """AUC, log loss, NDCG@k and MRR of a ranker on a click dataset (any, even newer)."""
    from embedrec.engine.ranker.eval import evaluate_ranker

    report = evaluate_ranker(model, data, split=split, k=k, baselines=baselines)
    emit(report, as_json=as_json, human=_eval_table)


def _eval_table(report: dict[str, Any]) -> str:
    k = report["k"]
    head = report["with_position"]
    lines = [
        f"{report['model']} on {report['data']} ({report['split']}: {head['rows']:,} rows, "
        f"{head['impressions']:,} impressions, {head['clicks']:,} clicks)",
        f"{'scorer':<26} {'AUC':>7} {'log loss':>9} {f'NDCG@{k}':>8} {'MRR':>7}",
    ]
    rows = [("ranker (with position)", report["with_position"])]
    rows.append(("ranker (position-free)", report["position_free"]))
    for name, figures in (report.get("baselines") or {}).items():
        rows.append((f"baseline {name}", figures))
    for name, f in rows:
        lines.append(
            f"{name:<26} {_fmt(f.get('auc')):>7} {_fmt(f.get('log_loss')):>9} "
            f"{_fmt(f.get(f'ndcg@{k}')):>8} {_fmt(f.get('mrr')):>7}"
        )
    unknown = {g: v for g, v in report["unknown_share"].items() if v > 0}
    if report["remapped"] or unknown:
        shares = ", ".join(f"{g} {v:.1%}" for g, v in unknown.items()) or "none"
        lines.append(f"ids mapped to <unk> (unseen by the model): {shares}")
    return "\n".join(lines)


@click.command("ranker", epilog=EXPLAIN_EPILOG)
@click.argument("model", type=click.Path(path_type=Path))
@click.argument("docs", nargs=-1, required=True)
@click.option("-q", "--query", required=True, help="The query text.")
@click.option(
    "-f",
    "--feature",
    "features",
    multiple=True,
    metavar="NAME=VALUE",
    help="A context feature of the request (e.g. device=mobile); repeatable.",
)
@json_option
def explain_ranker_command(
    model: Path, docs: tuple[str, ...], query: str, features: tuple[str, ...], as_json: bool
) -> None:
    """Score DOCS for a query and show each feature group's contribution to every score."""
    from embedrec.engine.ranker.inference import Ranker

    context = _parse_features(features)
    result = Ranker.load(model).rank(query, list(docs), context, explain=True)
    emit(result.to_dict(), as_json=as_json, human=_explain_text)


def _parse_features(pairs: tuple[str, ...]) -> dict[str, str]:
    out = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise ConfigError("feature", pair, "NAME=VALUE, e.g. device=mobile")
        out[name.strip()] = value.strip()
    return out


def _explain_text(result: dict[str, Any]) -> str:
    lines = [f"query: {result['query']!r}"]
    if result["unknown_words"]:
        lines.append(f"unknown words (scored as <unk>): {', '.join(result['unknown_words'])}")
    for rank, item in enumerate(result["results"], start=1):
        lines.append(
            f"{rank}. {item['doc']}  P(click | examined) {item['score']:.4f}  "
            f"logit {item['logit']:+.3f}"
            + (f"  q·v {item['retrieval_score']:+.3f}" if "retrieval_score" in item else "")
        )
        contributions = sorted(item["contributions"].items(), key=lambda kv: -abs(kv[1]))
        lines.append("     " + "  ".join(f"{g} {v:+.3f}" for g, v in contributions))
    if result["unknown_docs"]:
        lines.append(f"unknown docs (not scored): {', '.join(result['unknown_docs'])}")
    lines.append("(contribution = logit − logit with that group unknown)")
    return "\n".join(lines)


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.4f}"


def register(root: click.Group) -> None:
    """Add ``train ranker``, ``eval ranker`` and ``explain ranker`` to ``embedrec``."""
    subgroup(root, "train", "Train models (skipgram, ranker).").add_command(train_ranker_command)
    subgroup(root, "eval", "Evaluate models and indexes on standard test sets.").add_command(
        eval_ranker_command
    )
    subgroup(root, "explain", "Explain model outputs.").add_command(explain_ranker_command)
