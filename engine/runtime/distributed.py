"""Process groups, the TorchRec planner and DistributedModelParallel, for 1 or N ranks.

Every run — one CPU process included — goes through a process group, the sharding planner and
DMP, so the same code trains on one rank and on N
(``torchrun --nproc-per-node N -m embedrec.engine``).
Outside torchrun a 1-rank group is made with a file rendezvous in a temporary directory.

>>> ctx = init_distributed("cpu")                                     # doctest: +SKIP
>>> dmp, plan = shard_module(collection, ctx, constraints={})         # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
import torch.distributed as dist

from embedrec.engine.errors import DeviceError, EngineError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DistContext:
    """Where this process stands: rank, world size and its device."""

    rank: int
    world_size: int
    local_rank: int
    local_world_size: int
    device: torch.device
    backend: str
    owns_group: bool  # we created the group (and must destroy it)
    store_dir: Path | None = None  # the 1-rank file rendezvous's directory (removed at the end)

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def under_torchrun() -> bool:
    """True when started by torchrun (or another launcher exporting RANK/WORLD_SIZE)."""
    return "RANK" in os.environ and "WORLD_SIZE" in os.environ


def resolve_device(name: str, local_rank: int = 0) -> torch.device:
    """``cpu`` or ``cuda`` (this rank's GPU); a clear error when CUDA is absent."""
    if name == "cpu":
        return torch.device("cpu")
    if not torch.cuda.is_available():
        raise DeviceError("--device cuda was given but CUDA is not available on this machine")
    return torch.device("cuda", local_rank % max(1, torch.cuda.device_count()))


def init_distributed(device_name: str) -> DistContext:
    """Join torchrun's group, or make a 1-rank group; pick gloo (CPU) or nccl (CUDA)."""
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    device = resolve_device(device_name, local_rank)
    backend = "nccl" if device.type == "cuda" else "gloo"
    if device.type == "cuda":
        torch.cuda.set_device(device)
    store_dir: Path | None = None
    if dist.is_initialized():
        owns = False
    elif under_torchrun():
        try:
            dist.init_process_group(backend=backend, init_method="env://")
        except (RuntimeError, TimeoutError, ValueError) as exc:  # DistStoreError included
            where = f"{os.environ.get('MASTER_ADDR', '?')}:{os.environ.get('MASTER_PORT', '?')}"
            first = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else ""
            raise EngineError(
                f"rendezvous at {where} failed for rank {os.environ.get('RANK')} of "
                f"{os.environ.get('WORLD_SIZE')}: {type(exc).__name__}: {first}"
            ) from None
        owns = True
    else:
        store_dir = Path(tempfile.mkdtemp(prefix="embedrec-pg-"))
        dist.init_process_group(
            backend=backend,
            init_method=f"file://{store_dir / 'store'}",
            rank=0,
            world_size=1,
        )
        owns = True
    return DistContext(
        rank=dist.get_rank(),
        world_size=dist.get_world_size(),
        local_rank=local_rank,
        local_world_size=int(os.environ.get("LOCAL_WORLD_SIZE", "1")),
        device=device,
        backend=backend,
        owns_group=owns,
        store_dir=store_dir,
    )


@contextlib.contextmanager
def distributed(device_name: str) -> Iterator[DistContext]:
    """`init_distributed` as a context manager that tears the group down if it made it."""
    ctx = init_distributed(device_name)
    try:
        yield ctx
        if ctx.owns_group and ctx.world_size > 1:
            # Leave together. A 4-rank column run once ended one rank in SIGABRT ("terminate
            # called without an active exception") after its model was written; ranks tearing
            # gloo down while rank 0 still wrote the export is the suspect. Not on the error
            # path: a dead peer would never arrive.
            dist.barrier()
    finally:
        if ctx.owns_group and dist.is_initialized():
            dist.destroy_process_group()
        if ctx.store_dir is not None:
            shutil.rmtree(ctx.store_dir, ignore_errors=True)


def shard_module(
    module: torch.nn.Module,
    ctx: DistContext,
    *,
    constraints: Mapping[str, Any] | None = None,
    sharders: list[Any] | None = None,
    batch_size: int | None = None,
) -> tuple[Any, Any]:
    """Plan with TorchRec's planner (under ``constraints``) and wrap in DMP.

    ``module`` is built on the meta device; DMP materialises each shard on its rank. Returns
    ``(dmp, plan)``. Dense parameters (if any) are replicated with DDP by DMP.
    """
    from torchrec.distributed.model_parallel import DistributedModelParallel
    from torchrec.distributed.planner import EmbeddingShardingPlanner
    from torchrec.distributed.planner.storage_reservations import (
        FixedPercentageStorageReservation,
    )
    from torchrec.distributed.planner.types import KernelConfig, TopologyFactory, TrainerConfig

    topology = TopologyFactory.create_topology(
        trainer_config=TrainerConfig(
            world_size=ctx.world_size,
            local_world_size=ctx.local_world_size if ctx.world_size > 1 else 1,
        ),
        kernel_config=KernelConfig(compute_device=ctx.device.type),
    )
    planner = EmbeddingShardingPlanner(
        topology=topology,
        constraints=dict(constraints or {}),
        batch_size=batch_size,
        # Keep 15% of each device's memory for everything that is not a table.
        storage_reservation=FixedPercentageStorageReservation(percentage=0.15),
        debug=False,
    )
    group = dist.GroupMember.WORLD
    try:
        plan = planner.collective_plan(module, sharders, group)
    except Exception as exc:  # the planner raises its own PlannerError subclasses
        if type(exc).__name__.endswith("PlannerError"):
            raise EngineError(f"the sharding planner found no plan: {exc}") from None
        raise
    dmp = DistributedModelParallel(module, device=ctx.device, plan=plan, sharders=sharders)
    return dmp, plan


def plan_summary(plan: Any) -> dict[str, dict[str, Any]]:
    """The chosen plan as plain data: per table, sharding type, kernel, ranks and shapes."""
    summary: dict[str, dict[str, Any]] = {}
    for module_path, module_plan in plan.plan.items():
        for table, option in module_plan.items():
            shards = []
            if option.sharding_spec is not None:
                for shard in option.sharding_spec.shards:
                    shards.append(
                        {
                            "offsets": list(shard.shard_offsets),
                            "sizes": list(shard.shard_sizes),
                            "placement": str(shard.placement),
                        }
                    )
            summary[f"{module_path}.{table}" if module_path else table] = {
                "sharding_type": option.sharding_type,
                "compute_kernel": option.compute_kernel,
                "ranks": list(option.ranks or []),
                "shards": shards,
            }
    return summary


def format_plan(summary: Mapping[str, Mapping[str, Any]]) -> str:
    """One line per table, for the log and the CLI."""
    lines = []
    for table, info in summary.items():
        sizes = " + ".join("×".join(str(n) for n in shard["sizes"]) for shard in info["shards"])
        lines.append(
            f"  {table}: {info['sharding_type']} on ranks {info['ranks']} "
            f"({info['compute_kernel']}), shards {sizes}"
        )
    return "\n".join(lines)
