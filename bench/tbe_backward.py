"""Why TorchRec's fused TBE backward is slow on CPU: a measured breakdown.

    .venv/bin/python bench/tbe_backward.py            # ~3 minutes on 2 cores

For one 1-rank DMP-sharded table (V rows × 100), times a forward + backward with the
optimizer fused into the backward, per looked-up row, across the knobs that could matter:
sequence (EmbeddingCollection) vs pooled (EmbeddingBagCollection) lookups, the optimizer
(EXACT_SGD, EXACT_ROWWISE_ADAGRAD, EXACT_ADAGRAD), rows per step, how skewed the ids are
(uniform vs Zipf, i.e. how many duplicates a step holds), de-duplicating ids before the
lookup, and CPU threads. Next to it, the same update done by plain torch (gather +
index_add_) and by the compiled Hogwild kernel's memory pattern (gather + in-place scatter in
numba, lock-free). Prints a markdown table of ns per row (forward and backward).
"""

from __future__ import annotations

import argparse
import logging
import os
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist

DIM = 100


def _ids(rows: int, vocab: int, skew: str, rng: np.random.Generator) -> np.ndarray:
    if skew == "uniform":
        return rng.integers(0, vocab, rows)
    ranks = rng.zipf(1.1, rows * 2)  # word-like: a few ids take most of the lookups
    ranks = ranks[ranks <= vocab][:rows] - 1
    return ranks.astype(np.int64)


def _build(kind: str, optimizer: str, vocab: int) -> torch.nn.Module:
    from torchrec import (
        EmbeddingBagCollection,
        EmbeddingBagConfig,
        EmbeddingCollection,
        EmbeddingConfig,
    )
    from torchrec.distributed.embedding import EmbeddingCollectionSharder
    from torchrec.distributed.embeddingbag import EmbeddingBagCollectionSharder
    from torchrec.distributed.model_parallel import DistributedModelParallel
    from torchrec.optim import RowWiseAdagrad
    from torchrec.optim.apply_optimizer_in_backward import apply_optimizer_in_backward

    if kind == "sequence":
        module: torch.nn.Module = EmbeddingCollection(
            tables=[
                EmbeddingConfig(
                    name="t", embedding_dim=DIM, num_embeddings=vocab, feature_names=["f"]
                )
            ],
            device=torch.device("meta"),
        )
        sharder: object = EmbeddingCollectionSharder()
    else:
        module = EmbeddingBagCollection(
            tables=[
                EmbeddingBagConfig(
                    name="t", embedding_dim=DIM, num_embeddings=vocab, feature_names=["f"]
                )
            ],
            device=torch.device("meta"),
        )
        sharder = EmbeddingBagCollectionSharder()
    opt_cls, kwargs = {
        "exact_sgd": (torch.optim.SGD, {"lr": 0.01}),
        "exact_rowwise_adagrad": (RowWiseAdagrad, {"lr": 0.01}),
        "exact_adagrad": (torch.optim.Adagrad, {"lr": 0.01}),
    }[optimizer]
    apply_optimizer_in_backward(opt_cls, module.parameters(), kwargs)
    return DistributedModelParallel(module, device=torch.device("cpu"), sharders=[sharder])


def _time(fn: Callable[[], None], repeats: int) -> float:
    fn()  # warm up
    start = time.perf_counter()
    for _ in range(repeats):
        fn()
    return (time.perf_counter() - start) / repeats


def _torchrec_case(
    dmp: torch.nn.Module, kind: str, ids: np.ndarray, dedup: bool, repeats: int
) -> tuple[float, float]:
    from torchrec import KeyedJaggedTensor

    values = torch.from_numpy(ids)
    inverse = None
    if dedup:
        values, inverse = torch.unique(values, return_inverse=True)
    kjt = KeyedJaggedTensor.from_lengths_sync(
        keys=["f"], values=values, lengths=torch.ones(len(values), dtype=torch.int64)
    )
    grad_out = torch.randn(len(ids), DIM)

    def forward() -> torch.Tensor:
        out = dmp(kjt)
        rows = out["f"].values() if kind == "sequence" else out["f"]
        return rows[inverse] if inverse is not None else rows

    fwd = _time(lambda: forward(), repeats)
    both = _time(lambda: forward().backward(grad_out), repeats)
    return fwd, both - fwd


