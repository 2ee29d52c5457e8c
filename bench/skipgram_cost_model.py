"""Network cost model of three ways to spread skip-gram over N nodes (issue 12, point 3).

    .venv/bin/python bench/skipgram_cost_model.py [--results bench/results/...json]

Inputs, measured here on one core (the compiled kernels, the 4.5M-word dataset made by
``bench/skipgram_column_scaling.py``, dim 100, K = 5, window 5, sample 1e-4):

- ``p``: pairs per corpus word, ``s``: centre words kept per corpus word;
- ``t_fix``: seconds per corpus word every column rank repeats (subsampling, window and
  negative draws, sigmoid) and ``t_col``: seconds per word of the column work (dots and
  updates over all d columns) — timed on the column kernel's own pieces;
- ``r1 = 1 / (t_fix + t_col)``: one core's words/s.

Schemes (bytes each node sends per word the *cluster* trains; ring all_reduce moves
``2 (N-1)/N`` times its payload per node):

- (a) column (this repo): every node walks every word; per pair the K+1 partial dots::

      B_a = p (K+1) 4 · 2 (N-1)/N            R_a = min(1 / (t_fix + t_col/N + L_a), BW / B_a)
      L_a = 2 log2(N) α · p / C(N)            (latency: one small all_reduce per chunk of
                                               C(N) = 32,768 / N³ pairs, at least 256,
                                               halving-doubling / tree, α per step)

- (b) TorchRec row-/table-wise lookups: a node trains 1/N of the words; every looked-up row
  not on it comes forward (d floats) and its gradient goes back (d floats)::

      B_b = (p + s (K+1)) · 8 d · (N-1)/N / N     R_b = N · min(r1, BW / (N · B_b))

- (c) data-parallel replicas: each node trains 1/N of the words on a whole copy of both
  tables and all_reduces them every S words it trains::

      B_c = 2 (N-1)/N · 8 V d / S / N            R_c = N · min(r1, BW / (N · B_c))

The plot (docs/img/skipgram_cost_model.png) draws projected words/s for 2–64 nodes at 10,
25 and 100 Gb/s; the table it prints goes into docs/cluster.md.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import numpy as np

from embedrec.engine.skipgram.column_runner import default_chunk_pairs

REPO = Path(__file__).resolve().parents[1]
ALPHA = 30e-6  # seconds per message step of a TCP ring all_reduce (gloo over Ethernet)
CHUNK = 4096  # pairs per chunk while measuring (column_runner.default_chunk_pairs(2))
# Column-group size of the hybrid (column groups x data-parallel groups): where (a) peaks.
# 2 since the 4-rank chunk halved to 512 pairs (column_runner.default_chunk_pairs).
GROUP = 2
SYNC_WORDS = 200_000  # (c): words a replica trains between two all_reduces (one block)
NODES = [2, 4, 8, 16, 32, 64]
LINKS_GBPS = [10, 25, 100]


def measure(dataset: Path, dim: int = 100, negative: int = 5) -> dict[str, float]:
    """p, s, t_fix and t_col on one block of the dataset, one core, warm JIT."""
    from embedrec.engine.skipgram.column_kernel import (
        apply_chunk,
        fill_chunk,
        new_cursor,
        partial_dots,
    )
    from embedrec.engine.skipgram.corpus_blocks import iter_blocks
    from embedrec.engine.skipgram.kernel_common import sigmoid_tables
    from embedrec.engine.skipgram.sampling_tables import keep_probabilities, negative_table
    from embedrec.pipelines.text.dataset import open_text_dataset

    ds = open_text_dataset(dataset)
    keep = keep_probabilities(ds.vocab.counts, 1e-4)
    prob, alias = negative_table(ds.vocab.counts)
    sig, logsig = sigmoid_tables()
    rng = np.random.default_rng(0)
    syn0 = ((rng.random((ds.vocab_size, dim)) - 0.5) / dim).astype(np.float32)
    syn1 = np.zeros_like(syn0)
    blocks = [b for _, b in zip(range(4), iter_blocks(ds, 200_000), strict=False)]
    width = negative + 1
    ctx, pos, counts = (np.zeros(CHUNK, np.int64) for _ in range(3))
    targets, dots = np.zeros((CHUNK, width), np.int64), np.zeros((CHUNK, width), np.float32)
    t_fill = t_cols = 0.0
    pairs = words = kept = 0
    for rep, (_, block) in enumerate(blocks):
        cursor, state, buf = new_cursor(1, rep)
        while True:
            t0 = time.perf_counter()
            n = fill_chunk(block.tokens, block.offsets, keep, prob, alias, 5, negative, True,
                           cursor, state, buf, CHUNK, ctx, targets, counts, pos)  # fmt: skip
            t1 = time.perf_counter()
            if not n:
                break
            partial_dots(n, ctx, targets, counts, syn0, syn1, dots)
            # one core holds every column: its own share is the whole dot (nothing stale)
            apply_chunk(n, ctx, targets, counts, pos, dots, dots, syn0, syn1, sig, logsig,
                        0.025, 0.02, block.num_tokens)  # fmt: skip
            t2 = time.perf_counter()
            if rep:  # the first block warms the JIT
                t_fill, t_cols, pairs = t_fill + t1 - t0, t_cols + t2 - t1, pairs + n
        if rep:
            words += block.num_tokens
            kept += int(np.count_nonzero(keep[block.tokens] >= 1.0))
    return {
        "p": pairs / words,
        "t_fix": t_fill / words,
        "t_col": t_cols / words,
        "r1": words / (t_fill + t_cols),
        "vocab": float(ds.vocab_size),
    }


def project(
    m: dict[str, float], n: int, gbps: float, dim: int = 100, k: int = 5
) -> dict[str, float]:
    """Projected cluster words/s of the three schemes on ``n`` nodes with ``gbps`` links."""
    bw = gbps * 1e9 / 8
    p, s = m["p"], m.get("s", 0.6)
    ring = 2 * (n - 1) / n
    b_a = p * (k + 1) * 4 * ring
    lat_a = 2 * np.log2(n) * ALPHA * p / default_chunk_pairs(n)
    r_a = min(1 / (m["t_fix"] + m["t_col"] / n + lat_a), bw / b_a)
    b_b = (p + s * (k + 1)) * 8 * dim * (n - 1) / n / n
    r_b = n * min(m["r1"], bw / (n * b_b))
    b_c = ring * 8 * m["vocab"] * dim / SYNC_WORDS / n
    r_c = n * min(m["r1"], bw / (n * b_c))
    # hybrid: n / GROUP column groups of GROUP nodes, each a data-parallel replica of the
    # others, synchronised like (c) on its 1/GROUP slice of the tables
    groups = max(1, n // GROUP)
    inner = GROUP if n >= GROUP else n
    lat_h = 2 * np.log2(max(inner, 2)) * ALPHA * p / default_chunk_pairs(inner)
    r_h = groups * min(1 / (m["t_fix"] + m["t_col"] / inner + lat_h), bw / b_a)
    return {"a": r_a, "b": r_b, "c": r_c, "h": r_h, "bytes_a": b_a, "bytes_b": b_b, "bytes_c": b_c}


def plot(m: dict[str, float], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import matplotlib.ticker

    fig, axes = plt.subplots(1, len(LINKS_GBPS), figsize=(13, 4), sharey=True)
    for ax, gbps in zip(axes, LINKS_GBPS, strict=True):
        for key, label in (
            ("a", "(a) column"),
            ("b", "(b) row/table-wise"),
            ("c", "(c) replicas"),
            ("h", f"column groups of {GROUP} x replicas"),
        ):
            ax.plot(NODES, [project(m, n, gbps)[key] for n in NODES], marker="o", label=label)
        ax.plot(NODES, [n * m["r1"] for n in NODES], "k:", label="N x one core")
        ax.set(xscale="log", yscale="log", title=f"{gbps} Gb/s", xlabel="nodes (1 core each)")
        ax.set_xticks(NODES, [str(n) for n in NODES])
        ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
    axes[0].set_ylabel("projected words/s")
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)


def counted(results: Path) -> list[dict[str, Any]]:
    """Bytes the 2- and 4-rank bench runs handed to all_reduce, against the formula."""
    if not results.exists():
        return []
    rows = []
    for name, run in json.loads(results.read_text())["runs"].items():
        comm = run.get("comm")
        if not comm:
            continue
        words = run["words"]
        rows.append({
            "run": name,
            "payload_bytes": comm["payload_bytes"],
            "formula_bytes": run["pairs"] * 6 * 4,
            "payload_per_word": comm["payload_bytes"] / words,
            "wire_per_word": comm["wire_bytes_per_rank"] / words,
            "calls": comm["calls"],
        })  # fmt: skip
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", type=Path, default=REPO / "bench/work/column/dataset")
    parser.add_argument(
        "--results", type=Path, default=REPO / "bench/results/skipgram_column_scaling.json"
    )
    parser.add_argument("--measured", help="JSON of p, t_fix, t_col, r1, vocab (skip timing)")
    parser.add_argument("--plot", type=Path, default=REPO / "docs/img/skipgram_cost_model.png")
    args = parser.parse_args()
    m = json.loads(args.measured) if args.measured else measure(args.dataset)
    print(json.dumps({key: float(f"{value:.4g}") for key, value in m.items()}))
    for row in counted(args.results):
        print(json.dumps(row))
    hybrid = f"groups of {GROUP} x (c)"
    print(f"| nodes | link | (a) column | (b) row/table-wise | (c) replicas | {hybrid} "
          "| B_a | B_b | B_c |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|---|")
    for gbps in LINKS_GBPS:
        for n in NODES:
            r = project(m, n, gbps)
            print(
                f"| {n} | {gbps} Gb/s | {r['a'] / 1e6:.2f}M | {r['b'] / 1e6:.2f}M "
                f"| {r['c'] / 1e6:.2f}M | {r['h'] / 1e6:.2f}M | {r['bytes_a']:.0f} "
                f"| {r['bytes_b']:.0f} | {r['bytes_c']:.1f} |"
            )
    plot(m, args.plot)
    print(f"plot: {args.plot}")


if __name__ == "__main__":
    main()
