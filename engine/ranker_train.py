"""Train the query-doc click ranker on a click dataset into a model directory.

One device::

    embedrec train ranker data/clicks --out models/ranker

N processes (same command line; tables sharded by the planner, dense part under DDP, rank
k takes every N-th batch)::

    torchrun --nproc-per-node 2 -m engine train ranker data/clicks --out models/ranker

Tiny smoke run::

    embedrec generate clicks --out /tmp/logs --queries 200 --docs 1000 --impressions 5000
    embedrec clicks-pipeline /tmp/logs/impressions.jsonl --format jsonl --out /tmp/clicks
    embedrec train ranker /tmp/clicks --out /tmp/ranker --epochs 1

The loop reads top to bottom: open the data and decide the feature groups, build and shard
the model, warm-start or restore the last checkpoint, then per round (one batch per rank)
step, log and checkpoint; validate at each epoch end, keep the best epoch's weights and stop
after ``patience`` epochs without gain (`engine.ranker_early_stop`); finally export the best
epoch's unsharded model, its vocabularies, the doc catalog and the doc vectors, and write
the manifest.
"""

from __future__ import annotations

import logging
import os
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.distributed as dist

from engine.checkpoint import latest_checkpoint, load_checkpoint, save_checkpoint
from engine.distributed import DistContext, distributed, format_plan
from engine.errors import EngineError
from engine.ranker_batches import (
    Examples,
    batch_rows,
    doc_log_share,
    epoch_order,
    iter_score_batches,
    load_examples,
    make_batch,
    position_prior,
    rank_batches,
)
from engine.ranker_config import SHAPE_FIELDS, RankerConfig
from engine.ranker_early_stop import (
    StopRule,
    initial_state,
    load_best,
    observe,
    outcome,
    save_best,
    should_stop,
)
from engine.ranker_export import build_doc_catalog, export_doc_embeddings, write_doc_catalog
from engine.ranker_features import FeatureSpec, discover_features, write_model_vocabs
from engine.ranker_files import CONFIG_FILE, RANKER_MODEL_KIND, save_model_state
from engine.ranker_model import click_loss, click_probability, retrieval_loss
from engine.ranker_progress import TrainingLog
from engine.ranker_sharding import ShardedRanker
from engine.ranker_warm_start import warm_start
from pipelines.artifacts import check_output_dir, fingerprint, read_json, write_json, write_manifest
from pipelines.click_dataset import ClickDataset, open_click_dataset
from pipelines.errors import ConfigError
from pipelines.ranking_metrics import MetricError, auc, log_loss

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RankerTrainResult:
    """What a finished run reports (also the CLI's ``--json`` document)."""

    model_dir: str
    world_size: int
    epochs: int
    train_examples: int
    examples: int  # trained on by this run (after any resume point), all ranks
    seconds: float
    examples_per_sec: float
    steps: int
    loss: float | None
    validation: dict[str, Any] | None
    groups: list[str]
    position: bool
    plan: dict[str, Any]
    warm_start: dict[str, Any] | None
    resumed_from: str | None
    # kept_epoch (1-based), epochs_run, stop_reason, metric, patience, best_validation
    early_stop: dict[str, Any]


def _dataset_identity(dataset: ClickDataset) -> dict[str, Any]:
    vocab_shas = {
        name: fingerprint(dataset.path / "vocabs" / f"{name}.parquet")["sha256"]
        for name in sorted(dataset.vocabs)
    }
    return {
        "path": str(dataset.path.resolve()),
        "format": dataset.format,
        "created_at": dataset.manifest.get("created_at"),
        "vocab_sha256": vocab_shas,
        "examples": dataset.manifest.get("counts", {}).get("examples"),
    }


