"""Atomic, verifiable checkpoints with torch.distributed.checkpoint (DCP).

Layout under ``MODEL/checkpoints/``::

    step-000120/               one complete checkpoint
        __0_0.distcp, .metadata     DCP shards of the model (and optimizer) state
        trainer_state.json          data position, counters, RNG, config
        COMPLETE.json               sha256 of every file above, written last

Every rank writes its shards into ``.step-N.partial/``; rank 0 then records checksums,
writes ``COMPLETE.json`` and renames the directory into place, so a crash leaves either a
whole checkpoint or a ``.partial`` that is ignored. On resume a checkpoint whose files no
longer match their checksums is reported and the previous one is used.

>>> path = save_checkpoint(model_dir, 120, state, {"epoch": 0}, ctx, keep=2)   # doctest: +SKIP
>>> found = latest_checkpoint(model_dir)                                      # doctest: +SKIP
>>> trainer_state = load_checkpoint(found, state)                             # doctest: +SKIP
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import shutil
from pathlib import Path
from typing import Any

import torch.distributed as dist

from embedrec.core.artifacts import write_json
from embedrec.engine.errors import CheckpointError
from embedrec.engine.runtime.distributed import DistContext

log = logging.getLogger(__name__)

CHECKPOINTS_DIR = "checkpoints"
COMPLETE_FILE = "COMPLETE.json"
TRAINER_STATE_FILE = "trainer_state.json"
_STEP_DIR = re.compile(r"^step-(\d+)$")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _barrier(ctx: DistContext) -> None:
    if ctx.world_size > 1 and dist.is_initialized():
        dist.barrier()


def save_checkpoint(
    model_dir: str | Path,
    step: int,
    state: dict[str, Any],
    trainer_state: dict[str, Any],
    ctx: DistContext,
    *,
    keep: int,
) -> Path:
    """Save ``state`` (a model/optimizer state dict, possibly sharded) and ``trainer_state``.

    All ranks must call it. Returns the final checkpoint directory.
    """
    import torch.distributed.checkpoint as dcp

    root = Path(model_dir) / CHECKPOINTS_DIR
    final = root / f"step-{step:09d}"
    partial = root / f".step-{step:09d}.partial"
    if ctx.is_main:
        if partial.exists():
            shutil.rmtree(partial)
        partial.mkdir(parents=True)
    _barrier(ctx)
    dcp.save(state, checkpoint_id=str(partial))
    _barrier(ctx)
    if ctx.is_main:
        write_json(partial / TRAINER_STATE_FILE, trainer_state)
        files = sorted(p for p in partial.iterdir() if p.is_file())
        for path in files:  # DCP does not fsync its shards; a checkpoint must survive a crash
            with open(path, "rb+") as handle:
                os.fsync(handle.fileno())
        checksums = {p.name: _sha256(p) for p in files}
        write_json(partial / COMPLETE_FILE, {"step": step, "files": checksums})
        if final.exists():
            shutil.rmtree(final)
        os.replace(partial, final)
        _prune(root, keep)
    _barrier(ctx)
    return final


def _prune(root: Path, keep: int) -> None:
    complete = _step_dirs(root)
    for _, path in complete[:-keep]:
        shutil.rmtree(path, ignore_errors=True)


def _step_dirs(root: Path) -> list[tuple[int, Path]]:
    if not root.exists():
        return []
    found = []
    for path in root.iterdir():
        match = _STEP_DIR.match(path.name)
        if match and path.is_dir():
            found.append((int(match.group(1)), path))
    return sorted(found)


def verify_checkpoint(path: Path) -> str | None:
    """Return why ``path`` is not a whole checkpoint, or None when it is."""
    marker = path / COMPLETE_FILE
    if not marker.exists():
        return "no COMPLETE.json (the save did not finish)"
    try:
        recorded = json.loads(marker.read_text())["files"]
    except (ValueError, KeyError) as exc:
        return f"COMPLETE.json is unreadable ({exc})"
    for name, checksum in recorded.items():
        file = path / name
        if not file.exists():
            return f"{name} is missing"
        if _sha256(file) != checksum:
            return f"{name} does not match its checksum (corrupt)"
    return None


def latest_checkpoint(model_dir: str | Path) -> Path | None:
    """The newest checkpoint that verifies; broken newer ones are logged and skipped."""
    for _, path in reversed(_step_dirs(Path(model_dir) / CHECKPOINTS_DIR)):
        problem = verify_checkpoint(path)
        if problem is None:
            return path
        log.warning("skipping checkpoint %s: %s; trying the previous one", path, problem)
    return None


def load_checkpoint(path: Path, state: dict[str, Any]) -> dict[str, Any]:
    """Load shards into ``state`` in place (all ranks) and return the trainer state."""
    import torch.distributed.checkpoint as dcp

    try:
        dcp.load(state, checkpoint_id=str(path))
        trainer_state: dict[str, Any] = json.loads((path / TRAINER_STATE_FILE).read_text())
    except (OSError, ValueError, RuntimeError) as exc:
        raise CheckpointError(path, f"cannot be loaded ({exc})") from None
    return trainer_state
