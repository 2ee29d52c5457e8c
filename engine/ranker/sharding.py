"""The ranker behind the planner and DMP: sharded tables, fused and dense optimizers.

The tables get their optimizer fused into the TBE backward (`apply_optimizer_in_backward`,
row-wise Adagrad by default), so no dense gradient of a table ever exists; the MLPs and the
position term are plain parameters that DMP replicates with DDP and Adam (or Adagrad)
updates. One `CombinedOptimizer` holds both, so its state dict — the checkpoint's
``optim`` — carries the fused state and the dense optimizer's moments.

>>> sharded = ShardedRanker.build(spec, config, ctx)                  # doctest: +SKIP
>>> sharded.plan["doc"]["sharding_type"]  # doctest: +SKIP
'table_wise'
>>> state = sharded.export_state()  # rank 0: tensors for RankerModel   # doctest: +SKIP
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, cast

import numpy as np
import torch
from torch import nn

from embedrec.engine.errors import EngineError
from embedrec.engine.ranker.averaging import WeightAverage
from embedrec.engine.ranker.config import RankerConfig
from embedrec.engine.ranker.features import DOC, FeatureSpec
from embedrec.engine.ranker.model import RankerModel
from embedrec.engine.runtime.distributed import DistContext, plan_summary, shard_module

log = logging.getLogger(__name__)

TABLE_PREFIX = "sparse.embedding_bags."


def _fused_optimizer(config: RankerConfig) -> tuple[type, dict[str, Any]]:
    from torchrec.optim import RowWiseAdagrad

    lr = config.table_lr
    if config.table_optimizer == "rowwise_adagrad":
        settings: dict[str, Any] = {"lr": lr, "eps": config.table_eps}
        if config.table_weight_decay > 0:
            from fbgemm_gpu.tbe.config.optimizer_config import WeightDecayMode

            # fbgemm ignores weight_decay unless told its mode (the default mode is NONE).
            settings["weight_decay"] = config.table_weight_decay
            settings["weight_decay_mode"] = WeightDecayMode.L2
        return RowWiseAdagrad, settings
    if config.table_optimizer == "adagrad":
        return torch.optim.Adagrad, {"lr": lr, "eps": config.table_eps}
    if config.table_optimizer == "adam":
        return torch.optim.Adam, {"lr": lr}
    return torch.optim.SGD, {"lr": lr}


def _dense_optimizer(config: RankerConfig) -> Any:
    if config.dense_optimizer == "adagrad":
        return lambda params: torch.optim.Adagrad(params, lr=config.dense_lr)
    if config.weight_decay > 0:
        return lambda params: torch.optim.AdamW(
            params, lr=config.dense_lr, weight_decay=config.weight_decay
        )
    return lambda params: torch.optim.Adam(params, lr=config.dense_lr)


def sharding_constraints(config: RankerConfig, tables: tuple[str, ...]) -> dict[str, Any]:
    """Planner constraints from ``--sharding`` (one sharding type for every table)."""
    from torchrec.distributed.planner.types import ParameterConstraints

    if config.sharding is None:
        return {}
    return {name: ParameterConstraints(sharding_types=[config.sharding]) for name in tables}


@dataclass
class ShardedRanker:
    """One run's sharded model (``dmp``), its plan and its combined optimizer."""

    dmp: Any
    optimizer: Any
    dense_optimizer: Any
    plan: dict[str, dict[str, Any]]
    spec: FeatureSpec
    ctx: DistContext
    average: WeightAverage | None = None  # the weights validation and the export use

    @classmethod
    def build(
        cls,
        spec: FeatureSpec,
        config: RankerConfig,
        ctx: DistContext,
        position_init: np.ndarray | None = None,
    ) -> ShardedRanker:
        """Build on the meta device, fuse the table optimizer, plan, shard, add Adam.

        ``position_init``: starting examination logits (`ranker_batches.position_prior`).
        """
        from torchrec.distributed.embeddingbag import EmbeddingBagCollectionSharder
        from torchrec.optim.apply_optimizer_in_backward import apply_optimizer_in_backward
        from torchrec.optim.keyed import CombinedOptimizer, KeyedOptimizerWrapper
        from torchrec.optim.optimizers import in_backward_optimizer_filter

        model = RankerModel(
            spec,
            dim=config.dim,
            mlp=config.mlp,
            dense_mlp=config.dense_mlp,
            max_position=config.max_position,
            device=torch.device("meta"),
            seed=config.seed,
            position_init=position_init,
            dropout=config.dropout,
        )
        optimizer, settings = _fused_optimizer(config)
        bags = cast(nn.ModuleDict, model.sparse.embedding_bags)
        for name, bag in bags.items():
            table_settings = settings
            if name == DOC and config.doc_table_eps is not None and "eps" in settings:
                table_settings = {**settings, "eps": config.doc_table_eps}
            apply_optimizer_in_backward(optimizer, bag.parameters(), table_settings)
        dmp, plan = shard_module(
            model,
            ctx,
            constraints=sharding_constraints(config, spec.tables),
            sharders=[EmbeddingBagCollectionSharder()],
            batch_size=config.batch_size,
        )
        dense = KeyedOptimizerWrapper(
            dict(in_backward_optimizer_filter(dmp.named_parameters())), _dense_optimizer(config)
        )
        combined = CombinedOptimizer([("fused", dmp.fused_optimizer), ("dense", dense)])
        summary = {key.split(".")[-1]: value for key, value in plan_summary(plan).items()}
        average = None
        if config.ema_decay is not None:
            average = WeightAverage.track(dmp, config.ema_decay)
        return cls(
            dmp=dmp,
            optimizer=combined,
            dense_optimizer=dense,
            plan=summary,
            spec=spec,
            ctx=ctx,
            average=average,
        )

    def checkpoint_state(self) -> dict[str, Any]:
        """Model (sharded tables alias the live storage), both optimizers' state and the
        weight average when there is one."""
        state = {"model": self.dmp.state_dict(), "optim": self.optimizer.state_dict()}
        if self.average is not None:
            state["average"] = self.average.checkpoint_state()
        return state

    @contextmanager
    def evaluated(self) -> Iterator[None]:
        """Inside the block the model holds the weights to judge and export: the average
        when there is one, else the live weights."""
        if self.average is None:
            yield
        else:
            with self.average.swapped():
                yield

    def prepare_restore(self) -> None:
        """Create the dense optimizer's lazy state so a checkpoint can be loaded into it.

        (A step with zero gradients: Adam's and Adagrad's updates are then zero.)
        """
        self.dense_optimizer.init_state()
        self.dense_optimizer.zero_grad(set_to_none=True)

    def restore(self, state: dict[str, Any]) -> None:
        """Apply a state loaded in place by `embedrec.engine.runtime.checkpoint.load_checkpoint`."""
        self.optimizer.load_state_dict(state["optim"])

    def export_state(self) -> dict[str, torch.Tensor] | None:
        """Every tensor of the model, whole, as CPU float32 (rank 0; None elsewhere).

        All ranks must call it: sharded tables are gathered to rank 0.
        """
        from torch.distributed._shard.sharded_tensor import ShardedTensor

        out: dict[str, torch.Tensor] = {}
        for key, value in self.dmp.state_dict().items():
            if isinstance(value, ShardedTensor):
                whole = _gather(value, self.ctx)
                if whole is not None:
                    out[key] = whole
            elif isinstance(value, torch.Tensor):
                out[key] = value.detach().to("cpu", torch.float32).clone()
        return out if self.ctx.is_main else None

    def warm_start_tokens(self, rows: np.ndarray, vectors: np.ndarray) -> int:
        """Write ``vectors[i]`` into row ``rows[i]`` of the token table, on whichever rank
        holds it. Returns how many rows this rank wrote."""
        from torch.distributed._shard.sharded_tensor import ShardedTensor

        key = f"{TABLE_PREFIX}query_token.weight"
        value = self.dmp.state_dict().get(key)
        if value is None:
            raise EngineError("--warm-start needs a model with query or title tokens")
        written = 0
        shards = (
            [(s.metadata.shard_offsets, s.tensor) for s in value.local_shards()]
            if isinstance(value, ShardedTensor)
            else [([0, 0], value)]
        )
        for offsets, tensor in shards:
            row0, col0 = int(offsets[0]), int(offsets[1])
            n_rows, n_cols = tensor.shape
            inside = (rows >= row0) & (rows < row0 + n_rows)
            if not inside.any():
                continue
            block = torch.from_numpy(vectors[inside][:, col0 : col0 + n_cols].copy())
            with torch.no_grad():
                tensor[torch.from_numpy(rows[inside] - row0)] = block.to(tensor.dtype)
            written += int(inside.sum())
        return written


def _gather(sharded: Any, ctx: DistContext) -> torch.Tensor | None:
    if ctx.world_size == 1:
        shards = sharded.local_shards()
        if len(shards) == 1 and list(shards[0].metadata.shard_offsets) == [0, 0]:
            return shards[0].tensor.detach().to("cpu", torch.float32).clone()
    full = None
    if ctx.is_main:
        full = torch.empty(tuple(sharded.size()), dtype=torch.float32)
    sharded.gather(dst=0, out=full)
    return full
