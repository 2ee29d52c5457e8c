"""The one configuration of a ranker training job, validated in one place.

Saved in ``config.json`` beside the model (and in its manifest); ``--resume`` refuses a
config that changes what the checkpoint's tensors or the data order mean (`SHAPE_FIELDS`).

>>> RankerConfig(dim=32, mlp=(128, 64), epochs=3).mlp                 # doctest: +SKIP
(128, 64)
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from embedrec.core.errors import ConfigError

DEVICES: tuple[str, ...] = ("cpu", "cuda")
# Optimizers TorchRec can fuse into the table-batched embedding backward.
TABLE_OPTIMIZERS: tuple[str, ...] = ("rowwise_adagrad", "adagrad", "sgd", "adam")
DENSE_OPTIMIZERS: tuple[str, ...] = ("adam", "adagrad")
POSITION_MODES: tuple[str, ...] = ("auto", "on", "off")
EARLY_STOP_METRICS: tuple[str, ...] = ("auc", "log_loss")
SHARDING_TYPES: tuple[str, ...] = (
    "table_wise",
    "column_wise",
    "row_wise",
    "table_row_wise",
    "data_parallel",
)
# Fields that change what a checkpoint's tensors (or the data order) mean; a resume keeps them.
SHAPE_FIELDS: tuple[str, ...] = (
    "dim",
    "mlp",
    "dense_mlp",
    "position",
    "max_position",
    "table_optimizer",
    "dense_optimizer",
    "batch_size",
    "seed",
    "ema_decay",
)


@dataclass(frozen=True, kw_only=True)
class RankerConfig:
    """Settings of the query-doc click ranker (DLRM-style; see `embedrec.engine.ranker.model`).

    Attributes:
        dim: width of every embedding table (the interaction takes dot products of them).
        mlp: hidden widths of the top ReLU MLP over embeddings and their pairwise dots.
        dense_mlp: hidden widths of the bottom MLP that turns dense features into one
            ``dim`` vector (only when the dataset has dense features, e.g. Criteo).
        epochs: passes over the train split (``--resume`` may raise it to train further).
        batch_size: examples per step and rank (N ranks take N batches per step).
        table_optimizer, table_lr: optimizer fused into the tables' backward.
        table_eps: epsilon of the tables' (row-wise) Adagrad, lr · g / (sqrt(G) + eps); the
            Adam and SGD table optimizers do not use it.
        doc_table_eps: the doc table's eps instead of ``table_eps`` (None: the same).
            Adagrad's first steps on a row are about ``lr`` whatever the gradient, so a doc
            seen a handful of times jumps as far as a frequent one; an eps above such rows'
            accumulated gradient norm (3e-3; a frequent doc's sqrt(G) reaches ~1e-2) makes
            their steps proportional to the gradient and keeps them from overfitting their
            few clicks — better AUC; the doc rows' smaller steps cost recall of the doc
            vectors, which the default ``retrieval_weight`` of 1 buys back (docs/ranker.md).
        ema_decay: validate, early-stop on and export an exponential moving average of
            the weights with this decay per step instead of the live weights
            (`embedrec.engine.ranker.averaging`); None: the live weights. Default 0.99.
        oov_rate: share of ids replaced by id 0 (``<unk>``) while training, so that row
            learns what "a value this model never saw" means (newer data and serving map
            unseen values there).
        retrieval_weight: weight of the in-batch softmax that trains q · v to retrieve a
            query's clicked docs (`embedrec.engine.ranker.model.retrieval_loss`); 0 turns it off.
            Default 1 (0.25 before the doc table's eps): with the doc eps, the weight at
            which recall@100 matched the former defaults on every tuning world.
        position: ``on`` learns an examination probability per logged position (P(click)
            = P(examined | position) × P(click | examined), left out at serving); ``auto``
            uses it when unclicked train rows carry positions (not for AOL, where only
            clicks have one, nor Criteo, which has none); ``off`` never.
        max_position: positions above it share the last examination row.
        validate: score the validation split after every epoch (metrics.jsonl).
        patience: stop after this many epochs without a better validation ``early_stop_metric``
            (None: run every epoch); either way the exported model is the best epoch's
            (`embedrec.engine.ranker.early_stop`), so ``epochs`` is a maximum.
        early_stop_metric: ``auc`` (validation AUC, higher is better) or ``log_loss``.
        dropout: dropout rate on the top MLP's input (embeddings and their dots), training only.
        weight_decay: decoupled (AdamW-style) weight decay of the dense part.
        table_weight_decay: L2 penalty on the embedding rows a batch touches, applied by the
            fused table optimizer (row-wise Adagrad's ``weight_decay``).
        warm_start: a skip-gram model directory whose vectors start the token table
            (tokens matched by string; its dim must equal ``dim``).
        threads: CPU threads per rank (None: 1 — the ranker's tensors are small and extra
            OpenMP threads mostly wait; scale out with ranks instead).
        sharding: planner constraint for every table (None: the planner chooses).
        checkpoint_every_steps / checkpoint_every_seconds: periodic checkpoints (a final
            checkpoint is always written).
    """

    dim: int = 64
    mlp: tuple[int, ...] = (128, 64)
    dense_mlp: tuple[int, ...] = (64,)
    epochs: int = 8
    batch_size: int = 2048
    table_optimizer: str = "rowwise_adagrad"
    table_lr: float = 0.05
    table_eps: float = 1e-8
    doc_table_eps: float | None = 3e-3
    ema_decay: float | None = 0.99
    dense_optimizer: str = "adam"
    dense_lr: float = 0.002
    oov_rate: float = 0.01
    retrieval_weight: float = 1.0
    position: str = "auto"
    max_position: int = 20
    validate: bool = True
    patience: int | None = 2
    early_stop_metric: str = "auc"
    dropout: float = 0.0
    weight_decay: float = 0.0
    table_weight_decay: float = 0.0
    warm_start: str | None = None
    seed: int = 1
    device: str = "cpu"
    threads: int | None = None
    sharding: str | None = None
    checkpoint_every_steps: int | None = None
    checkpoint_every_seconds: float = 600.0
    keep_checkpoints: int = 2

    def __post_init__(self) -> None:
        _positive_int("dim", self.dim)
        if self.dim % 4:
            # fbgemm's table-batched kernels store rows in 4-float units.
            raise ConfigError("dim", self.dim, "a multiple of 4 (e.g. 16, 32, 48, 64)")
        object.__setattr__(self, "mlp", _widths("mlp", self.mlp))
        object.__setattr__(self, "dense_mlp", _widths("dense_mlp", self.dense_mlp))
        _positive_int("epochs", self.epochs)
        _positive_int("batch_size", self.batch_size)
        _positive_int("max_position", self.max_position)
        _positive_int("keep_checkpoints", self.keep_checkpoints)
        if not isinstance(self.seed, int) or isinstance(self.seed, bool) or self.seed < 0:
            raise ConfigError("seed", self.seed, "an integer >= 0")
        _choice("table_optimizer", self.table_optimizer, TABLE_OPTIMIZERS)
        _choice("dense_optimizer", self.dense_optimizer, DENSE_OPTIMIZERS)
        _choice("position", self.position, POSITION_MODES)
        _choice("device", self.device, DEVICES)
        if self.sharding is not None:
            _choice("sharding", self.sharding, SHARDING_TYPES)
        for key in ("table_lr", "dense_lr"):
            value = getattr(self, key)
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ConfigError(key, value, "a number in (0, 10]")
            if not 0.0 < value <= 10.0:
                raise ConfigError(key, value, "a number in (0, 10], e.g. 0.05")
        _in_range("table_eps", self.table_eps, 1e-12, 1.0)
        if self.doc_table_eps is not None:
            _in_range("doc_table_eps", self.doc_table_eps, 1e-12, 1.0)
        if self.ema_decay is not None:
            _in_range("ema_decay", self.ema_decay, 0.0, 0.9999)
            if self.ema_decay == 0:
                raise ConfigError("ema_decay", 0, "None (no average) or a number in (0, 0.9999]")
        if isinstance(self.oov_rate, bool) or not isinstance(self.oov_rate, int | float):
            raise ConfigError("oov_rate", self.oov_rate, "a number in [0, 0.5]")
        if not 0.0 <= self.oov_rate <= 0.5:
            raise ConfigError("oov_rate", self.oov_rate, "a number in [0, 0.5], e.g. 0.01")
        weight = self.retrieval_weight
        if (
            isinstance(weight, bool)
            or not isinstance(weight, int | float)
            or not 0 <= weight <= 100
        ):
            raise ConfigError("retrieval_weight", weight, "a number in [0, 100], e.g. 0.25")
        if self.threads is not None:
            _positive_int("threads", self.threads)
        if self.patience is not None:
            _positive_int("patience", self.patience)
        _choice("early_stop_metric", self.early_stop_metric, EARLY_STOP_METRICS)
        _in_range("dropout", self.dropout, 0.0, 0.9)
        _in_range("weight_decay", self.weight_decay, 0.0, 10.0)
        _in_range("table_weight_decay", self.table_weight_decay, 0.0, 10.0)
        if self.checkpoint_every_steps is not None:
            _positive_int("checkpoint_every_steps", self.checkpoint_every_steps)
        if not self.checkpoint_every_seconds > 0:
            raise ConfigError(
                "checkpoint_every_seconds", self.checkpoint_every_seconds, "a number > 0"
            )
        if self.warm_start is not None:
            object.__setattr__(self, "warm_start", str(self.warm_start))

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["mlp"] = list(self.mlp)
        data["dense_mlp"] = list(self.dense_mlp)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RankerConfig:
        """Rebuild from ``config.json``; unknown keys are an error naming them."""
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ConfigError(unknown[0], data[unknown[0]], "a RankerConfig field")
        return cls(**data)

    def replace(self, **changes: Any) -> RankerConfig:
        return dataclasses.replace(self, **changes)


def parse_widths(key: str, text: str) -> tuple[int, ...]:
    """``"128,64"`` → ``(128, 64)``; ``""`` → ``()`` (no hidden layer).

    >>> parse_widths("mlp", "256, 64")
    (256, 64)
    """
    parts = [p.strip() for p in text.split(",") if p.strip()]
    try:
        return _widths(key, tuple(int(p) for p in parts))
    except ValueError:
        raise ConfigError(key, text, "comma-separated layer widths, e.g. 128,64") from None


def _widths(key: str, value: Any) -> tuple[int, ...]:
    if isinstance(value, str) or not isinstance(value, tuple | list):
        raise ConfigError(key, value, "a list of layer widths, e.g. [128, 64]")
    widths = tuple(value)
    for width in widths:
        if isinstance(width, bool) or not isinstance(width, int) or not 1 <= width <= 65536:
            raise ConfigError(key, list(widths), "layer widths from 1 to 65536")
    return widths


def _choice(key: str, value: Any, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise ConfigError(key, value, "one of " + ", ".join(choices))


def _in_range(key: str, value: Any, low: float, high: float) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise ConfigError(key, value, f"a number in [{low:g}, {high:g}]")


def _positive_int(key: str, value: Any) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ConfigError(key, value, "an integer >= 1")