def _prepare_model_dir(
    out: Path,
    config: RankerConfig,
    spec: FeatureSpec,
    identity: dict[str, Any],
    *,
    resume: bool,
    overwrite: bool,
) -> bool:
    """Create or check the model directory; return True when resuming from it."""
    config_path = out / CONFIG_FILE
    if resume and config_path.exists():
        saved = read_json(config_path)
        previous = RankerConfig.from_dict(saved["ranker"])
        for key in SHAPE_FIELDS:
            if getattr(previous, key) != getattr(config, key):
                raise ConfigError(
                    key, getattr(config, key), f"{getattr(previous, key)!r} as in {config_path}"
                )
        if saved.get("dataset", {}).get("vocab_sha256") != identity["vocab_sha256"]:
            raise EngineError(
                f"{out} was trained on another dataset ({saved.get('dataset', {}).get('path')})"
            )
        write_json(config_path, {**saved, "ranker": config.to_dict()})
        return True
    if not resume:
        check_output_dir(out, overwrite=overwrite)
        if out.exists() and overwrite:
            shutil.rmtree(out)
    out.mkdir(parents=True, exist_ok=True)
    write_json(
        config_path, {"ranker": config.to_dict(), "features": spec.to_dict(), "dataset": identity}
    )
    return False


def train_ranker(
    dataset_dir: str | Path,
    out_dir: str | Path,
    config: RankerConfig,
    *,
    resume: bool = False,
    overwrite: bool = False,
    show_progress: bool = True,
    echo: Callable[[str], None] | None = None,
) -> RankerTrainResult:
    """Train, checkpoint and export a ranker. Returns the run's figures.

    ``resume=True`` continues from the newest whole checkpoint in ``out_dir`` (or starts
    fresh when there is none, so one command line serves torchrun's elastic restarts);
    ``config.epochs`` may be raised to train further. ``echo`` receives the human status
    lines (the sharding plan) on rank 0.
    """
    dataset = open_click_dataset(dataset_dir)
    out = Path(out_dir)
    identity = _dataset_identity(dataset)
    if not resume and not overwrite and int(os.environ.get("RANK", "0")) == 0:
        check_output_dir(out, overwrite=False)  # fail before the data is read
    spec = discover_features(dataset, config.position)
    with distributed(config.device) as ctx:
        # One thread per rank by default: the ranker's tensors are small, and on a shared CPU
        # a second OpenMP thread spent more time waiting than working (7x slower, measured).
        torch.set_num_threads(config.threads or 1)
        resuming = False
        if ctx.is_main:
            resuming = _prepare_model_dir(
                out, config, spec, identity, resume=resume, overwrite=overwrite
            )
        if ctx.world_size > 1:
            dist.barrier()
        model_vocabs = {table: dataset.vocabs[table] for table in spec.tables}
        train = load_examples(dataset, spec, model_vocabs, "train")
        if len(train) == 0:
            raise EngineError(f"{dataset.path} has no train rows")
        validation = None
        if config.validate and dataset.num_examples("validation") > 0:
            validation = load_examples(dataset, spec, model_vocabs, "validation")
        prior = position_prior(train, config.max_position) if spec.position else None
        sharded = ShardedRanker.build(spec, config, ctx, position_init=prior)
        if ctx.is_main:
            plan_text = f"sharding plan ({ctx.world_size} rank(s)):\n" + format_plan(sharded.plan)
            (echo or log.info)(plan_text)

        state: dict[str, Any] = {
            "epoch": 0,
            "round": 0,
            "step": 0,
            "examples": 0,
            "loss_sum": 0.0,
            "seconds": 0.0,
            "early_stop": initial_state(),
        }
        resumed_from = None
        warm = None
        checkpoint = latest_checkpoint(out) if resume else None
        if checkpoint is not None:
            sharded.prepare_restore()
            tensors = sharded.checkpoint_state()
            saved = load_checkpoint(checkpoint, tensors)
            sharded.restore(tensors)
            state = saved["position"]
            state.setdefault("early_stop", initial_state())
            if saved.get("world_size") != ctx.world_size:
                log.warning(
                    "resuming %d-rank checkpoint on %d ranks: data order differs from an "
                    "uninterrupted run",
                    saved.get("world_size"),
                    ctx.world_size,
                )
            resumed_from = str(checkpoint)
            log.info(
                "resuming from %s (epoch %d, round %d)", checkpoint, state["epoch"], state["round"]
            )
        else:
            if resume and ctx.is_main and not resuming:
                log.warning("no checkpoint in %s; starting from the beginning", out)
            if config.warm_start is not None:
                warm = warm_start(sharded, model_vocabs, config)

        log_q = None
        if spec.can_retrieve and config.retrieval_weight > 0:
            log_q = doc_log_share(train, spec.table_rows["doc"])
        rounds = rank_batches(len(train), config.batch_size, ctx.world_size)
        done_before = state["examples"]
        run_log = TrainingLog(
            out,
            total_examples=config.epochs
            * epoch_examples(len(train), config.batch_size, rounds, ctx.world_size),
            initial_examples=done_before,
            enabled=ctx.is_main,
            show_progress=show_progress,
        )
        started = time.perf_counter()
        seconds_before, steps_before = state["seconds"], state["step"]
        last_checkpoint_time, last_checkpoint_step = started, state["step"]
        figures: dict[str, Any] | None = None

        def checkpoint_now() -> None:
            state["seconds"] = seconds_before + (time.perf_counter() - started)
            trainer_state = {
                "position": state,
                "world_size": ctx.world_size,
                "config": config.to_dict(),
            }
            save_checkpoint(
                out,
                state["step"],
                sharded.checkpoint_state(),
                trainer_state,
                ctx,
                keep=config.keep_checkpoints,
            )

        rule = StopRule(metric=config.early_stop_metric, patience=config.patience)
        sharded.dmp.train()
        try:
            while state["epoch"] < config.epochs and not state["early_stop"]["stopped"]:
                epoch = state["epoch"]
                order = epoch_order(len(train), config.seed, epoch)
                while state["round"] < rounds:
                    global_batch = state["round"] * ctx.world_size + ctx.rank
                    rows = batch_rows(order, config.batch_size, global_batch)
                    rng = np.random.default_rng([config.seed, epoch, global_batch, 7])
                    batch = make_batch(
                        train, rows, spec, oov_rate=config.oov_rate, rng=rng, doc_log_q=log_q
                    )
                    loss_sum = _step(
                        sharded, batch.to(ctx.device), len(rows), config.retrieval_weight
                    )
                    examples, loss_sum = _sum_over_ranks(len(rows), loss_sum, ctx)
                    state["round"] += 1
                    state["step"] += 1
                    state["examples"] += examples
                    state["loss_sum"] += loss_sum
                    record = {"epoch": epoch, "step": state["step"], "examples": state["examples"]}
                    run_log.advance(examples=examples, loss_sum=loss_sum, record=record)
                    now = time.perf_counter()
                    due = now - last_checkpoint_time >= config.checkpoint_every_seconds or (
                        config.checkpoint_every_steps is not None
                        and state["step"] - last_checkpoint_step >= config.checkpoint_every_steps
                    )
                    if _agree(due, ctx):
                        checkpoint_now()
                        last_checkpoint_time, last_checkpoint_step = now, state["step"]
                state["epoch"] += 1
                state["round"] = 0
                run_log.emit(
                    {
                        "epoch": epoch,
                        "step": state["step"],
                        "examples": state["examples"],
                        "epoch_end": True,
                    }
                )
                state["early_stop"]["epochs_run"] = state["epoch"]
                if validation is not None:
                    figures = validate(sharded, validation, spec, config.batch_size, ctx)
                    verdict = _early_stop_hook(sharded, state, rule, epoch, figures, out)
                    run_log.write(
                        {
                            "epoch": epoch,
                            "step": state["step"],
                            "validation": figures,
                            "early_stop": verdict,
                        }
                    )
                    run_log.note(f"epoch {epoch + 1}: validation {_format(figures)} ({verdict})")
        except KeyboardInterrupt:
            if ctx.world_size == 1:
                log.warning("interrupted: saving a checkpoint so --resume can continue")
                checkpoint_now()
            raise
        finally:
            run_log.close()

        elapsed = time.perf_counter() - started
        if figures is None and validation is not None:  # resumed after the last epoch
            figures = validate(sharded, validation, spec, config.batch_size, ctx)
        checkpoint_now()
        exported = sharded.export_state()
        stopped = outcome(state["early_stop"], rule, validating=validation is not None)
        exported, figures = _kept_weights(out, state, stopped, exported, figures)
        run_log.write({"epoch": state["epoch"] - 1, "step": state["step"], "kept": stopped})
        trained = state["examples"] - done_before
        result = RankerTrainResult(
            model_dir=str(out),
            world_size=ctx.world_size,
            epochs=config.epochs,
            train_examples=len(train),
            examples=trained,
            seconds=round(elapsed, 3),
            examples_per_sec=round(trained / max(elapsed, 1e-9), 1),
            steps=state["step"] - steps_before,
            loss=run_log.last_loss,
            validation=figures,
            groups=list(spec.groups),
            position=spec.position,
            plan=sharded.plan,
            warm_start=warm,
            resumed_from=resumed_from,
            early_stop=stopped,
        )
        if ctx.is_main and exported is not None:
            _export(out, dataset, spec, config, identity, exported, result, state)
        return result