def _plain_torch_case(vocab: int, ids: np.ndarray, repeats: int) -> tuple[float, float]:
    weight = torch.randn(vocab, DIM)
    index = torch.from_numpy(ids)
    grad = torch.randn(len(ids), DIM)
    fwd = _time(lambda: weight.index_select(0, index), repeats)
    bwd = _time(lambda: weight.index_add_(0, index, grad, alpha=-0.01), repeats)
    return fwd, bwd


def _numba_case(vocab: int, ids: np.ndarray, repeats: int) -> tuple[float, float]:
    """The hogwild kernel's memory pattern: gather rows, then scatter SGD updates in place,
    lock-free across threads (no autograd, no optimizer state)."""
    import numba

    @numba.njit(parallel=True, fastmath=True)
    def gather(weight: np.ndarray, index: np.ndarray, out: np.ndarray) -> None:
        for i in numba.prange(len(index)):
            out[i] = weight[index[i]]

    @numba.njit(parallel=True, fastmath=True)
    def scatter(weight: np.ndarray, index: np.ndarray, grad: np.ndarray, lr: float) -> None:
        for i in numba.prange(len(index)):
            row = weight[index[i]]
            for j in range(row.shape[0]):
                row[j] -= lr * grad[i, j]

    weight = np.random.default_rng(0).standard_normal((vocab, DIM)).astype(np.float32)
    out = np.empty((len(ids), DIM), dtype=np.float32)
    grad = np.ones((len(ids), DIM), dtype=np.float32)
    numba.set_num_threads(torch.get_num_threads())
    fwd = _time(lambda: gather(weight, ids, out), repeats)
    bwd = _time(lambda: scatter(weight, ids, grad, 0.01), repeats)
    return fwd, bwd


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--vocab", type=int, default=70_000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    # The planner warns about a hand-built topology and dry-run estimates on every build;
    # none of it matters for a timing of one local table.
    logging.disable(logging.WARNING)
    warnings.simplefilter("ignore")
    os.environ.setdefault("LOCAL_WORLD_SIZE", "1")
    store = Path(tempfile.mkdtemp()) / "store"
    dist.init_process_group("gloo", init_method=f"file://{store}", rank=0, world_size=1)
    rng = np.random.default_rng(0)
    rows_list = (16_384, 131_072)
    results = []

    def record(label: str, threads: int, rows: int, skew: str, fwd: float, bwd: float) -> None:
        results.append((label, threads, rows, skew, fwd / rows * 1e9, bwd / rows * 1e9))
        print(
            f"{label:<48} t={threads} rows={rows:>7} {skew:<7} "
            f"fwd {fwd / rows * 1e9:7.1f} ns/row  bwd {bwd / rows * 1e9:7.1f} ns/row",
            flush=True,
        )

    for threads in (1, 2):
        torch.set_num_threads(threads)
        for rows in rows_list:
            for skew in ("uniform", "zipf"):
                ids = _ids(rows, args.vocab, skew, rng)
                for kind in ("sequence", "pooled"):
                    for optimizer in ("exact_sgd", "exact_rowwise_adagrad", "exact_adagrad"):
                        dmp = _build(kind, optimizer, args.vocab)
                        for dedup in (False, True):
                            fwd, bwd = _torchrec_case(dmp, kind, ids, dedup, args.repeats)
                            label = f"torchrec {kind} {optimizer}{' dedup' if dedup else ''}"
                            record(label, threads, rows, skew, fwd, bwd)
                fwd, bwd = _plain_torch_case(args.vocab, ids, args.repeats)
                record("plain torch index_select / index_add_", threads, rows, skew, fwd, bwd)
                fwd, bwd = _numba_case(args.vocab, ids, args.repeats)
                record("numba gather / Hogwild scatter", threads, rows, skew, fwd, bwd)

    print("\n| path | threads | rows/step | ids | fwd ns/row | bwd+update ns/row |")
    print("|---|---|---|---|---|---|")
    for label, threads, rows, skew, fwd_ns, bwd_ns in results:
        print(f"| {label} | {threads} | {rows:,} | {skew} | {fwd_ns:.0f} | {bwd_ns:.0f} |")
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
