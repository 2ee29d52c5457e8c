"""Train the query-doc click ranker on a click dataset into a model directory.

One device::

    embedrec train ranker data/clicks --out models/ranker

N processes (same command line; tables sharded by the planner, dense part under DDP, rank
k takes every N-th batch)::

    torchrun --nproc-per-node 2 -m embedrec.engine train ranker data/clicks --out models/ranker

Tiny smoke run::

    embedrec generate clicks --out /tmp/logs --queries 200 --docs 1000 --impressions 5000
    embedrec clicks-pipeline /tmp/logs/impressions.jsonl --format jsonl --out /tmp/clicks
    embedrec train ranker /tmp/clicks --out /tmp/ranker --epochs 1

The loop reads top to bottom: open the data and decide the feature groups, build and shard
the model, warm-start or restore the last checkpoint, then per round (one batch per rank)
step, log and checkpoint; validate at each epoch end, keep the best epoch's weights and stop
after ``patience`` epochs without gain (`engine.ranker.early_stop`); finally export the best
epoch's unsharded model, its vocabularies, the doc catalog and the doc vectors, and write
the manifest.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.distributed as dist

from embedrec.core.artifacts import (
    check_output_dir,
    fingerprint,
    write_manifest,
)
from embedrec.core.ranking_metrics import MetricError, auc, log_loss
from embedrec.engine.errors import EngineError
from embedrec.engine.ranker.batches import (
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
from embedrec.engine.ranker.config import SHAPE_FIELDS, RankerConfig
from embedrec.engine.ranker.early_stop import (
    StopRule,
    initial_state,
    load_best,
    observe,
    outcome,
    save_best,
    should_stop,
)
from embedrec.engine.ranker.export import build_doc_catalog, export_doc_embeddings
from embedrec.engine.ranker.features import FeatureSpec, discover_features, write_model_vocabs
from embedrec.engine.ranker.files import (
    RANKER_MODEL_KIND,
    save_model_state,
    write_doc_catalog,
)
from embedrec.engine.ranker.model import click_loss, click_probability, retrieval_loss
from embedrec.engine.ranker.progress import TrainingLog
from embedrec.engine.ranker.sharding import ShardedRanker
from embedrec.engine.ranker.warm_start import warm_start
from embedrec.engine.runtime.checkpoint import save_checkpoint
from embedrec.engine.runtime.distributed import DistContext, distributed
from embedrec.engine.runtime.training import (
    CheckpointCadence,
    Restored,
    announce_plan,
    checkpoint_on_interrupt,
    elapsed_since,
    prepare_model_dir,
    restore_latest,
)
from embedrec.pipelines.clicks.dataset import ClickDataset, ClickVocab, open_click_dataset

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

    >>> train_ranker("data/clicks", "models/ranker", RankerConfig(epochs=3))  # doctest: +SKIP
    RankerTrainResult(model_dir='models/ranker', world_size=1, ...)
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
        resuming = prepare_model_dir(
            out,
            "ranker",
            config,
            ctx,
            shape_fields=SHAPE_FIELDS,
            payload={"ranker": config.to_dict(), "features": spec.to_dict(), "dataset": identity},
            resume=resume,
            overwrite=overwrite,
        )
        data = _TrainingData.load(dataset, spec, config)
        prior = position_prior(data.train, config.max_position) if spec.position else None
        sharded = ShardedRanker.build(spec, config, ctx, position_init=prior)
        announce_plan(ctx, "", sharded.plan, echo)
        restored = restore_latest(out, sharded, ctx, resume=resume, resuming=resuming)
        warm = None
        if restored is None and config.warm_start is not None:
            warm = warm_start(sharded, data.vocabs, config)
        run = _Run.start(out, config, ctx, spec, sharded, data, restored, show_progress)
        sharded.dmp.train()
        with checkpoint_on_interrupt(ctx, run.save, close=run.log.close, out=out):
            while run.state["epoch"] < config.epochs and not run.state["early_stop"]["stopped"]:
                _train_epoch(run)
        elapsed = elapsed_since(run.started)
        run.save()
        with sharded.evaluated():  # the weight average, when there is one
            if run.figures is None and data.validation is not None:  # resumed after the end
                run.figures = validate(sharded, data.validation, spec, config.batch_size, ctx)
            exported = sharded.export_state()  # collective: every rank takes part
        stopped = outcome(run.state["early_stop"], run.rule, validating=data.validation is not None)
        exported, run.figures = _kept_weights(out, run.state, stopped, exported, run.figures)
        run.log.write({"epoch": run.state["epoch"] - 1, "step": run.state["step"], "kept": stopped})
        result = _result(run, elapsed, restored, warm, stopped)
        if ctx.is_main and exported is not None:
            _export(out, dataset, spec, config, identity, exported, result, run.state)
        return result


@dataclass(frozen=True)
class _TrainingData:
    """The examples one run trains and validates on, in the model's id spaces."""

    train: Examples
    validation: Examples | None
    vocabs: dict[str, ClickVocab]
    doc_log_q: np.ndarray | None  # log of each doc's share of clicks (in-batch softmax)

    @classmethod
    def load(cls, dataset: ClickDataset, spec: FeatureSpec, config: RankerConfig) -> _TrainingData:
        vocabs = {table: dataset.vocabs[table] for table in spec.tables}
        train = load_examples(dataset, spec, vocabs, "train")
        if len(train) == 0:
            raise EngineError(f"{dataset.path} has no train rows")
        validation = None
        if config.validate and dataset.num_examples("validation") > 0:
            validation = load_examples(dataset, spec, vocabs, "validation")
        log_q = None
        if spec.can_retrieve and config.retrieval_weight > 0:
            log_q = doc_log_share(train, spec.table_rows["doc"])
        return cls(train, validation, vocabs, log_q)


