"""How fast could a column rank be with free communication? The ceiling of issue 12, point 2.

    flock /tmp/embedrec-bench.lock .venv/bin/python bench/column_rank_ceiling.py

Point 2 asks 2 column ranks x 1 thread for 0.8x the words/s of 1 rank x 2 hogwild threads,
whole command. This bench takes communication out of the question: in one process it
trains one epoch of a slice with

- the hogwild kernel on the whole width (dim 100), 1 and 2 threads (`hogwild_kernel_ab`'s
  `Trainer`: the same blocks, settings and streams as `embedrec train skipgram`);
- the column kernel's own pieces (`fill_and_dot`, then `apply_chunk`) on one core, on all
  100 columns (a 1-rank ``--kernel column`` run's work) and at the width rank 0 holds on N
  ranks (`check_column_split`: 52 of 100 columns on 2, 28 on 4), in that N's chunks, each
  chunk applied at once: no all_reduce, no wait, no stale share —
  what one rank computes, and nothing else. (With no other ranks' shares the scores are
  over those columns alone, so the loss is not a column run's; the work per pair is.)

Runs alternate side by side ``--repeats`` times (medians; words per wall- and CPU-second).
Then the ceiling: both commands' words/s on the last ``bench/skipgram_column_scaling.py`` run's
words (3 epochs) if they trained at this run's rates — each column rank at its rate with no
communication, the 1-rank command at two hogwild threads' — plus the start-up and export that
run measured (its ``wall_seconds - seconds``, per side); their ratio is what point 2 asks
≥ 0.8 of.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

if __package__ in (None, ""):  # run as a script (as documented): make `bench` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.hogwild_kernel_ab import DIM, LR, NEGATIVE, WINDOW, Trainer
from bench.skipgram_slices import REPO
from embedrec.engine.skipgram import hogwild_kernel
from embedrec.engine.skipgram.column_kernel import apply_chunk, fill_and_dot, new_cursor
from embedrec.engine.skipgram.column_plan import check_column_split
from embedrec.engine.skipgram.column_runner import default_chunk_pairs

SCALING = REPO / "bench" / "results" / "skipgram_column_scaling.json"


def column_epoch(trainer: Trainer, ranks: int, blocks: int | None = None) -> dict[str, Any]:
    """One epoch of rank 0's share of ``ranks`` column ranks, pieces only (no all_reduce)."""
    width = check_column_split(DIM, ranks)[0]
    chunk = default_chunk_pairs(ranks)
    rng = np.random.default_rng(0)
    syn0 = (rng.random((trainer.vocab, width), dtype=np.float32) - 0.5) / DIM
    syn1 = np.zeros((trainer.vocab, width), np.float32)
    ctx, pos, counts = (np.zeros(chunk, np.int64) for _ in range(3))
    targets = np.zeros((chunk, NEGATIVE + 1), np.int64)
    dots = np.zeros((chunk, NEGATIVE + 1), np.float32)
    wall, cpu = time.perf_counter(), time.process_time()
    pairs = 0
    for b in range(len(trainer.bounds) - 1 if blocks is None else blocks):
        offsets = trainer.offsets[trainer.bounds[b] : trainer.bounds[b + 1] + 1]
        total = int(offsets[-1] - offsets[0])
        cursor, state, buf = new_cursor(1, b)  # the hogwild run's seed and stream
        while n := fill_and_dot(
            trainer.tokens, offsets, trainer.keep, trainer.prob, trainer.alias, WINDOW,
            NEGATIVE, True, cursor, state, buf, chunk, ctx, targets, counts, pos, syn0,
            syn1, dots,
        ):  # fmt: skip
            # this rank's share is the whole score here: `dots - local + fresh` = fresh (its
            # loss is not a column run's, so it is not kept)
            apply_chunk(n, ctx, targets, counts, pos, dots, dots, syn0, syn1, trainer.sig,
                        trainer.logsig, LR, LR, total)  # fmt: skip
            pairs += n
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return {
        "words_per_sec": trainer.words / wall,
        "words_per_cpu_sec": trainer.words / cpu,
        "pairs": pairs,
        "width": width,
        "chunk": chunk,
    }