def _early_stop_hook(
    sharded: ShardedRanker,
    state: dict[str, Any],
    rule: StopRule,
    epoch: int,
    figures: dict[str, Any],
    out: Path,
) -> str:
    """After epoch ``epoch``'s validation: keep its weights when they are the best so far
    (collective gather; rank 0 writes ``best/``), count it, decide whether to stop.
    Returns the verdict for the log line."""
    counters = state["early_stop"]
    if observe(counters, rule, epoch, figures):
        weights = sharded.export_state()
        if weights is not None:
            save_best(out, weights, epoch, figures)
        verdict = "best so far"
    else:
        verdict = (
            f"no better than epoch {counters['best_epoch'] + 1} ({counters['stale']} in a row)"
        )
    if should_stop(counters, rule):
        verdict += f"; stopping, keeping epoch {counters['best_epoch'] + 1}"
    return verdict


def _kept_weights(
    out: Path,
    state: dict[str, Any],
    stopped: dict[str, Any],
    exported: dict[str, torch.Tensor] | None,
    figures: dict[str, Any] | None,
) -> tuple[dict[str, torch.Tensor] | None, dict[str, Any] | None]:
    """The weights and validation figures to export: the best epoch's when it is not the
    last one trained (rank 0 reads ``best/``), else the live ones."""
    kept = stopped["kept_epoch"]
    if kept is None or kept == state["epoch"]:
        return exported, figures
    best = stopped["best_validation"]
    if exported is None:  # not rank 0: nothing to export
        return None, best
    return load_best(out, kept - 1), best


