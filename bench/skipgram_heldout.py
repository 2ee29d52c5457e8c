"""embedrec's default skip-gram next to gensim on text no choice was tuned on, seeds averaged.

    flock /tmp/embedrec-bench.lock true   # (the lock is taken per timed run, see --lock)
    .venv/bin/python bench/skipgram_heldout.py --slices tail4m --seeds 1,2,3
    .venv/bin/python bench/skipgram_heldout.py --slices tail4m,all17m --seeds 1,2,3 \
        --lock /tmp/embedrec-bench.lock

Slices are those of bench/skipgram_slices.py (choices were tuned on ``head4m`` only).
Settings are gensim's of issue 13: dim 100, window 5, negative 5, sample 1e-4, min-count 5,
3 epochs, 2 threads; embedrec runs ``embedrec train skipgram`` with its defaults otherwise.
Each (trainer, seed) is one process; words/s is corpus words × epochs ÷ training seconds.
``--peer-from REPORT`` reuses gensim's runs of an earlier report (to try an embedrec flag
with ``--extra``). ``--lock PATH`` runs every timed training under ``flock PATH`` (a shared
machine's bench lock) so no two timed runs overlap. Writes JSON to bench/results/ and
prints a table per slice: semantic and syntactic analogies separately (Google, restrict
30,000), WordSim-353, SimLex-999 (MEN is not in the shared data), each the mean over the seeds.

``--pool REPORT [REPORT ...]`` trains nothing: it pools the (gensim, embedrec) seed pairs
of earlier reports per slice and prints each difference's mean and standard error — one
3-seed run scatters by about ±0.3 analogy points, more than the goal's margin.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

if __package__ in (None, ""):  # run as a script (as documented): make `bench` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.skipgram_slices import (
    EMBEDREC,
    REPO,
    WORK,
    SliceData,
    evaluate_vectors,
    prepare_slice,
    run_gensim,
    slice_dataset,
)

SETTINGS = {"dim": 100, "window": 5, "negative": 5, "sample": 1e-4, "epochs": 3, "threads": 2}
METRICS = ("semantic", "syntactic", "wordsim353", "simlex999")


def run_embedrec(data: SliceData, seed: int, lock: str | None, extra: list[str]) -> dict[str, Any]:
    """``embedrec train skipgram`` with gensim's settings; scores and words/s."""
    from embedrec.engine.skipgram.files import load_embeddings

    model = WORK / data.name / f"embedrec-{seed}"
    result = json.loads(_train(data, model, lock, ["--seed", str(seed), *extra]))
    emb = load_embeddings(model)
    order = {w: i for i, w in enumerate(emb.tokens)}
    vectors = np.asarray(emb.vectors)[[order[w] for w in data.vocab_tokens]]
    scores = evaluate_vectors(vectors, data.vocab_tokens, data.counts)
    return {**scores, "words_per_sec": result["words_per_sec"], "kernel": result["kernel"]}


def warm_compile_cache(data: SliceData, lock: str | None) -> None:
    """One untimed 1-epoch ``embedrec train skipgram``: after a kernel change the first run
    would otherwise compile the kernel (seconds) inside its timed training; later runs load
    numba's on-disk cache."""
    _train(data, WORK / data.name / "embedrec-warm", lock, ["--epochs=1"])


def _train(data: SliceData, model: Path, lock: str | None, extra: list[str]) -> str:
    """``embedrec train skipgram --json`` with gensim's settings (``extra`` after them, so
    it overrides them), under ``flock lock`` when given; its stdout."""
    cmd = [
        EMBEDREC, "train", "skipgram", str(slice_dataset(data)), "--out", str(model), "--overwrite",
        "--json", "--no-progress", *[f"--{k}={v}" for k, v in SETTINGS.items()], *extra,
    ]  # fmt: skip
    proc = subprocess.run(
        (["flock", lock] if lock else []) + cmd, check=True, capture_output=True, text=True
    )
    return proc.stdout


def run_peer(data: SliceData, seed: int, lock: str | None) -> dict[str, Any]:
    """gensim 4.4.0 (corpus_file) on the same sentences; scores and words/s."""
    vectors, tokens, info = run_gensim(data, SETTINGS, seed, lock=lock)
    scores = evaluate_vectors(vectors, tokens, data.counts)
    return {**scores, "words_per_sec": info["words"] / info["train_seconds"]}


