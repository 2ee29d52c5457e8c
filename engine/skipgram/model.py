"""The skip-gram tables as a TorchRec EmbeddingBagCollection, sharded through DMP.

Tables (one feature each, looked up as SUM-pooled bags of at most one id)::

    word     (V, d)    input vectors, uniform(-1/d, 1/d) as gensim 4        feature "word"
    context  (V, d)    negative-sampling output vectors, zeros             feature "context"
    node     (V-1, d)  hierarchical-softmax inner nodes, zeros             feature "node"

(``context`` only when negative > 0, ``node`` only with hs.) A bag of one id pools to that
id's row, so the lookups are the sequence lookups of an EmbeddingCollection, but go through
the pooled TBE, whose fused backward costs a fraction of the sequence one on CPU
(docs/performance.md). Checkpoints keep the EmbeddingCollection's key names
(``embeddings.<table>.weight``), so checkpoints written before the switch still load.

The optimizer is applied in backward (TorchRec's fused optimizer: SGD for the hogwild
kernel's bookkeeping, row-wise Adagrad for the torchrec kernel), so the TBE kernels update
the rows they looked up and no dense gradient of a table ever exists.

Building tables needs a process group and a planner run, so these examples are skipped::

>>> tables = SkipGramTables.build(vocab_size=71290, config=config, ctx=ctx)  # doctest: +SKIP
>>> tables.plan  # {'word': {'sharding_type': 'table_wise', ...}, ...}  # doctest: +SKIP
>>> tables.local_weights()["word"].shape  # one rank: the whole table, no copy  # doctest: +SKIP
torch.Size([71290, 100])
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from embedrec.engine.errors import EngineError
from embedrec.engine.runtime.distributed import DistContext, plan_summary, shard_module
from embedrec.engine.skipgram.config import SkipGramConfig

WORD, CONTEXT, NODE = "word", "context", "node"
_INIT_BLOCK = 4096  # rows per independently seeded block of the word table
_BAG_PREFIX = "embedding_bags."  # the EmbeddingBagCollection's state-dict keys
_CHECKPOINT_PREFIX = "embeddings."  # the names checkpoints carry (EmbeddingCollection's)
# TorchRec's pooled sharder offers no row-wise sharding on CPU (its output would need a
# reduce-scatter gloo lacks); those plans keep the EmbeddingCollection's sequence lookups.
_SEQUENCE_ONLY_ON_CPU = ("row_wise", "table_row_wise")


def uses_bags(config: SkipGramConfig) -> bool:
    """True when the tables are an EmbeddingBagCollection (all but row-wise plans on CPU)."""
    hints = set(config.sharding_map().values())
    return config.device != "cpu" or not hints & set(_SEQUENCE_ONLY_ON_CPU)


def table_names(config: SkipGramConfig) -> list[str]:
    """The tables this configuration trains, in a fixed order."""
    names = [WORD]
    if config.negative > 0:
        names.append(CONTEXT)
    if config.hs:
        names.append(NODE)
    return names


def build_collection(vocab_size: int, config: SkipGramConfig) -> torch.nn.Module:
    """The unsharded collection on the meta device (DMP materialises shards): bags of one
    id (`uses_bags`), else an EmbeddingCollection of the same tables."""
    from torchrec import (
        EmbeddingBagCollection,
        EmbeddingBagConfig,
        EmbeddingCollection,
        EmbeddingConfig,
        PoolingType,
    )
    from torchrec.modules.embedding_configs import DataType

    if vocab_size < 2:
        raise EngineError(f"the vocabulary has {vocab_size} word(s); skip-gram needs at least 2")
    data_type = {"fp32": DataType.FP32, "fp16": DataType.FP16}[config.precision]
    rows = {WORD: vocab_size, CONTEXT: vocab_size, NODE: max(1, vocab_size - 1)}
    bags = uses_bags(config)
    tables = []
    for name in table_names(config):
        kind: Any = EmbeddingBagConfig if bags else EmbeddingConfig
        extra = {"pooling": PoolingType.SUM} if bags else {}
        tables.append(
            kind(
                name=name,
                embedding_dim=config.table_dim,  # dim padded to fbgemm's 4-float unit
                num_embeddings=rows[name],
                feature_names=[name],
                # Zeros here; `SkipGramTables.initialise` then fills the word table with
                # values that do not depend on the sharding (gensim 4's ±1/d).
                init_fn=torch.nn.init.zeros_,
                data_type=data_type,
                **extra,
            )
        )
    if not bags:
        return EmbeddingCollection(tables=tables, device=torch.device("meta"))
    return EmbeddingBagCollection(tables=tables, device=torch.device("meta"))


def _fused_optimizer(config: SkipGramConfig) -> tuple[type, dict[str, Any]]:
    """The optimizer TorchRec fuses into the TBE backward, with its settings."""
    from torchrec.optim import RowWiseAdagrad

    lr = config.resolved_lr()
    if config.resolved_optimizer() == "rowwise_adagrad":
        # Row-wise Adagrad divides by the mean squared gradient over the row's columns; the
        # always-zero padding columns shrink that mean by dim/table_dim, so the step is
        # scaled back by sqrt(dim/table_dim) to be exactly the unpadded one (eps aside).
        lr *= (config.dim / config.table_dim) ** 0.5
        return RowWiseAdagrad, {"lr": lr, "eps": 1e-8}
    return torch.optim.SGD, {"lr": lr}


def _qcomms(config: SkipGramConfig, ctx: DistContext) -> dict[str, Any] | None:
    """TorchRec's quantised-communication codecs for ``--qcomms`` (None: fp32 comms)."""
    if config.qcomms is None:
        return None
    from torchrec.distributed.fbgemm_qcomm_codec import (
        CommType,
        QCommsConfig,
        get_qcomm_codecs_registry,
    )

    kind = CommType(config.qcomms)
    return get_qcomm_codecs_registry(
        QCommsConfig(forward_precision=kind, backward_precision=kind), device=ctx.device
    )