def _step(sharded: ShardedRanker, batch: Any, rows: int, retrieval_weight: float) -> float:
    """One optimizer step; returns the summed click loss of the batch."""
    relevance, log_examined, query, doc = sharded.dmp(batch.features, batch.dense, batch.position)
    loss_sum = click_loss(relevance, log_examined, batch.labels)
    loss = loss_sum / rows
    if retrieval_weight > 0 and batch.log_q is not None:
        towers = retrieval_loss(query, doc, batch.doc_ids, batch.log_q, batch.labels)
        loss = loss + retrieval_weight * towers / max(1, int(batch.labels.sum()))
    sharded.optimizer.zero_grad()
    loss.backward()  # tables update here (fused optimizer in backward)
    sharded.optimizer.step()
    return float(loss_sum.detach())


@torch.no_grad()
def validate(
    sharded: ShardedRanker,
    examples: Examples,
    spec: FeatureSpec,
    batch_size: int,
    ctx: DistContext,
) -> dict[str, Any]:
    """AUC and log loss of P(click) (with the position term) on ``examples``; all ranks
    score their share through DMP and rank 0 computes the figures."""
    sharded.dmp.eval()
    n = len(examples)
    scores = np.zeros(n, dtype=np.float64)
    seen: dict[int, tuple[np.ndarray, np.ndarray]] = {}
    for number, rows in iter_score_batches(n, batch_size, ctx.rank, ctx.world_size):
        batch = make_batch(examples, rows, spec).to(ctx.device)
        relevance, log_examined, _, _ = sharded.dmp(batch.features, batch.dense, batch.position)
        seen[number] = (rows, click_probability(relevance, log_examined).double().cpu().numpy())
    if ctx.world_size > 1:
        gathered: list[Any] = [None] * ctx.world_size
        dist.all_gather_object(gathered, seen)
        for part in gathered:
            seen.update(part)
    for rows, values in seen.values():
        scores[rows] = values
    sharded.dmp.train()
    figures: dict[str, Any] = {"rows": n}
    for name, metric in (("auc", auc), ("log_loss", log_loss)):
        try:
            figures[name] = round(metric(scores, examples.labels), 6)
        except MetricError:
            figures[name] = None
    return figures


