"""Train skip-gram embeddings from a text dataset into a model directory.

One device::

    embedrec train skipgram data/wiki --out models/wiki --dim 100 --epochs 5

N processes (same command line, tables sharded by the planner)::

    torchrun --nproc-per-node 2 -m embedrec.engine train skipgram data/wiki --out models/wiki

Tiny smoke run::

    embedrec generate text --out /tmp/world && embedrec text-pipeline /tmp/world/corpus.txt \
        --out /tmp/world-ds && embedrec train skipgram /tmp/world-ds --out /tmp/m --epochs 1

The loop reads top to bottom: open the data, build and shard the tables, restore the last
checkpoint when resuming, then per round of blocks (one block per rank) train, log and
checkpoint; finally export the word vectors and write the manifest.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import torch

from embedrec.core.artifacts import fingerprint, write_manifest
from embedrec.core.errors import ConfigError
from embedrec.core.schemas import VOCAB_FILE
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
from embedrec.engine.skipgram.column_plan import (
    build_column_tables,
    check_column_split,
    wants_column_kernel,
)
from embedrec.engine.skipgram.column_runner import ColumnRunner
from embedrec.engine.skipgram.config import SHAPE_FIELDS, SkipGramConfig
from embedrec.engine.skipgram.corpus_blocks import Block, TrainingPosition, iter_blocks, linear_lr
from embedrec.engine.skipgram.files import SKIPGRAM_MODEL_KIND, write_embeddings
from embedrec.engine.skipgram.model import WORD, SkipGramTables
from embedrec.engine.skipgram.progress import RunLog
from embedrec.engine.skipgram.runners import HogwildRunner, TorchRecRunner
from embedrec.engine.skipgram.sampling_tables import (
    huffman_tree,
    keep_probabilities,
    negative_table,
)
from embedrec.pipelines.text.dataset import TextDataset, open_text_dataset

log = logging.getLogger(__name__)
_T = TypeVar("_T")


@dataclass(frozen=True)
class TrainResult:
    """What a finished run reports (also the CLI's ``--json`` document)."""

    model_dir: str
    kernel: str
    world_size: int
    epochs: int
    corpus_words: int
    words: int  # consumed by this process's run (after any resume point)
    seconds: float
    words_per_sec: float
    pairs: int
    steps: int
    input_seconds: float  # of ``seconds``, spent reading the corpus (the rest: training)
    loss: float | None
    plan: dict[str, Any]
    resumed_from: str | None
    comm: dict[str, float] | None = None  # column kernel: this rank's all_reduce calls/bytes


def choose_kernel(config: SkipGramConfig, ctx: DistContext) -> str:
    """``auto`` → hogwild for a 1-rank fp32 CPU run, torchrec otherwise."""
    if config.kernel != "auto":
        if config.kernel == "hogwild" and (ctx.world_size > 1 or config.precision != "fp32"):
            raise ConfigError("kernel", "hogwild", "torchrec or column with several ranks")
        if config.kernel == "column":
            if config.precision != "fp32":
                raise ConfigError("precision", config.precision, "fp32 with the column kernel")
            check_column_split(config.dim, ctx.world_size)
        return config.kernel
    if wants_column_kernel(config, ctx.world_size, ctx.device.type):
        check_column_split(config.dim, ctx.world_size)  # a clear line, before any table
        return "column"
    simple = ctx.world_size == 1 and ctx.device.type == "cpu" and config.precision == "fp32"
    if not simple and not config.shared_negatives:
        raise ConfigError("shared_negatives", False, "True when training on the torchrec kernel")
    return "hogwild" if simple else "torchrec"


def _dataset_identity(dataset: TextDataset) -> dict[str, Any]:
    vocab = fingerprint(dataset.path / VOCAB_FILE)
    return {
        "path": str(dataset.path.resolve()),
        "vocab_sha256": vocab["sha256"],
        "vocab_size": dataset.vocab_size,
        "corpus_tokens": dataset.total_tokens,
    }


def _set_threads(threads: int | None) -> int:
    import numba

    n = threads or os.cpu_count() or 1
    torch.set_num_threads(n)
    numba.set_num_threads(min(n, numba.config.NUMBA_NUM_THREADS))  # type: ignore[attr-defined]
    return n


def train_skipgram(
    dataset_dir: str | Path,
    out_dir: str | Path,
    config: SkipGramConfig,
    *,
    resume: bool = False,
    overwrite: bool = False,
    show_progress: bool = True,
    echo: Callable[[str], None] | None = None,
) -> TrainResult:
    """Train, checkpoint and export. Returns the run's figures.

    ``resume=True`` continues from the newest whole checkpoint in ``out_dir`` (or starts
    fresh when there is none, so one command line serves torchrun's elastic restarts).
    ``echo`` receives the human status lines (the sharding plan) on rank 0.

    >>> train_skipgram("data/wiki", "models/wiki", SkipGramConfig(dim=100))  # doctest: +SKIP
    TrainResult(model_dir='models/wiki', kernel='hogwild', ...)
    """
    dataset = open_text_dataset(dataset_dir)
    out = Path(out_dir)
    identity = _dataset_identity(dataset)
    with distributed(config.device) as ctx:
        threads = _set_threads(config.threads)
        kernel = choose_kernel(config, ctx)
        config = config.replace(
            optimizer=config.resolved_optimizer(kernel),
            lr=config.resolved_lr(kernel),
            final_lr_ratio=config.resolved_final_lr_ratio(),
        )
        resuming = prepare_model_dir(
            out,
            "skipgram",
            config,
            ctx,
            shape_fields=SHAPE_FIELDS,
            payload={"skipgram": config.to_dict(), "dataset": identity},
            resume=resume,
            overwrite=overwrite,
        )
        if kernel == "column":  # one column slice of every table per rank
            tables = build_column_tables(dataset.vocab_size, config, ctx)
        else:
            tables = SkipGramTables.build(dataset.vocab_size, config, ctx)
        announce_plan(ctx, f", {kernel} kernel", tables.plan, echo)
        restored = restore_latest(out, tables, ctx, resume=resume, resuming=resuming)
        position = TrainingPosition()
        if restored is not None:
            position = TrainingPosition.from_dict(restored.state["position"])
        run = _Run.start(
            out, dataset, config, ctx, tables, kernel, threads, position, show_progress
        )
        with checkpoint_on_interrupt(ctx, run.save, close=run.log.close, out=out):
            while position.epoch < config.epochs:
                _train_epoch(run)
        elapsed = elapsed_since(run.started)
        run.save()
        vectors = tables.gather(WORD)  # collective: every rank takes part
        result = _result(run, elapsed, restored)
        if ctx.is_main and vectors is not None:
            write_embeddings(out, vectors, dataset.vocab)
            _write_manifest(run, identity, result)
        return result


@dataclass
class _Run:
    """One training run's moving parts: what the epoch loop reads and updates."""

    out: Path
    dataset: TextDataset
    config: SkipGramConfig
    ctx: DistContext
    tables: SkipGramTables
    kernel: str
    runner: HogwildRunner | TorchRecRunner | ColumnRunner
    log: RunLog
    position: TrainingPosition
    cadence: CheckpointCadence
    lr0: float
    total_words: int
    started: float
    at_start: TrainingPosition  # a copy: what this process found when it started
    input_seconds: list[float] = field(default_factory=lambda: [0.0])

    @classmethod
    def start(
        cls,
        out: Path,
        dataset: TextDataset,
        config: SkipGramConfig,
        ctx: DistContext,
        tables: SkipGramTables,
        kernel: str,
        threads: int,
        position: TrainingPosition,
        show_progress: bool,
    ) -> _Run:
        assert config.lr is not None  # resolved by the caller
        total_words = config.epochs * dataset.total_tokens
        run_log = RunLog(
            out,
            total_words=total_words,
            initial_words=position.words,
            enabled=ctx.is_main,
            show_progress=show_progress,
        )
        return cls(
            out=out,
            dataset=dataset,
            config=config,
            ctx=ctx,
            tables=tables,
            kernel=kernel,
            runner=_make_runner(kernel, tables, config, dataset, threads),
            log=run_log,
            position=position,
            cadence=CheckpointCadence.start(config, ctx, position.step),
            lr0=config.lr,
            total_words=total_words,
            started=time.perf_counter(),
            at_start=TrainingPosition.from_dict(position.to_dict()),
        )

    def lr_at(self, words: float) -> float:
        final_ratio = self.config.final_lr_ratio or 0.0
        return linear_lr(self.lr0, self.config.min_lr, words, self.total_words, final_ratio)

    def save(self) -> None:
        """Checkpoint the tables and the position (collective)."""
        self.position.seconds = self.at_start.seconds + elapsed_since(self.started)
        state = {
            "position": self.position.to_dict(),
            "kernel": self.kernel,
            "config": self.config.to_dict(),
        }
        save_checkpoint(
            self.out,
            self.position.step,
            self.tables.checkpoint_state(),
            state,
            self.ctx,
            keep=self.config.keep_checkpoints,
        )


def _make_runner(
    kernel: str, tables: SkipGramTables, config: SkipGramConfig, dataset: TextDataset, threads: int
) -> HogwildRunner | TorchRecRunner | ColumnRunner:
    """The kernel's runner with the sampling tables of this vocabulary."""
    counts = dataset.vocab.counts
    neg_prob, neg_alias = negative_table(counts)
    tables_kw: dict[str, Any] = {
        "keep": keep_probabilities(counts, config.sample),
        "neg_prob": neg_prob,
        "neg_alias": neg_alias,
        "tree": huffman_tree(counts) if config.hs else None,
    }
    if kernel == "column":
        del tables_kw["tree"]  # the column kernel refuses --hs up front
        return ColumnRunner(tables, config, **tables_kw)
    if kernel == "hogwild":
        return HogwildRunner(tables, config, threads=threads, **tables_kw)
    return TorchRecRunner(tables, config, **tables_kw)


def _train_epoch(run: _Run) -> None:
    """The rest of the current epoch, round by round (one block per rank), then its metrics."""
    position, config, ctx = run.position, run.config, run.ctx
    # The epoch's own mean loss (this process's pairs since the epoch began or the run
    # resumed), for the epoch-end metrics line.
    loss_start, pairs_start = position.loss_sum, position.pairs
    # The column kernel trains every block on every rank (a round is one block).
    per_round = 1 if run.kernel == "column" else ctx.world_size
    rounds = _rounds(run.dataset, config.block_tokens, position.block, per_round)
    for first_block, blocks in _timed(rounds, run.input_seconds):
        _train_round(run, first_block, blocks)
        if run.cadence.due(position.step):
            run.save()
    position.epoch += 1
    position.block = 0
    pairs = position.pairs - pairs_start
    run.log.emit(
        lr=run.lr_at(position.words),
        loss=(position.loss_sum - loss_start) / pairs if pairs else None,
        record={
            "epoch": position.epoch - 1,
            "step": position.step,
            "words": position.words,
            "epoch_end": True,
            "progress": position.words / run.total_words,
        },
    )


def _train_round(run: _Run, first_block: int, blocks: list[Block]) -> None:
    """Train one round: this rank's block, in steps; a mid-round checkpoint when one is due."""
    position, ctx = run.position, run.ctx
    round_words = sum(b.num_tokens for b in blocks)
    before = position.words

    def lr(fraction: float) -> float:
        return run.lr_at(before + fraction * round_words)

    rank = 0 if run.kernel == "column" else ctx.rank  # column: same text, same draws
    mine = blocks[rank] if rank < len(blocks) else None
    stream = position.epoch * 1_000_003 + first_block + rank
    first_step = position.round_step if first_block == position.block else 0
    steps, outcomes = run.runner.rounds(mine, lr, stream, first_step)
    for loss_sum, pairs in outcomes:
        position.round_step += 1
        position.step += 1
        position.pairs += pairs
        position.loss_sum += loss_sum
        done = position.round_step == steps
        record = {
            "epoch": position.epoch,
            "step": position.step,
            "words": position.words + (round_words if done else 0),
            "progress": (position.words + round_words * position.round_step / steps)
            / run.total_words,
        }
        run.log.advance(
            words=round_words // steps + (round_words % steps if done else 0),
            loss_sum=loss_sum,
            pairs=pairs,
            lr=lr(position.round_step / steps),
            record=record,
        )
        if done:
            break  # the round's end is checkpointed by the caller, with its position
        if run.cadence.due(position.step):
            run.save()  # mid-round: resumes at round_step
    position.block = first_block + len(blocks)
    position.round_step = 0
    position.words += round_words


def _result(run: _Run, elapsed: float, restored: Restored | None) -> TrainResult:
    position, start = run.position, run.at_start
    words = position.words - start.words
    # A run resumed from its final checkpoint trains nothing: report the mean loss the
    # checkpoint carries instead of none.
    loss = run.log.last_loss
    if loss is None and position.pairs:
        loss = position.loss_sum / position.pairs
    return TrainResult(
        model_dir=str(run.out),
        kernel=run.kernel,
        world_size=run.ctx.world_size,
        epochs=run.config.epochs,
        corpus_words=run.dataset.total_tokens,
        words=words,
        seconds=round(elapsed, 3),
        words_per_sec=round(words / max(elapsed, 1e-9), 1),
        pairs=position.pairs - start.pairs,
        input_seconds=round(run.input_seconds[0], 3),
        steps=position.step - start.step,
        loss=loss,
        plan=run.tables.plan,
        resumed_from=None if restored is None else restored.path,
        comm=run.runner.comm.to_dict() if isinstance(run.runner, ColumnRunner) else None,
    )


def _write_manifest(run: _Run, identity: dict[str, Any], result: TrainResult) -> None:
    position, dataset = run.position, run.dataset
    write_manifest(
        run.out,
        kind=SKIPGRAM_MODEL_KIND,
        config=run.config.to_dict(),
        inputs=[{**identity, "manifest_created_at": dataset.manifest.get("created_at")}],
        counts={
            "vocab_size": dataset.vocab_size,
            "dim": run.config.dim,
            "corpus_words": dataset.total_tokens,
            "words_trained": position.words,
            "pairs": position.pairs,
            "steps": position.step,
        },
        extra={
            "kernel": run.kernel,
            "world_size": run.ctx.world_size,
            "device": str(run.ctx.device),
            "plan": run.tables.plan,
            "final_loss": result.loss,
            "seconds": result.seconds,
            "words_per_sec": result.words_per_sec,
        },
    )


def _rounds(dataset: TextDataset, block_tokens: int, start_block: int, world_size: int) -> Any:
    """Group the epoch's blocks (from ``start_block``) into rounds of one block per rank."""
    pending: list[Block] = []
    first = start_block
    for index, block in iter_blocks(dataset, block_tokens, start_block):
        if not pending:
            first = index
        pending.append(block)
        if len(pending) == world_size:
            yield first, pending
            pending = []
    if pending:
        yield first, pending


def _timed(items: Iterator[_T], timer: list[float]) -> Iterator[_T]:
    """Yield from ``items``, adding the time spent producing each one to ``timer[0]``."""
    while True:
        start = time.perf_counter()
        try:
            item = next(items)
        except StopIteration:
            timer[0] += time.perf_counter() - start
            return
        timer[0] += time.perf_counter() - start
        yield item