SHARDED_TYPES = ("table_wise", "column_wise", "row_wise", "table_row_wise", "table_column_wise")


def sharding_constraints(config: SkipGramConfig, names: list[str]) -> dict[str, Any]:
    """Planner constraints from the user's hints (``--sharding``, ``--partitions``).

    ``--partitions N`` asks for N pieces per table: column-wise shards of dim/N columns;
    row-wise sharding already spreads rows over every rank.
    """
    from torchrec.distributed.planner.types import ParameterConstraints

    hints = config.sharding_map()
    constraints: dict[str, Any] = {}
    for name in names:
        kind = hints.get(name, hints.get("*"))
        min_partition = None
        if config.partitions and kind in (None, "column_wise", "table_column_wise"):
            min_partition = max(4, config.table_dim // config.partitions)
        # Never data-parallel: the pooled sharder would happily replicate a small table as a
        # dense module, and then neither the fused optimizer nor the compiled kernel's
        # direct access to the TBE weights exists.
        constraints[name] = ParameterConstraints(
            sharding_types=[kind] if kind else list(SHARDED_TYPES),
            compute_kernels=["fused"],
            min_partition=min_partition,
        )
    return constraints


@dataclass
class SkipGramTables:
    """The sharded tables of one run and what the plan made of them."""

    dmp: Any
    plan: dict[str, dict[str, Any]]
    names: list[str]
    ctx: DistContext
    vocab_size: int
    dim: int = 0  # the requested width; the tables may be wider (padding), 0: unknown
    bags: bool = True  # EmbeddingBagCollection (else EmbeddingCollection, see `uses_bags`)

    @property
    def _prefix(self) -> str:
        return _BAG_PREFIX if self.bags else _CHECKPOINT_PREFIX

    @classmethod
    def build(cls, vocab_size: int, config: SkipGramConfig, ctx: DistContext) -> SkipGramTables:
        """Build, plan and shard the tables, with the optimizer fused into their backward."""
        from fbgemm_gpu.split_table_batched_embeddings_ops_common import BoundsCheckMode
        from torchrec.distributed.comm_ops import set_gradient_division
        from torchrec.distributed.embedding import EmbeddingCollectionSharder
        from torchrec.distributed.embeddingbag import EmbeddingBagCollectionSharder
        from torchrec.optim.apply_optimizer_in_backward import apply_optimizer_in_backward

        # TorchRec divides embedding gradients by the world size to match DDP's averaging.
        # Skip-gram's loss is a sum over the global batch, so a row's update must be the sum
        # of its gradients on every rank — exactly what one rank would apply.
        set_gradient_division(False)

        collection = build_collection(vocab_size, config)
        optimizer, settings = _fused_optimizer(config)
        apply_optimizer_in_backward(optimizer, collection.parameters(), settings)
        names = table_names(config)
        codecs = _qcomms(config, ctx)
        # The runners check every block's ids against the vocabulary before any step
        # (`skipgram.runners.check_ids`), so the TBE's own check of every lookup is skipped.
        fused = {"bounds_check_mode": BoundsCheckMode.NONE}
        sharder: Any = (
            EmbeddingBagCollectionSharder(fused_params=fused, qcomm_codecs_registry=codecs)
            if uses_bags(config)
            else EmbeddingCollectionSharder(fused_params=fused, qcomm_codecs_registry=codecs)
        )
        dmp, plan = shard_module(
            collection,
            ctx,
            constraints=sharding_constraints(config, names),
            sharders=[sharder],
            batch_size=config.batch_size,
        )
        summary = {key.split(".")[-1]: value for key, value in plan_summary(plan).items()}
        tables = cls(
            dmp=dmp,
            plan=summary,
            names=names,
            ctx=ctx,
            vocab_size=vocab_size,
            dim=config.dim,
            bags=uses_bags(config),
        )
        tables.initialise(config.seed, config.dim)
        return tables

    def initialise(self, seed: int, dim: int) -> None:
        """Fill the word table with the same values whatever the sharding and rank count.

        Each row block's values come from a generator keyed by (seed, block), so a shard
        (row- or column-wise) fills exactly its own slice: 1 rank and N ranks start alike.
        Columns past ``dim`` (the padding up to the table width) stay zero.
        """
        bound = 1.0 / dim
        for shard_tensor, row0, col0 in self._local_shards(WORD):
            rows, cols = shard_tensor.shape
            filled = 0
            while filled < rows:
                row = row0 + filled
                block = row // _INIT_BLOCK
                start = block * _INIT_BLOCK
                rng = np.random.default_rng([seed, block])
                values = np.zeros((_INIT_BLOCK, col0 + cols), dtype=np.float32)
                width = min(dim, col0 + cols)
                values[:, :width] = rng.uniform(-bound, bound, size=(_INIT_BLOCK, dim))[:, :width]
                take = min(rows - filled, start + _INIT_BLOCK - row)
                piece = values[row - start : row - start + take, col0 : col0 + cols]
                with torch.no_grad():
                    shard_tensor[filled : filled + take].copy_(torch.from_numpy(piece))
                filled += take

    def _local_shards(self, name: str) -> list[tuple[torch.Tensor, int, int]]:
        """(tensor, first row, first column) of each piece of table ``name`` on this rank."""
        value = self.dmp.state_dict()[f"{self._prefix}{name}.weight"]
        if hasattr(value, "local_shards"):
            return [
                (shard.tensor, shard.metadata.shard_offsets[0], shard.metadata.shard_offsets[1])
                for shard in value.local_shards()
            ]
        return [(value, 0, 0)]  # data-parallel: a whole replica on every rank

    def set_lr(self, lr: float) -> None:
        """Set the fused optimizer's learning rate (applied from the next backward on)."""
        optimizer = self.dmp.fused_optimizer
        for group in optimizer.param_groups:
            group["lr"] = lr
        optimizer.step()  # a fused optimizer's step only pushes the new lr to its kernels

    def checkpoint_state(self) -> dict[str, Any]:
        """Tables and fused-optimizer state (sharded tensors alias the live storage).

        Keys are renamed to the EmbeddingCollection's (``embeddings.word.weight``), the
        names checkpoints have always carried, so old and new checkpoints load alike.
        """
        state = {"model": self.dmp.state_dict(), "optim": self.dmp.fused_optimizer.state_dict()}
        return _renamed(state, self._prefix, _CHECKPOINT_PREFIX)

    def restore(self, state: dict[str, Any]) -> None:
        """Apply a state loaded in place by `engine.runtime.checkpoint.load_checkpoint`."""
        optim = _renamed(state["optim"], _CHECKPOINT_PREFIX, self._prefix)
        self.dmp.fused_optimizer.load_state_dict(optim)

    def local_weights(self) -> dict[str, torch.Tensor]:
        """Each table's weight as a tensor aliasing the TBE storage (writes go to the model).

        Only for a 1-rank run, where every table lives whole in this process.
        """
        if self.ctx.world_size != 1:
            raise EngineError("direct weight access needs a 1-rank run")
        state = self.dmp.state_dict()
        weights = {}
        for name in self.names:
            shards = state[f"{self._prefix}{name}.weight"].local_shards()
            if len(shards) != 1 or list(shards[0].metadata.shard_offsets) != [0, 0]:
                raise EngineError(f"table {name} is split in several shards on one rank")
            weights[name] = shards[0].tensor
        return weights

    def gather(self, name: str) -> np.ndarray | None:
        """The whole table ``name``, padding columns removed, as float32 numpy on rank 0
        (None on other ranks)."""
        full = self._gather_padded(name)
        if full is None or not self.dim:
            return full
        return np.ascontiguousarray(full[:, : self.dim])

    def _gather_padded(self, name: str) -> np.ndarray | None:
        state = self.dmp.state_dict()
        sharded = state[f"{self._prefix}{name}.weight"]
        if self.ctx.world_size == 1:
            tensor = sharded.local_shards()[0].tensor
            return tensor.detach().to("cpu", torch.float32).numpy().copy()
        full = torch.empty(0)
        if self.ctx.is_main:  # gather in the table's own type (fp16 too), then widen
            dtype = sharded.local_shards()[0].tensor.dtype if sharded.local_shards() else None
            full = torch.empty(tuple(sharded.size()), dtype=dtype or torch.float32)
        sharded.gather(dst=0, out=full if self.ctx.is_main else None)
        return full.to(torch.float32).numpy() if self.ctx.is_main else None


def _renamed(value: Any, old: str, new: str) -> Any:
    """``value`` with every dict key and string starting ``old`` re-prefixed ``new``.

    Tensors are kept as they are (the same objects), so a renamed state still aliases the
    live storage and DCP loads into it in place.

    >>> _renamed({"a.x": {"a.y": 1}, "p": ["a.x", "b"]}, "a.", "e.")
    {'e.x': {'e.y': 1}, 'p': ['e.x', 'b']}
    """
    if isinstance(value, str):
        return new + value[len(old) :] if value.startswith(old) else value
    if isinstance(value, dict):
        return {_renamed(k, old, new): _renamed(v, old, new) for k, v in value.items()}
    if isinstance(value, list):
        return [_renamed(v, old, new) for v in value]
    return value