def ceiling(rate_2: float, rate_1: float, scaling: dict[str, Any]) -> dict[str, float]:
    """Both commands' words/s, trained at this run's rates (``rate_2`` per column rank with
    free communication, ``rate_1`` for two hogwild threads) plus the start-up and export
    seconds of the last column-scaling run, and the ratio point 2 asks ≥ 0.8 of."""
    runs = scaling["runs"]
    one, two = runs["1 rank x 2 threads"], runs["2 ranks x 1 thread (column)"]
    words = one["words"]
    overhead_1 = one["wall_seconds"] - one["seconds"]
    overhead_2 = two["wall_seconds"] - two["seconds"]
    command_1 = words / (words / rate_1 + overhead_1)
    best = words / (words / rate_2 + overhead_2)
    same_start = words / (words / rate_2 + overhead_1)
    return {
        "words": words,
        "one_rank_command": command_1,
        "start_up_1": overhead_1,
        "start_up_2": overhead_2,
        "two_ranks_ceiling": best,
        "ratio": best / command_1,
        "ratio_same_start_up": same_start / command_1,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--slice", default="head4m", help="head4m, tail4m or all17m")
    parser.add_argument("--repeats", type=int, default=3, help="runs of each side")
    parser.add_argument("--scaling", type=Path, default=SCALING, help="column-scaling JSON")
    parser.add_argument("--json-out", type=Path, help="write the medians and the ceiling here")
    args = parser.parse_args(argv)

    trainer = Trainer(args.slice, None, 1)
    sides: dict[str, Any] = {
        "hogwild, 2 threads, 100 columns": lambda: hogwild(trainer, 2),
        "hogwild, 1 thread, 100 columns": lambda: hogwild(trainer, 1),
        "column kernel, 1 rank, 100 columns": lambda: column_epoch(trainer, 1),
        "column rank 0 of 2, 1 thread, no all_reduce": lambda: column_epoch(trainer, 2),
        "column rank 0 of 4, 1 thread, no all_reduce": lambda: column_epoch(trainer, 4),
    }
    trainer.run(hogwild_kernel, blocks=1)  # compile before timing
    column_epoch(trainer, 2, blocks=1)
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in sides}
    for _ in range(args.repeats):
        for name, side in sides.items():
            result = side()
            runs[name].append(result)
            print(f"{name}: {result['words_per_sec']:,.0f} words/s, "
                  f"{result['words_per_cpu_sec']:,.0f} words/CPU-s, pairs {result['pairs']:,}",
                  flush=True)  # fmt: skip
    medians = {
        name: {key: statistics.median(r[key] for r in results)
               for key in ("words_per_sec", "words_per_cpu_sec")}
        for name, results in runs.items()
    }  # fmt: skip
    base = medians["hogwild, 2 threads, 100 columns"]["words_per_sec"]
    print(f"\n{args.slice}, {trainer.words:,} words, one epoch, medians of {args.repeats}:\n")
    print("| run | words/s | words/CPU-s | × hogwild 2 threads |\n|---|---:|---:|---:|")
    for name, m in medians.items():
        print(f"| {name} | {m['words_per_sec']:,.0f} | {m['words_per_cpu_sec']:,.0f} "
              f"| {m['words_per_sec'] / base:.2f} |")  # fmt: skip
    report: dict[str, Any] = {"slice": args.slice, "words": trainer.words, "medians": medians}
    if args.scaling.exists():
        rate_2 = medians["column rank 0 of 2, 1 thread, no all_reduce"]["words_per_sec"]
        scaling = json.loads(args.scaling.read_text())
        report["ceiling"] = c = ceiling(rate_2, base, scaling)
        print(
            f"\nCeiling of point 2 (free communication; start-up from {args.scaling.name}: "
            f"{c['start_up_1']:.1f} s one rank, {c['start_up_2']:.1f} s two): 2 ranks "
            f"{c['two_ranks_ceiling']:,.0f} words/s against {c['one_rank_command']:,.0f} = "
            f"{c['ratio']:.2f}x ({c['ratio_same_start_up']:.2f}x with one rank's start-up)"
        )
    if args.json_out:
        args.json_out.write_text(json.dumps(report, indent=2))


def hogwild(trainer: Trainer, threads: int) -> dict[str, Any]:
    trainer.threads = threads
    return trainer.run(hogwild_kernel)


if __name__ == "__main__":
    main()
