"""What differs between embedrec's hogwild skip-gram and gensim's, one difference at a time.

    .venv/bin/python bench/skipgram_gensim_diff.py                     # 4M-word tuning slice
    .venv/bin/python bench/skipgram_gensim_diff.py --slice tail --seeds 1,2,3

Both trainers read the same tokens (bench/skipgram_slices.py makes the slices). gensim
4.4.0 runs as the bench runs it (``corpus_file``, 2 workers); embedrec's variants run the
compiled kernel of `engine.skipgram.hogwild_kernel` on plain numpy tables (no TorchRec, so only the
update rule and the schedule differ), each variant changing one thing:

- ``base``: the kernel as it was (word2vec.c's clipping, lr linear in words to ~0).
- ``+gensim-clip``: skip the update of an output whose |score| >= 6 (gensim), instead of
  word2vec.c's full-gradient step for a saturated wrong answer.
- ``+gensim-lr``: gensim's corpus_file schedule with W workers: each worker's progress
  counts only its own 1/W of an epoch, so lr falls by only 1/W of an epoch's share
  per epoch and jumps down at each epoch start (a saw-tooth ending at lr·(1 − (E−1+1/W)/E)).
- ``adagrad(lr)``: the row-wise adaptive step (``embedrec.engine.skipgram.hogwild_kernel`` rule 2).

Quality only (no words/s), so it needs no bench lock. Writes JSON to bench/results/.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

if __package__ in (None, ""):  # run as a script (as documented): make `bench` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.skipgram_slices import SLICES, evaluate_vectors, prepare_slice, run_gensim

REPO = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Variant:
    """One way of running the compiled kernel."""

    name: str
    rule: int = 0  # hogwild_kernel: 0 word2vec.c clip, 1 gensim clip, 2 row adagrad
    schedule: str = "linear"  # linear | gensim-corpusfile
    lr: float = 0.025
    end: float = 0.0  # linear: the rate at the end of training, as a fraction of lr


VARIANTS = {
    v.name: v
    for v in (
        Variant("base"),
        Variant("+gensim-clip", rule=1),
        Variant("+gensim-lr", rule=0, schedule="gensim-corpusfile"),
        Variant("+gensim-clip+gensim-lr", rule=1, schedule="gensim-corpusfile"),
        Variant("linear-to-lr/6", rule=1, end=1 / 6),
        Variant("linear-to-lr/3", rule=1, end=1 / 3),
        Variant("adagrad-0.05", rule=2, lr=0.05),
        Variant("adagrad-0.1", rule=2, lr=0.1),
        Variant("adagrad-0.2", rule=2, lr=0.2),
        Variant("adagrad-0.4", rule=2, lr=0.4),
        Variant("adagrad-1", rule=2, lr=1.0),
        Variant("adagrad-3", rule=2, lr=3.0),
        Variant("adagrad-0.5", rule=2, lr=0.5),
        Variant("adagrad-1-to-lr/6", rule=2, lr=1.0, end=1 / 6),
    )
}


def schedule_lr(variant: Variant, epoch: int, fraction: float, epochs: int, workers: int) -> float:
    """The learning rate at ``fraction`` of epoch ``epoch`` under the variant's schedule."""
    min_lr = 1e-4
    if variant.schedule == "gensim-corpusfile":
        progress = (epoch + fraction / workers) / epochs
        return max(min_lr, variant.lr - (variant.lr - min_lr) * progress)
    progress = (epoch + fraction) / epochs
    return max(min_lr, variant.lr * (1.0 - (1.0 - variant.end) * progress))


def train_variant(
    tokens: np.ndarray,
    offsets: np.ndarray,
    counts: np.ndarray,
    variant: Variant,
    *,
    seed: int,
    settings: dict[str, Any],
) -> np.ndarray:
    """Train the input table with the compiled kernel; return it (V, dim) float32."""
    import numba

    from embedrec.engine.skipgram.hogwild_kernel import train_block
    from embedrec.engine.skipgram.kernel_common import sigmoid_tables
    from embedrec.engine.skipgram.sampling_tables import keep_probabilities, negative_table

    numba.set_num_threads(settings["threads"])
    dim, vocab = settings["dim"], len(counts)
    rng = np.random.default_rng(seed)
    syn0 = ((rng.random((vocab, dim), dtype=np.float32) * 2 - 1) / dim).astype(np.float32)
    syn1 = np.zeros((vocab, dim), np.float32)
    state0 = np.zeros(vocab, np.float32)
    state1 = np.zeros(vocab, np.float32)
    keep = keep_probabilities(counts, settings["sample"])
    prob, alias = negative_table(counts)
    sig, logsig = sigmoid_tables()
    tree = (np.zeros((1, 1), np.int8), np.zeros((1, 1), np.int32), np.zeros(1, np.int32))
    sent_per_block = max(1, 200_000 * (len(offsets) - 1) // max(1, int(offsets[-1])))
    epochs = settings["epochs"]
    for epoch in range(epochs):
        for b0 in range(0, len(offsets) - 1, sent_per_block):
            b1 = min(len(offsets) - 1, b0 + sent_per_block)
            f0, f1 = offsets[b0] / offsets[-1], offsets[b1] / offsets[-1]
            workers = settings["threads"]
            train_block(
                tokens, offsets[b0 : b1 + 1], syn0, syn1, np.zeros((0, dim), np.float32),
                keep, prob, alias, *tree, sig, logsig, settings["window"],
                settings["negative"], False, True,
                schedule_lr(variant, epoch, f0, epochs, workers),
                schedule_lr(variant, epoch, f1, epochs, workers),
                seed, epoch * 1_000_003 + b0, settings["threads"], variant.rule, state0, state1,
            )  # fmt: skip
    return syn0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--slice", default="head4m", choices=sorted(SLICES))
    parser.add_argument("--variants", default=",".join(VARIANTS))
    parser.add_argument("--seeds", default="1")
    parser.add_argument("--skip-gensim", action="store_true")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    settings = {
        "dim": 100, "window": 5, "negative": 5, "sample": 1e-4, "epochs": 3,
        "threads": args.threads,
    }  # fmt: skip
    data = prepare_slice(args.slice)
    seeds = [int(s) for s in args.seeds.split(",")]
    rows: list[dict[str, Any]] = []
    names = [] if args.skip_gensim else ["gensim"]
    for name in names + [v for v in args.variants.split(",") if v]:
        scores = []
        for seed in seeds:
            if name == "gensim":
                vectors, tokens, _info = run_gensim(data, settings, seed)
            else:
                vectors = train_variant(
                    data.tokens, data.offsets, data.counts, VARIANTS[name],
                    seed=seed, settings=settings,
                )  # fmt: skip
                tokens = data.vocab_tokens
            scores.append(evaluate_vectors(vectors, tokens, data.counts))
        mean = {k: float(np.mean([s[k] for s in scores])) for k in scores[0]}
        rows.append({"variant": name, "seeds": seeds, **mean})
        print(_format_row(rows[-1]), flush=True)
    out = REPO / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    (out / f"gensim-diff-{args.slice}-{stamp}.json").write_text(
        json.dumps({"slice": args.slice, "settings": settings, "rows": rows}, indent=2)
    )


def _format_row(row: dict[str, Any]) -> str:
    return (
        f"| {row['variant']} | {row['semantic']:.1%} | {row['syntactic']:.1%} "
        f"| {row['wordsim353']:.3f} | {row['simlex999']:.3f} |"
    )


if __name__ == "__main__":
    main()