@dataclass
class _Run:
    """One training run's moving parts: what the epoch loop reads and updates."""

    out: Path
    config: RankerConfig
    ctx: DistContext
    spec: FeatureSpec
    sharded: ShardedRanker
    data: _TrainingData
    state: dict[str, Any]  # epoch, round, step, examples, loss_sum, seconds
    at_start: dict[str, Any]  # a copy: what this process found when it started
    rounds: int  # steps per epoch (one batch per rank each)
    log: TrainingLog
    cadence: CheckpointCadence
    started: float
    rule: StopRule
    figures: dict[str, Any] | None = None  # the last validation

    @classmethod
    def start(
        cls,
        out: Path,
        config: RankerConfig,
        ctx: DistContext,
        spec: FeatureSpec,
        sharded: ShardedRanker,
        data: _TrainingData,
        restored: Restored | None,
        show_progress: bool,
    ) -> _Run:
        state = _starting_state(restored, ctx)
        rounds = rank_batches(len(data.train), config.batch_size, ctx.world_size)
        per_epoch = epoch_examples(len(data.train), config.batch_size, rounds, ctx.world_size)
        run_log = TrainingLog(
            out,
            total_examples=config.epochs * per_epoch,
            initial_examples=state["examples"],
            enabled=ctx.is_main,
            show_progress=show_progress,
        )
        return cls(
            out=out,
            config=config,
            ctx=ctx,
            spec=spec,
            sharded=sharded,
            data=data,
            state=state,
            at_start=dict(state),
            rounds=rounds,
            log=run_log,
            cadence=CheckpointCadence.start(config, ctx, state["step"]),
            started=time.perf_counter(),
            rule=StopRule(metric=config.early_stop_metric, patience=config.patience),
        )

    def save(self) -> None:
        """Checkpoint the tables, the dense part and the position (collective)."""
        self.state["seconds"] = self.at_start["seconds"] + elapsed_since(self.started)
        trainer_state = {
            "position": self.state,
            "world_size": self.ctx.world_size,
            "config": self.config.to_dict(),
        }
        save_checkpoint(
            self.out,
            self.state["step"],
            self.sharded.checkpoint_state(),
            trainer_state,
            self.ctx,
            keep=self.config.keep_checkpoints,
        )


