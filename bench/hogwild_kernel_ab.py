"""The hogwild kernel at a git revision against the working tree's, kernel only, A/B/A/B.

    .venv/bin/python bench/skipgram_slices.py            # once: writes the slices' tokens
    flock /tmp/embedrec-bench.lock .venv/bin/python bench/hogwild_kernel_ab.py --base 8c94395

Both kernels train fresh tables on the same trainer-sized blocks (about 200,000 tokens of
whole sentences, as ``embedrec train skipgram`` cuts them) of a slice of the shared corpus,
one epoch, gensim's settings (dim 100, window 5, negative 5, sample 1e-4) and a constant
learning rate. Runs alternate (base, current, base, current, ...) so that a change in the
machine's load hits both sides; each line reports words per wall-second and per CPU-second
of the process (the second is steadier on a shared machine: time spent descheduled is not
in it) and the pairs and mean loss, which must be equal at ``--threads 1`` when a change
only reorders work (the generator order and the arithmetic are the same).

Not the whole command: reading the corpus, checkpoints and the export are left out (they
are 1-3% of a run; docs/performance.md, "Scaling with data and vocabulary").
"""

from __future__ import annotations

import argparse
import importlib.util
import inspect
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

if __package__ in (None, ""):  # run as a script (as documented): make `bench` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.skipgram_slices import REPO, prepare_slice
from embedrec.engine.skipgram import hogwild_kernel
from embedrec.engine.skipgram.kernel_common import sigmoid_tables
from embedrec.engine.skipgram.sampling_tables import (
    keep_probabilities,
    negative_table,
)

BLOCK_TOKENS = 200_000
DIM, WINDOW, NEGATIVE, SAMPLE, LR = 100, 5, 5, 1e-4, 0.025


def kernel_at(revision: str, scratch: Path) -> ModuleType:
    """The kernel module as it was at ``revision`` (compiled fresh: no numba cache)."""
    source = subprocess.run(
        ["git", "-C", str(REPO), "show", f"{revision}:engine/skipgram/hogwild_kernel.py"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    path = scratch / f"kernel_{revision.replace('/', '_')}.py"
    path.write_text(source.replace("cache=True", "cache=False"))
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def block_bounds(offsets: np.ndarray) -> list[int]:
    """Sentence indices where each block starts (and the last one's end)."""
    n_sent = len(offsets) - 1
    bounds = [0]
    while bounds[-1] < n_sent:
        nxt = int(np.searchsorted(offsets, offsets[bounds[-1]] + BLOCK_TOKENS))
        bounds.append(min(max(nxt, bounds[-1] + 1), n_sent))
    return bounds


class Trainer:
    """One epoch of a kernel over a slice's blocks."""

    def __init__(self, slice_name: str, words: int | None, threads: int) -> None:
        data = prepare_slice(slice_name)
        offsets = data.offsets.astype(np.int64)
        if words is not None:
            offsets = offsets[: int(np.searchsorted(offsets, words)) + 1]
        self.tokens = data.tokens.astype(np.int32)
        self.offsets = offsets
        self.words = int(offsets[-1] - offsets[0])
        self.bounds = block_bounds(offsets)
        self.vocab = len(data.counts)
        self.keep = keep_probabilities(data.counts, SAMPLE)
        self.prob, self.alias = negative_table(data.counts)
        self.sig, self.logsig = sigmoid_tables()
        self.threads = threads

    def run(self, kernel: ModuleType, blocks: int | None = None) -> dict[str, Any]:
        """One epoch (or its first ``blocks`` blocks) on fresh tables."""
        rng = np.random.default_rng(0)
        syn0 = (rng.random((self.vocab, DIM), dtype=np.float32) - 0.5) / DIM
        syn1 = np.zeros((self.vocab, DIM), np.float32)
        wall, cpu = time.perf_counter(), time.process_time()
        loss_sum, pairs = 0.0, 0
        for b in range(len(self.bounds) - 1 if blocks is None else blocks):
            offsets = self.offsets[self.bounds[b] : self.bounds[b + 1] + 1]
            loss, n, _ = self._block(kernel, offsets, syn0, syn1, stream=b)
            loss_sum, pairs = loss_sum + loss, pairs + n
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        return {
            "words_per_sec": self.words / wall,
            "words_per_cpu_sec": self.words / cpu,
            "pairs": int(pairs),
            "loss": loss_sum / max(pairs, 1),
        }

    def _block(
        self,
        kernel: ModuleType,
        offsets: np.ndarray,
        syn0: np.ndarray,
        syn1: np.ndarray,
        stream: int,
    ) -> tuple[float, int, int]:
        no_tree = (np.zeros((1, 1), np.int8), np.zeros((1, 1), np.int32), np.zeros(1, np.int32))
        args: list[Any] = [
            self.tokens, offsets, syn0, syn1, np.zeros((0, DIM), np.float32), self.keep,
            self.prob, self.alias, *no_tree, self.sig, self.logsig, WINDOW, NEGATIVE, False,
            True, LR, LR, 1, stream, self.threads,
        ]  # fmt: skip
        if "rule" in inspect.signature(kernel.train_block.py_func).parameters:
            none = np.zeros(0, np.float32)
            args += [kernel.RULE_GENSIM_SGD, none, none]  # kernels after issue 13
        result: tuple[float, int, int] = kernel.train_block(*args)
        return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", required=True, help="git revision of the kernel to compare")
    parser.add_argument("--slice", default="all17m", help="head4m, tail4m or all17m")
    parser.add_argument("--words", type=int, default=None, help="only the first N words")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3, help="runs of each side")
    args = parser.parse_args(argv)

    trainer = Trainer(args.slice, args.words, args.threads)
    with tempfile.TemporaryDirectory() as scratch:
        sides = {args.base: kernel_at(args.base, Path(scratch)), "current": hogwild_kernel}
        for kernel in sides.values():  # compile both before timing
            trainer.run(kernel, blocks=1)
        runs: dict[str, list[dict[str, Any]]] = {name: [] for name in sides}
        for _ in range(args.repeats):
            for name, kernel in sides.items():
                result = trainer.run(kernel)
                runs[name].append(result)
                print(
                    f"{name}: {result['words_per_sec']:,.0f} words/s, "
                    f"{result['words_per_cpu_sec']:,.0f} words/CPU-s, pairs {result['pairs']:,}, "
                    f"loss {result['loss']:.5f}",
                    flush=True,
                )
    print(f"\n{args.slice}, {trainer.words:,} words, {args.threads} thread(s), medians:\n")
    print("| kernel | words/s | words/CPU-s |\n|---|---:|---:|")
    for name, results in runs.items():
        wall = statistics.median(r["words_per_sec"] for r in results)
        cpu = statistics.median(r["words_per_cpu_sec"] for r in results)
        print(f"| {name} | {wall:,.0f} | {cpu:,.0f} |")


if __name__ == "__main__":
    main()
