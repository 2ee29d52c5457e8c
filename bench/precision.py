"""What 16-bit tables and quantised communication save, and what they cost in quality.

    .venv/bin/python bench/precision.py                      # 4M-word prefix, 3 epochs, ~10 min
    .venv/bin/python bench/precision.py --words 1000000 --epochs 1

Trains skip-gram with the torchrec kernel (the one that runs on any precision and any number
of ranks) on a prefix of the shared Wikipedia corpus, with the same tokens and seed each time:

- 1 rank, fp32 tables (the reference) and fp16 tables (`--precision fp16`);
- 2 ranks (gloo, one thread each), fp32 communication and fp16 all-to-alls
  (`--qcomms fp16`, TorchRec qcomms).

No bf16 tables: fbgemm's training kernels have none, on CPU or on CUDA (seen on an H200),
and embedrec refuses `--precision bf16` with that reason. Reports the bytes the tables take
(rows × dim × element size, all tables), the final checkpoint on disk (tables + Adagrad
state), peak RSS (1-rank rows: the trainer process) and the quality: analogy accuracy
(restrict 30,000), WordSim-353 and SimLex-999 Spearman. Prints a markdown table; JSON goes
to bench/results/.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from skipgram_vs_gensim import REPO, SHARED, _evaluate, _prepare, _run_measured

VARIANTS: list[tuple[str, list[str]]] = [
    ("1 rank, fp32 tables", ["--precision", "fp32"]),
    ("1 rank, fp16 tables", ["--precision", "fp16"]),
    ("2 ranks, fp32 comms", ["--nproc", "2"]),
    ("2 ranks, fp16 qcomms", ["--nproc", "2", "--qcomms", "fp16"]),
]
ELEMENT_BYTES = {"fp32": 4, "fp16": 2, "bf16": 2}


def _directory_bytes(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def _table_bytes(model: Path) -> int:
    """Rows × dim × element size over the tables training kept (word and context)."""
    manifest = json.loads((model / "manifest.json").read_text())
    config = manifest["config"]
    vocab_size = int(manifest["counts"]["vocab_size"])
    tables = 2 if config["negative"] > 0 else 1
    return tables * vocab_size * config["dim"] * ELEMENT_BYTES[config["precision"]]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", default=str(SHARED / "corpus" / "wiki-en-100mb.txt.gz"))
    parser.add_argument("--words", type=int, default=4_000_000, help="prefix (0: all)")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--dim", type=int, default=100)
    parser.add_argument("--sample", type=float, default=1e-4)
    parser.add_argument("--min-count", type=int, default=5)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--work", default=str(REPO / "bench" / "results" / "work"))
    args = parser.parse_args()

    work = Path(args.work) / f"words-{args.words or 'all'}"
    work.mkdir(parents=True, exist_ok=True)
    dataset, _ = _prepare(args, work)
    rows: list[dict[str, Any]] = []
    for name, flags in VARIANTS:
        ranks = 2 if "--nproc" in flags else 1
        model = work / ("precision-" + name.replace(" ", "").replace(",", "-"))
        cmd = [
            str(REPO / ".venv/bin/embedrec"),
            *("train", "skipgram", str(dataset), "--out", str(model), "--overwrite"),
            *("--json", "--no-progress", "--kernel", "torchrec", "--dim", str(args.dim)),
            *("--window", "5", "--negative", "5", "--sample", str(args.sample)),
            *("--epochs", str(args.epochs), "--seed", str(args.seed)),
            *("--threads", str(max(1, args.threads // ranks))),
            *flags,
        ]
        print(f"training: {name}", file=sys.stderr, flush=True)
        out, wall, rss = _run_measured(cmd)
        result = json.loads(out.strip().splitlines()[-1])
        checkpoints = sorted((model / "checkpoints").glob("step-*"))
        rows.append(
            {
                "variant": name,
                "table_mb": _table_bytes(model) / 2**20,
                "checkpoint_mb": _directory_bytes(checkpoints[-1]) / 2**20 if checkpoints else 0,
                "peak_rss_mb": rss / 2**20 if ranks == 1 else None,
                "words_per_sec": result["words_per_sec"],
                "wall_seconds": wall,
                "loss": result["loss"],
                **_evaluate(model),
            }
        )

    base = rows[0]
    print(
        f"\ncorpus: {args.corpus} ({args.words or 'all'} words), dim {args.dim}, window 5, "
        f"negative 5, sample {args.sample}, {args.epochs} epochs, torchrec kernel\n"
    )
    print(
        "| variant | tables MB | checkpoint MB | peak RSS MB | words/s | final loss "
        "| analogy (30k) | Δ analogy | WordSim-353 | SimLex-999 |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for row in rows:
        rss = f"{row['peak_rss_mb']:.0f}" if row["peak_rss_mb"] is not None else "—"
        delta = (row["analogy"] - base["analogy"]) * 100
        print(
            f"| {row['variant']} | {row['table_mb']:.1f} | {row['checkpoint_mb']:.1f} | {rss} "
            f"| {row['words_per_sec']:,.0f} | {row['loss']:.3f} | {row['analogy']:.1%} "
            f"| {delta:+.1f} pt | {row['wordsim353']:.3f} | {row['simlex999']:.3f} |"
        )
    results = REPO / "bench" / "results"
    stamp = time.strftime("%Y%m%d-%H%M%S")
    (results / f"precision-{stamp}.json").write_text(
        json.dumps({"args": vars(args), "rows": rows}, indent=2)
    )


if __name__ == "__main__":
    main()
