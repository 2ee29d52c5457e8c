"""The steps every trainer shares: the model folder, restoring, checkpoint cadence, interrupts.

Both trainers (``engine.skipgram.train`` and ``engine.ranker.train``) are short recipes over
these steps and their own model-specific ones::

    resuming = prepare_model_dir(out, "skipgram", config, payload, identity, ...)  # rank 0
    restored = restore_latest(out, tables, resume=resume, ...)   # every rank, collectively
    cadence = CheckpointCadence.start(config, ctx, step)
    with checkpoint_on_interrupt(ctx, save, close=log.close):
        ... one epoch ...; if cadence.due(step): save()

The recipe's steps are collective where they must be: ``restore_latest`` and
``CheckpointCadence.due`` run on every rank, ``prepare_model_dir`` on rank 0 before a barrier.
"""

from __future__ import annotations

import json
import logging
import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import torch
import torch.distributed as dist

from embedrec.core.artifacts import check_output_dir, read_json, write_json
from embedrec.core.errors import ConfigError
from embedrec.engine.errors import EngineError
from embedrec.engine.runtime.checkpoint import latest_checkpoint, load_checkpoint
from embedrec.engine.runtime.distributed import DistContext, format_plan

log = logging.getLogger(__name__)

CONFIG_FILE = "config.json"


class TrainingConfig(Protocol):
    """What the shared steps read of a trainer's config."""

    @property
    def checkpoint_every_seconds(self) -> float: ...

    @property
    def checkpoint_every_steps(self) -> int | None: ...

    def to_dict(self) -> dict[str, Any]: ...


class Checkpointable(Protocol):
    """A sharded model the shared steps can checkpoint and restore."""

    def checkpoint_state(self) -> dict[str, Any]: ...

    def restore(self, tensors: dict[str, Any]) -> None: ...


def prepare_model_dir(
    out: Path,
    section: str,
    config: TrainingConfig,
    ctx: DistContext,
    *,
    shape_fields: tuple[str, ...],
    payload: dict[str, Any],
    resume: bool,
    overwrite: bool,
) -> bool:
    """Rank 0 creates or checks the model folder while the others wait; True when resuming.

    Every rank must call it (a barrier follows rank 0's work); the answer is rank 0's.
    """
    resuming = False
    if ctx.is_main:
        resuming = _prepare_on_main(
            out,
            section,
            config,
            shape_fields=shape_fields,
            payload=payload,
            resume=resume,
            overwrite=overwrite,
        )
    if ctx.world_size > 1:
        dist.barrier()
    return resuming


def _prepare_on_main(
    out: Path,
    section: str,
    config: TrainingConfig,
    *,
    shape_fields: tuple[str, ...],
    payload: dict[str, Any],
    resume: bool,
    overwrite: bool,
) -> bool:
    """Create or check the model folder; return True when resuming from it.

    A resumed folder must have been made with the same shape (``shape_fields`` of the config
    saved under ``section`` in ``config.json``) from the same dataset (its vocabulary
    fingerprint, ``payload["dataset"]["vocab_sha256"]``); the config of this run replaces the
    saved one (epochs may grow). A new folder gets ``payload`` as its ``config.json``.
    """
    config_path = out / CONFIG_FILE
    if resume and config_path.exists():
        saved = read_json(config_path)
        current = json.loads(json.dumps(config.to_dict()))  # tuples as JSON lists, like saved
        for key in shape_fields:
            before = saved[section].get(key)
            now = current.get(key)
            if before != now:
                raise ConfigError(key, now, f"{before!r} as in {config_path} to resume it")
        dataset = saved.get("dataset", {})
        if dataset.get("vocab_sha256") != payload["dataset"]["vocab_sha256"]:
            raise EngineError(f"{out} was trained on another dataset ({dataset.get('path')})")
        write_json(config_path, {**saved, section: config.to_dict()})
        return True
    if not resume:
        check_output_dir(out, overwrite=overwrite)
        if out.exists() and overwrite:
            shutil.rmtree(out)
    out.mkdir(parents=True, exist_ok=True)
    write_json(config_path, payload)
    return False


