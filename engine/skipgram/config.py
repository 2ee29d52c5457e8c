"""The one configuration of a skip-gram training job, validated in one place.

Saved as ``config.json`` beside the model; ``--resume`` refuses a config that changes what
the checkpoint means (shapes, vocabulary, objective).

>>> SkipGramConfig(dim=100, window=5, negative=5, sample=1e-4, epochs=5)     # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Literal

from embedrec.core.errors import ConfigError

Kernel = Literal["auto", "torchrec", "hogwild", "column"]
KERNELS: tuple[str, ...] = ("auto", "torchrec", "hogwild", "column")
DEVICES: tuple[str, ...] = ("cpu", "cuda")
SHARDING_TYPES: tuple[str, ...] = (
    "table_wise",
    "column_wise",
    "row_wise",
    "table_row_wise",
    "data_parallel",
)
PRECISIONS: tuple[str, ...] = ("fp32", "fp16")
# fbgemm's training kernels hold no bf16 tables: on CPU "split_embedding_nobag_cpu_forward not
# implemented for 'BFloat16'", on CUDA (fbgemm-gpu 1.6, an H200, 2026-12-04) first "cache_precision
# bf16 not supported!", then "batched_embedding_forward_kernel_2 not implemented for emb_t
# 'BFloat16'" once the cache type is set to fp32.
NO_BF16 = "fp32 or fp16 (fbgemm's training kernels have no bf16 tables, on CPU or CUDA)"
QCOMMS: tuple[str, ...] = ("fp16", "bf16")
TABLES: tuple[str, ...] = ("word", "context", "node")
OPTIMIZERS: tuple[str, ...] = ("auto", "sgd", "rowwise_adagrad")
# Learning rates that work for each optimizer on word2vec's task: SGD as word2vec/gensim;
# row-wise Adagrad normalises each row's step by its gradient history, so it starts higher.
DEFAULT_LR = {"sgd": 0.025, "rowwise_adagrad": 0.2}
# Every kernel ends training at lr/6, not ~0. gensim's corpus_file training with 2 workers and
# 3 epochs ends there (each worker's progress counts only its half of an epoch), and annealing
# to ~0 was what left the hogwild kernel behind it on similarity and syntactic analogies
# (bench/skipgram_gensim_diff.py). Row-wise Adagrad already shrinks a frequent row's step as
# 1/sqrt(its updates); annealing to 0 on top left the torchrec kernel's analogies behind
# gensim's, more so on larger corpora (bench/skipgram_heldout.py, docs/performance.md).
DEFAULT_FINAL_LR_RATIO = 1 / 6
# fbgemm's table-batched kernels store rows in units of 4 floats; other widths are padded.
TABLE_DIM_UNIT = 4
# Fields that change what a checkpoint's tensors mean; a resume must keep them.
SHAPE_FIELDS: tuple[str, ...] = ("dim", "negative", "hs", "seed", "precision")


@dataclass(frozen=True, kw_only=True)
class SkipGramConfig:
    """Word2vec skip-gram settings (defaults follow word2vec/gensim where they exist).

    Attributes:
        dim: embedding width (any >= 1; the tables are padded to a multiple of 4 inside,
            see ``table_dim``, and everything exported has exactly ``dim`` columns).
        window: maximum window radius; each centre draws its radius in 1..window.
        negative: negative samples per (context, centre) pair; 0 disables.
        shared_negatives: draw the K negatives once per centre word and share them among its
            contexts (HogBatch, Ji et al. 2016) instead of once per pair (word2vec.c). The
            same distribution and count per pair, far fewer random row reads; measured on the
            17M-word wiki text: equal quality, ~1.8x the speed. The torchrec kernel always
            shares.
        hs: hierarchical softmax over a Huffman tree of the vocabulary.
        sample: frequent-word subsampling threshold t (word2vec's formula); 0 disables.
        epochs: passes over the corpus.
        optimizer: ``sgd`` (word2vec's plain SGD) or ``rowwise_adagrad`` (TorchRec's fused
            row-wise Adagrad); ``auto`` picks sgd for the hogwild kernel and rowwise_adagrad
            for the torchrec kernel, whose minibatches sum many updates of a shared row.
        lr, min_lr: learning rate (None: 0.025 for sgd, 0.2 for rowwise_adagrad), decayed
            linearly by words processed (never below min_lr) to lr · final_lr_ratio.
        final_lr_ratio: the rate at the end of training as a fraction of lr (None: 1/6, the
            rate gensim's corpus_file training ends at; 0 is word2vec's decay to ~0).
        batch_size: centre words per TorchRec step (the ``torchrec`` kernel).
        block_tokens: corpus tokens per Hogwild block (the ``hogwild`` kernel).
        kernel: ``hogwild`` (compiled lock-free SGD on the TorchRec tables, CPU, 1 rank),
            ``torchrec`` (lookups and fused-optimizer backward through DMP; any device, N
            ranks), ``column`` (the compiled kernel on every CPU rank over its own column slice
            of the tables, partial dots all_reduced; `skipgram.column_runner`) or ``auto``
            (hogwild on a 1-rank CPU run, column on N CPU ranks, torchrec otherwise).
        threads: CPU threads (None: all cores).
        precision: storage type of the tables (fp16 halves their memory; no bf16, see NO_BF16).
        qcomms: quantise the embedding all-to-alls between ranks (TorchRec qcomms) to this
            type in both directions; None keeps fp32.
        checkpoint_every_steps / checkpoint_every_seconds: periodic checkpoints (whichever
            comes first; a final checkpoint is always written).
    """

    dim: int = 100
    window: int = 5
    negative: int = 5
    shared_negatives: bool = True
    hs: bool = False
    sample: float = 1e-3
    epochs: int = 5
    optimizer: str = "auto"
    lr: float | None = None
    min_lr: float = 0.0001
    final_lr_ratio: float | None = None
    batch_size: int = 512
    block_tokens: int = 200_000
    seed: int = 1
    device: str = "cpu"
    kernel: str = "auto"
    threads: int | None = None
    sharding: str | None = None
    partitions: int | None = None
    precision: str = "fp32"
    qcomms: str | None = None
    checkpoint_every_steps: int | None = None
    checkpoint_every_seconds: float = 600.0
    keep_checkpoints: int = 2

    def __post_init__(self) -> None:
        _positive_int("dim", self.dim)
        _positive_int("window", self.window)
        _positive_int("epochs", self.epochs)
        _positive_int("batch_size", self.batch_size)
        _positive_int("block_tokens", self.block_tokens)
        _positive_int("keep_checkpoints", self.keep_checkpoints)
        if not isinstance(self.negative, int) or self.negative < 0:
            raise ConfigError("negative", self.negative, "an integer >= 0")
        if self.negative == 0 and not self.hs:
            raise ConfigError("negative", 0, "> 0 unless --hs is given (no objective left)")
        if not 0.0 <= self.sample < 1.0:
            raise ConfigError("sample", self.sample, "a float in [0, 1), e.g. 1e-3 or 1e-4")
        if self.optimizer not in OPTIMIZERS:
            raise ConfigError("optimizer", self.optimizer, "one of " + ", ".join(OPTIMIZERS))
        if self.kernel == "torchrec" and not self.shared_negatives:
            raise ConfigError("shared_negatives", False, "True with the torchrec kernel")
        if self.kernel in ("hogwild", "column") and self.optimizer == "rowwise_adagrad":
            raise ConfigError("optimizer", self.optimizer, "sgd with the hogwild kernel")
        if self.lr is not None and not 0.0 < self.lr <= 10.0:
            raise ConfigError("lr", self.lr, "a float in (0, 10], e.g. 0.025")
        if not 0.0 <= self.min_lr <= min(self.lr or 1.0, 1.0):
            raise ConfigError("min_lr", self.min_lr, "a float in [0, lr]")
        if self.final_lr_ratio is not None and not 0.0 <= self.final_lr_ratio <= 1.0:
            raise ConfigError("final_lr_ratio", self.final_lr_ratio, "a float in [0, 1]")
        if self.device not in DEVICES:
            raise ConfigError("device", self.device, "one of " + ", ".join(DEVICES))
        if self.kernel not in KERNELS:
            raise ConfigError("kernel", self.kernel, "one of " + ", ".join(KERNELS))
        if self.kernel == "column" and (self.hs or self.negative == 0):
            raise ConfigError("kernel", self.kernel, "hogwild or torchrec with --hs/--negative 0")
        if self.kernel in ("hogwild", "column") and self.device != "cpu":
            raise ConfigError("kernel", self.kernel, "torchrec or auto with --device cuda")
        if self.threads is not None:
            _positive_int("threads", self.threads)
        if self.sharding is not None:
            self.sharding_map()  # validates
        if self.qcomms is not None and self.qcomms not in QCOMMS:
            raise ConfigError("qcomms", self.qcomms, "one of " + ", ".join(QCOMMS))
        if self.partitions is not None:
            _positive_int("partitions", self.partitions)
        if self.precision == "bf16":  # the reason, not only the list: GPU users expect bf16
            raise ConfigError("precision", self.precision, NO_BF16)
        if self.precision not in PRECISIONS:
            raise ConfigError("precision", self.precision, "one of " + ", ".join(PRECISIONS))
        if self.checkpoint_every_steps is not None:
            _positive_int("checkpoint_every_steps", self.checkpoint_every_steps)
        if not self.checkpoint_every_seconds > 0:
            raise ConfigError(
                "checkpoint_every_seconds", self.checkpoint_every_seconds, "a number > 0"
            )

    @property
    def table_dim(self) -> int:
        """Width of the stored tables: ``dim`` rounded up to fbgemm's 4-float row unit.

        The extra columns start at zero in every table and stay zero (each one's gradient is
        a product with a zero column of the other table); exports slice them off.
        """
        return -(-self.dim // TABLE_DIM_UNIT) * TABLE_DIM_UNIT

    def resolved_optimizer(self, kernel: str | None = None) -> str:
        """The optimizer this run uses once the kernel is known (``auto`` resolved)."""
        if self.optimizer != "auto":
            return self.optimizer
        return "sgd" if (kernel or self.kernel) in ("hogwild", "column") else "rowwise_adagrad"

    def resolved_lr(self, kernel: str | None = None) -> float:
        """The starting learning rate (``None`` resolved from the optimizer)."""
        if self.lr is not None:
            return self.lr
        return DEFAULT_LR[self.resolved_optimizer(kernel)]

    def resolved_final_lr_ratio(self) -> float:
        """The end-of-training rate as a fraction of lr (``None``: the default, 1/6)."""
        if self.final_lr_ratio is not None:
            return self.final_lr_ratio
        return DEFAULT_FINAL_LR_RATIO

    def sharding_map(self) -> dict[str, str]:
        """Per-table sharding hints: ``"column_wise"`` for every table, or
        ``"word=column_wise,context=table_wise"``; ``{}`` leaves the planner free."""
        if not self.sharding:
            return {}
        expected = (
            "a sharding type (" + ", ".join(SHARDING_TYPES) + ") or TABLE=TYPE,... with "
            "TABLE one of " + ", ".join(TABLES)
        )
        hints: dict[str, str] = {}
        for item in self.sharding.split(","):
            table, _, kind = item.strip().rpartition("=")
            table = table.strip() or "*"
            kind = kind.strip()
            if kind not in SHARDING_TYPES or table not in (*TABLES, "*"):
                raise ConfigError("sharding", self.sharding, expected)
            hints[table] = kind
        return hints

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SkipGramConfig:
        """Rebuild from ``config.json``; unknown keys are an error naming them."""
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ConfigError(unknown[0], data[unknown[0]], "a SkipGramConfig field")
        return cls(**data)

    def replace(self, **changes: Any) -> SkipGramConfig:
        return dataclasses.replace(self, **changes)


def _positive_int(key: str, value: Any) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ConfigError(key, value, "an integer >= 1")