def table(name: str, runs: dict[str, list[dict[str, Any]]]) -> str:
    """Markdown: mean over seeds per trainer, then embedrec − gensim."""
    mean = {t: {k: float(np.mean([r[k] for r in rs])) for k in (*METRICS, "words_per_sec")}
            for t, rs in runs.items()}  # fmt: skip
    lines = [
        f"{name}: {len(runs['gensim'])} seed(s) each",
        "",
        "| trainer | semantic | syntactic | WordSim-353 | SimLex-999 | words/s | ×gensim |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    base = mean["gensim"]["words_per_sec"]
    for trainer, m in mean.items():
        speed = m["words_per_sec"]
        lines.append(
            f"| {trainer} | {m['semantic']:.1%} | {m['syntactic']:.1%} | {m['wordsim353']:.3f} "
            f"| {m['simlex999']:.3f} | {speed:,.0f} | {speed / base:.2f} |"
        )
    g, e = mean["gensim"], mean["embedrec"]
    lines.append(
        f"| embedrec − gensim | {100 * (e['semantic'] - g['semantic']):+.1f} pt "
        f"| {100 * (e['syntactic'] - g['syntactic']):+.1f} pt "
        f"| {e['wordsim353'] - g['wordsim353']:+.3f} | {e['simlex999'] - g['simlex999']:+.3f} | | |"
    )
    return "\n".join(lines)


def pooled(reports: list[Path]) -> str:
    """Markdown: embedrec − gensim per seed pair, pooled over reports, mean ± standard error."""
    pairs: dict[str, list[dict[str, float]]] = {}
    for path in reports:
        for name, runs in json.loads(path.read_text())["slices"].items():
            peers = {run["seed"]: run for run in runs["gensim"]}
            for run in runs["embedrec"]:
                peer = peers[run["seed"]]
                pairs.setdefault(name, []).append({k: run[k] - peer[k] for k in METRICS})
    lines = [
        "| slice | seed pairs | semantic | syntactic | WordSim-353 | SimLex-999 |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, diffs in pairs.items():
        cells = []
        for k in METRICS:
            values = np.array([d[k] for d in diffs]) * (100 if k in METRICS[:2] else 1)
            error = values.std(ddof=1) / np.sqrt(len(values)) if len(values) > 1 else float("nan")
            digits = 1 if k in METRICS[:2] else 3
            cells.append(f"{values.mean():+.{digits}f} ± {error:.{digits}f}")
        lines.append(f"| {name} | {len(diffs)} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--slices", default="tail4m")
    parser.add_argument("--seeds", default="1,2,3")
    parser.add_argument("--lock", default=None, help="flock this file around timed runs")
    parser.add_argument("--extra", default="", help="more embedrec flags, space-separated")
    parser.add_argument(
        "--peer-from", type=Path, help="reuse gensim's runs from an earlier report (same seeds)"
    )
    parser.add_argument(
        "--pool", type=Path, nargs="+", help="pool the seed pairs of these reports; no training"
    )
    args = parser.parse_args()
    if args.pool:
        print(pooled(args.pool))
        return
    earlier = json.loads(args.peer_from.read_text())["slices"] if args.peer_from else None
    report: dict[str, Any] = {"settings": SETTINGS, "slices": {}}
    for name in args.slices.split(","):
        data = prepare_slice(name)
        warm_compile_cache(data, args.lock)
        runs: dict[str, list[dict[str, Any]]] = {"gensim": [], "embedrec": []}
        for seed in [int(s) for s in args.seeds.split(",")]:
            if earlier is not None:  # the same slice, settings and seed: gensim's answer stands
                peer = [run for run in earlier[name]["gensim"] if run["seed"] == seed]
                runs["gensim"].append(peer[0])
            else:
                runs["gensim"].append({"seed": seed, **run_peer(data, seed, args.lock)})
            runs["embedrec"].append(
                {"seed": seed, **run_embedrec(data, seed, args.lock, args.extra.split())}
            )
            print(json.dumps({"slice": name, "seed": seed, "gensim": runs["gensim"][-1],
                              "embedrec": runs["embedrec"][-1]}), flush=True)  # fmt: skip
        report["slices"][name] = runs
        print("\n" + table(name, runs) + "\n", flush=True)
    out = REPO / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    (out / f"skipgram-heldout-{stamp}.json").write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
