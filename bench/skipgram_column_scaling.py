"""Column-sharded skip-gram against one rank, both sides in one run (issue 12, point 2).

    flock /tmp/embedrec-bench.lock .venv/bin/python bench/skipgram_column_scaling.py

On the first ``--words`` (4.5M) words of the shared wiki text, 3 epochs, dim 100, window 5,
negative 5, sample 1e-4, min-count 5:

- **1 rank × 2 threads**, the compiled hogwild kernel (``embedrec train skipgram``);
- **2 ranks × 1 thread**, ``--nproc 2 --sharding column_wise`` (the column kernel);
- **4 ranks × 1 thread** (oversubscribed on 2 cores: loss only, its speed means nothing).

Words/s is the *whole command* (launcher, torchrun, rendezvous, table building, training,
export: ``epochs · corpus words / wall seconds``), next to the trainer's own figure.
Analogies (questions-words, 30k vocabulary) and WordSim-353 Spearman per run, the plan's
shard sizes per rank, and the partial-dot bytes each rank handed to all_reduce next to the
formula ``pairs · (K + 1) · 4``. Prints a markdown table; writes JSON to bench/results/.

``--slice tail4m`` runs the same three on a slice of bench/skipgram_slices.py instead of the
prefix — ``tail4m``, the corpus's last 4M words, is text no default was tuned on.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script (as documented): make `bench` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

REPO = Path(__file__).resolve().parents[1]
SHARED = Path("/work/shared/data")
EMBEDREC = str(REPO / ".venv" / "bin" / "embedrec")
SETTINGS = ["--dim", "100", "--window", "5", "--negative", "5", "--sample", "1e-4"]


def _prepare(words: int, work: Path) -> Path:
    """The corpus prefix as an embedrec text dataset (made once, reused)."""
    import gzip

    dataset = work / "dataset"
    if (dataset / "manifest.json").exists():
        return dataset
    work.mkdir(parents=True, exist_ok=True)
    text = work / "corpus.txt"
    written, line = 0, []
    with gzip.open(SHARED / "corpus" / "wiki-en-100mb.txt.gz", "rt") as src, open(text, "w") as out:
        for raw in src:
            for word in raw.split():
                line.append(word)
                written += 1
                if len(line) == 1000:
                    out.write(" ".join(line) + "\n")
                    line = []
            if written >= words:
                break
        if line:
            out.write(" ".join(line) + "\n")
    cmd = [EMBEDREC, "text-pipeline", str(text), "--out", str(dataset), "--min-count", "5"]
    subprocess.run([*cmd, "--no-progress"], check=True)
    return dataset


def _train(dataset: Path, out: Path, epochs: int, extra: list[str]) -> dict[str, Any]:
    cmd = [EMBEDREC, "train", "skipgram", str(dataset), "--out", str(out), "--overwrite"]
    cmd += [*SETTINGS, "--epochs", str(epochs), "--no-progress", "--json", *extra]
    if "--nproc" in extra:
        cmd += ["--max-restarts", "0"]
    started = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    if "--nproc" in extra and result["kernel"] != "column":  # auto must pick the column kernel
        raise SystemExit(f"{' '.join(cmd)} trained the {result['kernel']} kernel, not column")
    result["wall_seconds"] = round(wall, 2)
    result["command_words_per_sec"] = round(epochs * result["corpus_words"] / wall, 1)
    return result


def _quality(model: Path) -> dict[str, float]:
    from embedrec.indexes import evaluate_analogies, evaluate_similarity

    eval_dir = SHARED / "eval"
    analogies = evaluate_analogies(model, eval_dir / "questions-words.txt", restrict_vocab=30000)
    wordsim = evaluate_similarity(model, eval_dir / "wordsim353.tsv")
    return {"analogies": round(100 * analogies.accuracy, 2), "wordsim": round(wordsim.spearman, 4)}


def _shards(plan: dict[str, Any]) -> dict[str, list[str]]:
    """Per table: 'rank r: rows×cols' for each shard."""
    return {
        table: [f"{s['placement']}: {'x'.join(map(str, s['sizes']))}" for s in info["shards"]]
        for table, info in plan.items()
    }


RUNS = {
    "1 rank x 2 threads": ["--threads", "2"],
    "2 ranks x 1 thread (column)": ["--nproc", "2", "--sharding", "column_wise", "--threads", "1"],
    "4 ranks x 1 thread (column)": ["--nproc", "4", "--sharding", "column_wise", "--threads", "1"],
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--words", type=int, default=4_500_000)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--work", type=Path, default=REPO / "bench" / "work" / "column")
    parser.add_argument(
        "--slice", help="a slice of bench/skipgram_slices.py (e.g. tail4m, held out), not --words"
    )
    args = parser.parse_args()
    if args.slice:
        from bench.skipgram_slices import prepare_slice, slice_dataset

        dataset = slice_dataset(prepare_slice(args.slice))
        args.work = args.work.with_name(f"column-{args.slice}")
    else:
        dataset = _prepare(args.words, args.work)
    rows: dict[str, dict[str, Any]] = {}
    for name, extra in RUNS.items():
        out = args.work / ("model-" + name.split()[0])
        result = _train(dataset, out, args.epochs, extra)
        result.update(_quality(out))
        comm = result.get("comm") or {}
        expected = result["pairs"] * (5 + 1) * 4
        result["comm_formula_bytes"] = expected if comm else 0
        rows[name] = result
        _save({"runs": rows, "words": args.words}, args.slice)  # each run kept when it ends
        print(
            f"{name}: {result['command_words_per_sec']:,.0f} words/s (command), "
            f"{result['words_per_sec']:,.0f} (trainer), loss {result['loss']:.4f}, "
            f"analogies {result['analogies']:.2f}%, wordsim {result['wordsim']:.4f}, "
            f"all_reduce {comm.get('payload_bytes', 0):,} B in {comm.get('calls', 0)} calls "
            f"(formula {result['comm_formula_bytes']:,} B), shards {_shards(result['plan'])}",
            flush=True,
        )
    base, two, four = (rows[name] for name in RUNS)
    summary = {
        "ratio_2x1_vs_1x2": round(two["command_words_per_sec"] / base["command_words_per_sec"], 3),
        "analogy_gap_points": round(two["analogies"] - base["analogies"], 2),
        "wordsim_gap": round(two["wordsim"] - base["wordsim"], 4),
        "loss_gap_4_ranks": round(four["loss"] / base["loss"] - 1, 4),
    }
    print(json.dumps(summary))
    _save({"runs": rows, "summary": summary, "words": args.words}, args.slice)


def _save(document: dict[str, Any], slice_name: str | None) -> None:
    """bench/results/skipgram_column_scaling.json (the cost model's input) or, for a
    slice, skipgram_column_scaling-SLICE.json."""
    results = REPO / "bench" / "results"
    results.mkdir(exist_ok=True)
    name = f"skipgram_column_scaling-{slice_name}" if slice_name else "skipgram_column_scaling"
    (results / f"{name}.json").write_text(json.dumps(document, indent=1))


if __name__ == "__main__":
    sys.exit(main())
