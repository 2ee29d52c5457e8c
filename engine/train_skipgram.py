"""Train skip-gram embeddings from a text dataset into a model directory.

One device::

    embedrec train skipgram data/wiki --out models/wiki --dim 100 --epochs 5

N processes (same command line, tables sharded by the planner)::

    torchrun --nproc-per-node 2 -m engine train skipgram data/wiki --out models/wiki

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
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import torch
import torch.distributed as dist

from engine.checkpoint import latest_checkpoint, load_checkpoint, save_checkpoint
from engine.corpus_blocks import Block, TrainingPosition, iter_blocks, linear_lr
from engine.distributed import DistContext, distributed, format_plan
from engine.errors import EngineError
from engine.model_files import SKIPGRAM_MODEL_KIND, write_embeddings
from engine.run_log import RunLog
from engine.sampling_tables import huffman_tree, keep_probabilities, negative_table
from engine.skipgram_config import SHAPE_FIELDS, SkipGramConfig
from engine.skipgram_model import WORD, SkipGramTables
from engine.skipgram_runners import HogwildRunner, TorchRecRunner
from pipelines.artifacts import check_output_dir, fingerprint, read_json, write_json, write_manifest
from pipelines.errors import ConfigError
from pipelines.schemas import VOCAB_FILE
from pipelines.text_dataset import TextDataset, open_text_dataset

log = logging.getLogger(__name__)
CONFIG_FILE = "config.json"
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


def choose_kernel(config: SkipGramConfig, ctx: DistContext) -> str:
    """``auto`` → hogwild for a 1-rank fp32 CPU run, torchrec otherwise."""
    if config.precision == "bf16" and ctx.device.type == "cpu":
        # fbgemm's CPU TBE has fp32 and fp16 kernels only ("split_embedding_nobag_cpu_forward
        # not implemented for BFloat16"); say so before any table is built.
        raise ConfigError(
            "precision", "bf16", "fp32 or fp16 on CPU (bf16 tables need --device cuda)"
        )
    if config.kernel != "auto":
        if config.kernel == "hogwild" and (ctx.world_size > 1 or config.precision != "fp32"):
            raise ConfigError("kernel", "hogwild", "torchrec with several ranks or fp16/bf16")
        return config.kernel
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


def _prepare_model_dir(
    out: Path, config: SkipGramConfig, identity: dict[str, Any], *, resume: bool, overwrite: bool
) -> bool:
    """Create or check the model directory; return True when resuming from it."""
    config_path = out / CONFIG_FILE
    if resume and config_path.exists():
        saved = SkipGramConfig.from_dict(read_json(config_path)["skipgram"])
        for key in SHAPE_FIELDS:
            if getattr(saved, key) != getattr(config, key):
                raise ConfigError(
                    key,
                    getattr(config, key),
                    f"{getattr(saved, key)!r} as in {config_path} to resume it",
                )
        saved_identity = read_json(config_path).get("dataset", {})
        if saved_identity.get("vocab_sha256") != identity["vocab_sha256"]:
            raise EngineError(
                f"{out} was trained on another dataset ({saved_identity.get('path')})"
            )
        return True
    if not resume:
        check_output_dir(out, overwrite=overwrite)
        if out.exists() and overwrite:
            shutil.rmtree(out)
    out.mkdir(parents=True, exist_ok=True)
    write_json(config_path, {"skipgram": config.to_dict(), "dataset": identity})
    return False


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
            final_lr_ratio=config.resolved_final_lr_ratio(kernel),
        )
        resuming = False
        if ctx.is_main:
            resuming = _prepare_model_dir(out, config, identity, resume=resume, overwrite=overwrite)
        if ctx.world_size > 1:
            dist.barrier()
        tables = SkipGramTables.build(dataset.vocab_size, config, ctx)
        assert config.lr is not None  # resolved above
        lr0: float = config.lr
        final_ratio = config.final_lr_ratio or 0.0
        if ctx.is_main:
            plan_text = f"sharding plan ({ctx.world_size} rank(s), {kernel} kernel):\n" + (
                format_plan(tables.plan)
            )
            (echo or log.info)(plan_text)

        position = TrainingPosition()
        resumed_from = None
        checkpoint = latest_checkpoint(out) if resume else None
        if checkpoint is not None:
            tensors = tables.checkpoint_state()
            state = load_checkpoint(checkpoint, tensors)
            tables.restore(tensors)
            position = TrainingPosition.from_dict(state["position"])
            resumed_from = str(checkpoint)
            log.info(
                "resuming from %s (epoch %d, block %d)", checkpoint, position.epoch, position.block
            )
        elif resume and ctx.is_main and not resuming:
            log.info("no checkpoint in %s yet; starting from the beginning", out)

        counts = dataset.vocab.counts
        keep = keep_probabilities(counts, config.sample)
        neg_prob, neg_alias = negative_table(counts)
        tree = huffman_tree(counts) if config.hs else None
        runner: HogwildRunner | TorchRecRunner
        if kernel == "hogwild":
            runner = HogwildRunner(
                tables,
                config,
                keep=keep,
                neg_prob=neg_prob,
                neg_alias=neg_alias,
                tree=tree,
                threads=threads,
            )
        else:
            runner = TorchRecRunner(
                tables, config, keep=keep, neg_prob=neg_prob, neg_alias=neg_alias, tree=tree
            )

        corpus_words = dataset.total_tokens
        total_words = config.epochs * corpus_words
        run_log = RunLog(
            out,
            total_words=total_words,
            initial_words=position.words,
            enabled=ctx.is_main,
            show_progress=show_progress,
        )
        started = time.perf_counter()
        words_at_start, steps_at_start, pairs_at_start = (
            position.words,
            position.step,
            position.pairs,
        )
        seconds_at_start = position.seconds
        input_timer = [0.0]  # seconds spent waiting for corpus blocks (Parquet reading)
        last_checkpoint_time, last_checkpoint_step = started, position.step

        def checkpoint_now() -> None:
            position.seconds = seconds_at_start + (time.perf_counter() - started)
            state = {"position": position.to_dict(), "kernel": kernel, "config": config.to_dict()}
            save_checkpoint(
                out,
                position.step,
                tables.checkpoint_state(),
                state,
                ctx,
                keep=config.keep_checkpoints,
            )

        def checkpoint_due(now: float) -> bool:
            return (now - last_checkpoint_time >= config.checkpoint_every_seconds) or (
                config.checkpoint_every_steps is not None
                and position.step - last_checkpoint_step >= config.checkpoint_every_steps
            )

        try:
            while position.epoch < config.epochs:
                # The epoch's own mean loss (this process's pairs since the epoch began or
                # the run resumed), for the epoch-end metrics line.
                epoch_loss_start, epoch_pairs_start = position.loss_sum, position.pairs
                rounds = _timed(
                    _rounds(dataset, config.block_tokens, position.block, ctx.world_size),
                    input_timer,
                )
                for first_block, blocks in rounds:
                    round_words = sum(b.num_tokens for b in blocks)
                    before = position.words

                    def lr(fraction: float, before: int = before, span: int = round_words) -> float:
                        return linear_lr(
                            lr0, config.min_lr, before + fraction * span, total_words, final_ratio
                        )

                    mine = blocks[ctx.rank] if ctx.rank < len(blocks) else None
                    stream = position.epoch * 1_000_003 + first_block + ctx.rank
                    first_step = position.round_step if first_block == position.block else 0
                    steps, outcomes = runner.rounds(mine, lr, stream, first_step)
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
                            / total_words,
                        }
                        run_log.advance(
                            words=round_words // steps + (round_words % steps if done else 0),
                            loss_sum=loss_sum,
                            pairs=pairs,
                            lr=lr(position.round_step / steps),
                            record=record,
                        )
                        if done:
                            break  # the round's end is checkpointed below, with its position
                        now = time.perf_counter()
                        if _agree(checkpoint_due(now), ctx):
                            checkpoint_now()  # mid-round: resumes at round_step
                            last_checkpoint_time, last_checkpoint_step = now, position.step
                    position.block = first_block + len(blocks)
                    position.round_step = 0
                    position.words += round_words
                    now = time.perf_counter()
                    if _agree(checkpoint_due(now), ctx):
                        checkpoint_now()
                        last_checkpoint_time, last_checkpoint_step = now, position.step
                position.epoch += 1
                position.block = 0
                epoch_pairs = position.pairs - epoch_pairs_start
                run_log.emit(
                    lr=linear_lr(lr0, config.min_lr, position.words, total_words, final_ratio),
                    loss=(position.loss_sum - epoch_loss_start) / epoch_pairs
                    if epoch_pairs
                    else None,
                    record={
                        "epoch": position.epoch - 1,
                        "step": position.step,
                        "words": position.words,
                        "epoch_end": True,
                        "progress": position.words / total_words,
                    },
                )
        except KeyboardInterrupt:
            if ctx.world_size == 1:
                log.warning("interrupted: saving a checkpoint so --resume can continue")
                checkpoint_now()
            raise
        finally:
            run_log.close()

        elapsed = time.perf_counter() - started
        checkpoint_now()
        vectors = tables.gather(WORD)
        result = TrainResult(
            model_dir=str(out),
            kernel=kernel,
            world_size=ctx.world_size,
            epochs=config.epochs,
            corpus_words=corpus_words,
            words=position.words - words_at_start,
            seconds=round(elapsed, 3),
            words_per_sec=round((position.words - words_at_start) / max(elapsed, 1e-9), 1),
            pairs=position.pairs - pairs_at_start,
            input_seconds=round(input_timer[0], 3),
            steps=position.step - steps_at_start,
            # A run resumed from its final checkpoint trains nothing: report the mean loss
            # the checkpoint carries instead of none.
            loss=run_log.last_loss
            if run_log.last_loss is not None or not position.pairs
            else position.loss_sum / position.pairs,
            plan=tables.plan,
            resumed_from=resumed_from,
        )
        if ctx.is_main and vectors is not None:
            write_embeddings(out, vectors, dataset.vocab)
            write_manifest(
                out,
                kind=SKIPGRAM_MODEL_KIND,
                config=config.to_dict(),
                inputs=[{**identity, "manifest_created_at": dataset.manifest.get("created_at")}],
                counts={
                    "vocab_size": dataset.vocab_size,
                    "dim": config.dim,
                    "corpus_words": corpus_words,
                    "words_trained": position.words,
                    "pairs": position.pairs,
                    "steps": position.step,
                },
                extra={
                    "kernel": kernel,
                    "world_size": ctx.world_size,
                    "device": str(ctx.device),
                    "plan": tables.plan,
                    "final_loss": result.loss,
                    "seconds": result.seconds,
                    "words_per_sec": result.words_per_sec,
                },
            )
        return result


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


def _agree(flag: bool, ctx: DistContext) -> bool:
    """True on every rank when any rank says so (checkpoint decisions must be collective)."""
    if ctx.world_size == 1:
        return flag
    value = torch.tensor([1 if flag else 0], dtype=torch.int64)
    dist.all_reduce(value, op=dist.ReduceOp.MAX)
    return bool(value.item())