def _format(figures: dict[str, Any]) -> str:
    parts = [f"{k} {v:.4f}" for k, v in figures.items() if k != "rows" and v is not None]
    return ", ".join(parts) or "n/a"


def _sum_over_ranks(rows: int, loss_sum: float, ctx: DistContext) -> tuple[int, float]:
    """Examples and summed loss of one step over every rank (the bar and metrics are global)."""
    if ctx.world_size == 1:
        return rows, loss_sum
    tensor = torch.tensor([rows, loss_sum], dtype=torch.float64)
    dist.all_reduce(tensor)
    return int(tensor[0].item()), float(tensor[1].item())


def epoch_examples(n: int, batch_size: int, rounds: int, world_size: int) -> int:
    """Examples one epoch trains on over all ranks (repeats filling the last round included)."""
    batches = max(1, -(-n // batch_size))
    sizes = [min(batch_size, n - (b % batches) * batch_size) for b in range(rounds * world_size)]
    return sum(sizes)


def _agree(flag: bool, ctx: DistContext) -> bool:
    """True on every rank when any rank says so (checkpoint decisions must be collective)."""
    if ctx.world_size == 1:
        return flag
    value = torch.tensor([1 if flag else 0], dtype=torch.int64)
    dist.all_reduce(value, op=dist.ReduceOp.MAX)
    return bool(value.item())


def _export(
    out: Path,
    dataset: ClickDataset,
    spec: FeatureSpec,
    config: RankerConfig,
    identity: dict[str, Any],
    state_dict: dict[str, torch.Tensor],
    result: RankerTrainResult,
    position: dict[str, Any],
) -> None:
    """Rank 0: model.pt, vocabularies, doc catalog, doc vectors and the manifest."""
    save_model_state(out, state_dict)
    write_model_vocabs(out, spec, dataset.vocabs)
    docs = 0
    if spec.doc:
        catalog = build_doc_catalog(dataset, dataset.vocabs["doc"])
        write_doc_catalog(out, catalog)
        docs = catalog.num_rows
    write_manifest(
        out,
        kind=RANKER_MODEL_KIND,
        config=config.to_dict(),
        inputs=[identity],
        counts={
            "train_examples": result.train_examples,
            "examples_trained": position["examples"],
            "steps": position["step"],
            "docs": docs,
            **{f"{t}_rows": n for t, n in spec.table_rows.items()},
        },
        extra={
            "features": spec.to_dict(),
            "world_size": result.world_size,
            "plan": result.plan,
            "final_loss": result.loss,
            "validation": result.validation,
            "seconds": position["seconds"],
            "warm_start": result.warm_start,
            "early_stop": result.early_stop,
        },
    )
    if spec.can_retrieve:
        export_doc_embeddings(out)
