"""A real column-wise plan: N shards per table, one per rank, for the column kernel.

TorchRec's planner, told ``column_wise``, is free to place a table's column shards on any
rank — on 2 ranks it put each table whole on one rank. The column kernel needs each rank to
hold its own slice of *every* table, so this module builds the plan explicitly with
TorchRec's ``construct_module_sharding_plan`` and ``column_wise(size_per_rank=...)``: table of
width d → N shards of d/N columns, shard r on rank r, then DMP materialises them.

>>> check_column_split(dim=100, world_size=2)       # 4-column units, as even as they go
[52, 48]
>>> check_column_split(dim=30, world_size=2)        # stored 32 wide; exports keep 30
[16, 16]
>>> check_column_split(dim=8, world_size=3)  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
embedrec.core.errors.ConfigError: nproc: got 3, expected at most 2 ranks for --dim 8 ...
"""

from __future__ import annotations

from typing import Any

import torch

from embedrec.core.errors import ConfigError
from embedrec.engine.errors import EngineError
from embedrec.engine.runtime.distributed import DistContext, plan_summary
from embedrec.engine.skipgram.config import SkipGramConfig
from embedrec.engine.skipgram.model import (
    CONTEXT,
    WORD,
    SkipGramTables,
    _fused_optimizer,
    build_collection,
    table_names,
    uses_bags,
)

UNIT = 4  # fbgemm's TBE stores rows (and so column shards) in units of 4 floats


def check_column_split(dim: int, world_size: int) -> list[int]:
    """Columns per rank of the stored table, in fbgemm's 4-float units, as even as they go.

    ``dim`` is the requested width; the table is padded to whole units (as on one rank), so
    the widths sum to ``dim`` rounded up to a multiple of 4. A `ConfigError` naming the bad
    value when the units do not go round ``world_size`` ranks.
    """
    units = -(-dim // UNIT)
    if world_size > units:
        raise ConfigError(
            "nproc",
            world_size,
            f"at most {units} ranks for --dim {dim} with the column kernel "
            f"(each rank needs whole {UNIT}-column units; or --dim {UNIT * world_size})",
        )
    return [UNIT * (units // world_size + (r < units % world_size)) for r in range(world_size)]


def wants_column_kernel(config: SkipGramConfig, world_size: int, device: str) -> bool:
    """Does ``--kernel auto`` pick the column kernel? N > 1 CPU fp32 ranks, negative sampling,
    and no sharding hint other than ``column_wise`` (``--partitions`` none or N)."""
    hints = set(config.sharding_map().values())
    return (
        world_size > 1
        and device == "cpu"
        and config.precision == "fp32"
        and config.negative > 0
        and not config.hs
        and hints <= {"column_wise"}
        and config.partitions in (None, world_size)
    )


def column_plan(collection: torch.nn.Module, names: list[str], ctx: DistContext, dim: int) -> Any:
    """The ShardingPlan: every table column-wise over all ranks, shard r on rank r."""
    from torchrec.distributed.sharding_plan import column_wise, construct_module_sharding_plan
    from torchrec.distributed.types import ShardingPlan

    widths = check_column_split(dim, ctx.world_size)
    module_plan = construct_module_sharding_plan(
        collection,
        # Explicit sizes: given only ranks, TorchRec rounds the shard width (50 → one whole
        # shard on rank 0 for dim 100 over 2 ranks).
        {name: column_wise(size_per_rank=widths) for name in names},
        local_size=ctx.local_world_size,
        world_size=ctx.world_size,
        device_type=ctx.device.type,
    )
    return ShardingPlan(plan={"": module_plan})


def build_column_tables(
    vocab_size: int, config: SkipGramConfig, ctx: DistContext
) -> SkipGramTables:
    """`SkipGramTables` sharded column-wise, one slice of every table per rank."""
    from torchrec.distributed.comm_ops import set_gradient_division
    from torchrec.distributed.embedding import EmbeddingCollectionSharder
    from torchrec.distributed.embeddingbag import EmbeddingBagCollectionSharder
    from torchrec.distributed.model_parallel import DistributedModelParallel
    from torchrec.optim.apply_optimizer_in_backward import apply_optimizer_in_backward

    check_column_split(config.dim, ctx.world_size)
    if config.hs:
        raise ConfigError("hs", True, "--no-hs with the column kernel (negative sampling only)")
    set_gradient_division(False)
    collection = build_collection(vocab_size, config)
    optimizer, settings = _fused_optimizer(config)  # unused by the kernel; keeps DMP's shape
    apply_optimizer_in_backward(optimizer, collection.parameters(), settings)
    names = table_names(config)
    bags = uses_bags(config)  # the same module kind as on one rank (pooled one-id bags)
    sharder = EmbeddingBagCollectionSharder() if bags else EmbeddingCollectionSharder()
    plan = column_plan(collection, names, ctx, config.dim)
    dmp = DistributedModelParallel(collection, device=ctx.device, plan=plan, sharders=[sharder])
    summary = {key.split(".")[-1]: value for key, value in plan_summary(plan).items()}
    tables = SkipGramTables(
        dmp=dmp,
        plan=summary,
        names=names,
        ctx=ctx,
        vocab_size=vocab_size,
        dim=config.dim,
        bags=bags,
    )
    tables.initialise(config.seed, config.dim)
    return tables


def local_columns(tables: SkipGramTables) -> dict[str, tuple[torch.Tensor, int]]:
    """Per table: this rank's shard (a tensor aliasing the TBE storage) and its first column.

    Raises `EngineError` unless the rank holds exactly one full-height column slice.
    """
    pieces = {}
    for name in (WORD, CONTEXT):
        if name not in tables.names:
            continue
        shards = tables._local_shards(name)
        if len(shards) != 1 or shards[0][1] != 0 or shards[0][0].shape[0] != tables.vocab_size:
            raise EngineError(
                f"table {name}: rank {tables.ctx.rank} holds {len(shards)} shard(s), "
                "expected one column slice of all rows"
            )
        tensor, _, col0 = shards[0]
        pieces[name] = (tensor, col0)
    return pieces