@dataclass(frozen=True)
class Restored:
    """The trainer state a checkpoint carried, and where it came from."""

    state: dict[str, Any]
    path: str


def restore_latest(
    out: Path, model: Checkpointable, ctx: DistContext, *, resume: bool, resuming: bool
) -> Restored | None:
    """Load the newest whole checkpoint of ``out`` into ``model`` (every rank, collectively).

    Returns None when not resuming or when there is no checkpoint yet (a fresh start, so one
    command line serves torchrun's elastic restarts).
    """
    checkpoint = latest_checkpoint(out) if resume else None
    if checkpoint is None:
        if resume and ctx.is_main and not resuming:
            log.info("no checkpoint in %s yet; starting from the beginning", out)
        return None
    prepare = getattr(model, "prepare_restore", None)
    if prepare is not None:
        prepare()
    tensors = model.checkpoint_state()
    state = load_checkpoint(checkpoint, tensors)
    model.restore(tensors)
    log.info("resuming from %s", checkpoint)
    return Restored(state=state, path=str(checkpoint))


@dataclass
class CheckpointCadence:
    """When to checkpoint: every N seconds or every N steps, decided by all ranks at once."""

    every_seconds: float
    every_steps: int | None
    ctx: DistContext
    last_time: float
    last_step: int

    @classmethod
    def start(cls, config: TrainingConfig, ctx: DistContext, step: int) -> CheckpointCadence:
        return cls(
            config.checkpoint_every_seconds,
            config.checkpoint_every_steps,
            ctx,
            time.perf_counter(),
            step,
        )

    def due(self, step: int) -> bool:
        """True on every rank when any rank's clock or step count says so; then restarts."""
        now = time.perf_counter()
        flag = now - self.last_time >= self.every_seconds or (
            self.every_steps is not None and step - self.last_step >= self.every_steps
        )
        if not agree(flag, self.ctx):
            return False
        self.last_time, self.last_step = now, step
        return True


@contextmanager
def checkpoint_on_interrupt(
    ctx: DistContext, save: Callable[[], None], *, close: Callable[[], None], out: Path
) -> Iterator[None]:
    """Ctrl-C on one rank saves a checkpoint so ``--resume`` continues; ``close`` always runs.

    With several ranks the others are not at the same step, so no collective save is tried:
    the last periodic checkpoint is the resume point. A collective that fails because a peer
    rank died becomes one `EngineError` line naming that resume point.
    """
    try:
        yield
    except RuntimeError as exc:  # a collective failed: a peer rank died or hung up
        if ctx.world_size == 1:
            raise
        text = str(exc).strip()
        reason = text.splitlines()[0][:200] if text else type(exc).__name__
        raise EngineError(
            f"rank {ctx.rank}: a collective failed ({reason}); the newest whole checkpoint "
            f"in {out} is kept: rerun with --resume"
        ) from None
    except KeyboardInterrupt:
        if ctx.world_size == 1:
            log.warning("interrupted: saving a checkpoint so --resume can continue")
            save()
        raise
    finally:
        close()


def announce_plan(
    ctx: DistContext, title: str, plan: dict[str, Any], echo: Callable[[str], None] | None
) -> None:
    """Rank 0 prints the sharding plan (to ``echo``, else the log)."""
    if ctx.is_main:
        (echo or log.info)(f"sharding plan ({ctx.world_size} rank(s){title}):\n{format_plan(plan)}")


def agree(flag: bool, ctx: DistContext) -> bool:
    """True on every rank when any rank says so (checkpoint decisions must be collective)."""
    if ctx.world_size == 1:
        return flag
    value = torch.tensor([1 if flag else 0], dtype=torch.int64)
    dist.all_reduce(value, op=dist.ReduceOp.MAX)
    return bool(value.item())


def elapsed_since(started: float) -> float:
    """Seconds since ``started`` (a ``time.perf_counter()`` reading)."""
    return time.perf_counter() - started