def _starting_state(restored: Restored | None, ctx: DistContext) -> dict[str, Any]:
    """The position to start from: a checkpoint's, or the beginning."""
    if restored is None:
        return {
            "epoch": 0,
            "round": 0,
            "step": 0,
            "examples": 0,
            "loss_sum": 0.0,
            "seconds": 0.0,
            "early_stop": initial_state(),
        }
    saved_world = restored.state.get("world_size")
    if saved_world != ctx.world_size:
        log.warning(
            "resuming %d-rank checkpoint on %d ranks: data order differs from an uninterrupted run",
            saved_world,
            ctx.world_size,
        )
    state: dict[str, Any] = restored.state["position"]
    state.setdefault("early_stop", initial_state())  # a checkpoint from before early stopping
    return state


def _train_epoch(run: _Run) -> None:
    """The rest of the current epoch, batch round by batch round, then validation."""
    state, config, ctx = run.state, run.config, run.ctx
    epoch = state["epoch"]
    order = epoch_order(len(run.data.train), config.seed, epoch)
    while state["round"] < run.rounds:
        global_batch = state["round"] * ctx.world_size + ctx.rank
        rows = batch_rows(order, config.batch_size, global_batch)
        rng = np.random.default_rng([config.seed, epoch, global_batch, 7])
        batch = make_batch(
            run.data.train,
            rows,
            run.spec,
            oov_rate=config.oov_rate,
            rng=rng,
            doc_log_q=run.data.doc_log_q,
        )
        loss_sum = _step(run.sharded, batch.to(ctx.device), len(rows), config.retrieval_weight)
        examples, loss_sum = _sum_over_ranks(len(rows), loss_sum, ctx)
        state["round"] += 1
        state["step"] += 1
        if run.sharded.average is not None:
            run.sharded.average.update(state["step"])
        state["examples"] += examples
        state["loss_sum"] += loss_sum
        record = {"epoch": epoch, "step": state["step"], "examples": state["examples"]}
        run.log.advance(examples=examples, loss_sum=loss_sum, record=record)
        if run.cadence.due(state["step"]):
            run.save()
    state["epoch"] += 1
    state["round"] = 0
    run.log.emit(
        {"epoch": epoch, "step": state["step"], "examples": state["examples"], "epoch_end": True}
    )
    state["early_stop"]["epochs_run"] = state["epoch"]
    if run.data.validation is not None:
        with run.sharded.evaluated():  # judge (and keep) the weight average, if any
            figures = validate(run.sharded, run.data.validation, run.spec, config.batch_size, ctx)
            verdict = _early_stop_hook(run.sharded, state, run.rule, epoch, figures, run.out)
        run.figures = figures
        record = {"epoch": epoch, "step": state["step"], "validation": figures}
        run.log.write({**record, "early_stop": verdict})
        run.log.note(f"epoch {epoch + 1}: validation {_format(figures)} ({verdict})")


def _result(
    run: _Run,
    elapsed: float,
    restored: Restored | None,
    warm: dict[str, Any] | None,
    stopped: dict[str, Any],
) -> RankerTrainResult:
    trained = run.state["examples"] - run.at_start["examples"]
    return RankerTrainResult(
        model_dir=str(run.out),
        world_size=run.ctx.world_size,
        epochs=run.config.epochs,
        train_examples=len(run.data.train),
        examples=trained,
        seconds=round(elapsed, 3),
        examples_per_sec=round(trained / max(elapsed, 1e-9), 1),
        steps=run.state["step"] - run.at_start["step"],
        loss=run.log.last_loss,
        validation=run.figures,
        groups=list(run.spec.groups),
        position=run.spec.position,
        plan=run.sharded.plan,
        warm_start=warm,
        resumed_from=None if restored is None else restored.path,
        early_stop=stopped,
    )


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
