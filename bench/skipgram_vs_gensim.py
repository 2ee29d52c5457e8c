"""embedrec skip-gram next to gensim's Word2Vec: same tokens, same settings, same run.

    .venv/bin/python bench/skipgram_vs_gensim.py                         # 17M words, ~15 min
    .venv/bin/python bench/skipgram_vs_gensim.py --words 1000000         # 1M-word prefix
    .venv/bin/python bench/skipgram_vs_gensim.py --kernels hogwild,torchrec --epochs 1
    .venv/bin/python bench/skipgram_vs_gensim.py --kernels hogwild,hogwild-per-pair

``hogwild-per-pair`` is the hogwild kernel with ``--per-pair-negatives`` (word2vec.c's fresh
negatives for every (centre, context) pair) instead of the default HogBatch draw shared by a
centre's contexts. Timed runs on a shared machine: wrap the command in
``flock /tmp/embedrec-bench.lock``.

Both trainers read the same token stream: the corpus goes once through ``embedrec
text-pipeline`` (min-count 5, sentences of at most 1,000 words) and gensim gets those
sentences as a ``corpus_file`` with min_count=1, so vocabularies and windows are identical
(lines of ≤1,000 words also keep gensim's corpus_file mode from silently truncating long
lines). Each trainer runs in its own process, so peak RSS is its own; words/s is corpus
words × epochs ÷ training seconds (vocabulary scan and setup excluded for both, reported as
wall time). Every model is scored by the same evaluator: Google analogies (restrict 30,000,
3CosAdd), WordSim-353 and SimLex-999 Spearman.

Prints a markdown table and writes JSON to bench/results/.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
# The shared corpus and eval sets: beside the checkout, or where EMBEDREC_SHARED_DATA says
# (a worktree elsewhere).
SHARED = Path(os.environ.get("EMBEDREC_SHARED_DATA") or REPO.parent / "shared" / "data")
PY = sys.executable

GENSIM_CHILD = r"""
import json, sys, time
from gensim.models import Word2Vec
from gensim.models.keyedvectors import KeyedVectors
cfg = json.loads(sys.argv[1])
t0 = time.perf_counter()
model = Word2Vec(sg=1, vector_size=cfg["dim"], window=cfg["window"], negative=cfg["negative"],
                 hs=0, sample=cfg["sample"], min_count=1, workers=cfg["threads"],
                 epochs=cfg["epochs"], seed=cfg["seed"])
model.build_vocab(corpus_file=cfg["corpus"])
t1 = time.perf_counter()
model.train(corpus_file=cfg["corpus"], total_words=model.corpus_total_words,
            total_examples=model.corpus_count, epochs=cfg["epochs"])
t2 = time.perf_counter()
model.wv.save_word2vec_format(cfg["out"], binary=True)
print(json.dumps({"train_seconds": t2 - t1, "setup_seconds": t1 - t0,
                  "corpus_words": model.corpus_total_words}))
"""


def _peak_rss(pid: int) -> int:
    """VmHWM of a live process in bytes (0 once it is gone). Reset by exec, unlike the
    ru_maxrss a forked child inherits from its parent."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def _run_measured(cmd: list[str]) -> tuple[str, float, int]:
    """Run ``cmd``; return (stdout, wall seconds, peak RSS bytes of that process alone)."""
    import tempfile

    t0 = time.perf_counter()
    with tempfile.TemporaryFile() as out_file, tempfile.TemporaryFile() as err_file:
        proc = subprocess.Popen(cmd, stdout=out_file, stderr=err_file)
        peak = 0
        while proc.poll() is None:
            peak = max(peak, _peak_rss(proc.pid))
            time.sleep(0.1)
        wall = time.perf_counter() - t0
        out_file.seek(0)
        err_file.seek(0)
        out, err = out_file.read().decode(), err_file.read().decode()
    if proc.returncode != 0:
        raise SystemExit(f"{cmd[:3]} failed ({proc.returncode}):\n{err[-3000:]}")
    return out, wall, peak


def _prepare(args: argparse.Namespace, work: Path) -> tuple[Path, Path]:
    """Corpus (or its prefix) → embedrec dataset → the same sentences as a text file."""
    import gzip

    import numpy as np

    source = Path(args.corpus)
    text = work / "corpus.txt"
    if not text.exists():  # streamed: the bench process itself stays small
        limit = args.words or None
        written = 0
        line: list[str] = []
        with gzip.open(source, "rt", encoding="utf-8") as handle, open(text, "w") as out:
            for raw in handle:
                for word in raw.split():
                    line.append(word)
                    written += 1
                    if len(line) == 1000:
                        out.write(" ".join(line) + "\n")
                        line = []
                    if limit is not None and written >= limit:
                        break
                if limit is not None and written >= limit:
                    break
            if line:
                out.write(" ".join(line) + "\n")
    dataset = work / "dataset"
    if not dataset.exists():
        subprocess.run(
            [
                str(REPO / ".venv/bin/embedrec"),
                "text-pipeline",
                str(text),
                "--out",
                str(dataset),
                "--min-count",
                str(args.min_count),
                "--no-progress",
            ],
            check=True,
        )
    sentences = work / "sentences.txt"
    if not sentences.exists():
        from embedrec.pipelines.text.dataset import open_text_dataset

        ds = open_text_dataset(dataset)
        tokens = np.array(ds.vocab.tokens, dtype=object)
        with open(sentences, "w", encoding="utf-8") as out:
            for ids, offsets in ds.iter_batches(rows=4096):
                for i in range(len(offsets) - 1):
                    out.write(" ".join(tokens[ids[offsets[i] : offsets[i + 1]]]) + "\n")
    return dataset, sentences


def _evaluate(model_or_vectors: Path) -> dict[str, float]:
    from embedrec.indexes import evaluate_analogies, evaluate_similarity

    analogies = evaluate_analogies(
        model_or_vectors, SHARED / "eval" / "questions-words.txt", restrict_vocab=30000
    )
    wordsim = evaluate_similarity(model_or_vectors, SHARED / "eval" / "wordsim353.tsv")
    simlex = evaluate_similarity(model_or_vectors, SHARED / "eval" / "simlex999.txt")
    return {
        "analogy": analogies.accuracy,
        "analogy_questions": analogies.total,
        "wordsim353": wordsim.spearman,
        "simlex999": simlex.spearman,
    }


def _gensim_as_model(vectors: Path, model_dir: Path) -> Path:
    """Wrap gensim's vectors as an embedrec model dir so one evaluator scores both."""
    import numpy as np
    from gensim.models import KeyedVectors

    from embedrec.core.artifacts import write_manifest
    from embedrec.engine.skipgram.files import SKIPGRAM_MODEL_KIND, write_embeddings
    from embedrec.pipelines.text.dataset import Vocabulary

    kv = KeyedVectors.load_word2vec_format(str(vectors), binary=True)
    model_dir.mkdir(parents=True, exist_ok=True)
    counts = np.array([kv.get_vecattr(w, "count") for w in kv.index_to_key], dtype=np.int64)
    write_embeddings(model_dir, kv.vectors, Vocabulary(list(kv.index_to_key), counts))
    write_manifest(model_dir, kind=SKIPGRAM_MODEL_KIND, config={"trainer": "gensim"})
    return model_dir


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", default=str(SHARED / "corpus" / "wiki-en-100mb.txt.gz"))
    parser.add_argument("--words", type=int, default=0, help="use only this prefix (0: all)")
    parser.add_argument("--kernels", default="hogwild", help="embedrec kernels, comma-separated")
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--dim", type=int, default=100)
    parser.add_argument("--sample", type=float, default=1e-4)
    parser.add_argument("--min-count", type=int, default=5)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--work", default=str(REPO / "bench" / "results" / "work"))
    parser.add_argument("--skip-gensim", action="store_true")
    args = parser.parse_args()

    work = Path(args.work) / f"words-{args.words or 'all'}"
    work.mkdir(parents=True, exist_ok=True)
    dataset, sentences = _prepare(args, work)
    settings = {
        "dim": args.dim,
        "window": 5,
        "negative": 5,
        "sample": args.sample,
        "epochs": args.epochs,
        "threads": args.threads,
        "seed": args.seed,
    }
    rows: list[dict[str, Any]] = []

    if not args.skip_gensim:
        child = {**settings, "corpus": str(sentences), "out": str(work / "gensim.bin")}
        out, wall, rss = _run_measured([PY, "-c", GENSIM_CHILD, json.dumps(child)])
        info = json.loads(out.strip().splitlines()[-1])
        words = info["corpus_words"] * args.epochs
        rows.append(
            {
                "trainer": "gensim 4.4.0",
                "train_seconds": info["train_seconds"],
                "wall_seconds": wall,
                "words_per_sec": words / info["train_seconds"],
                "peak_rss_mb": rss / 2**20,
                **_evaluate(_gensim_as_model(work / "gensim.bin", work / "gensim-model")),
            }
        )

    for name in [k for k in args.kernels.split(",") if k]:
        kernel, per_pair = name.removesuffix("-per-pair"), name.endswith("-per-pair")
        model = work / f"embedrec-{name}"
        cmd = [
            str(REPO / ".venv/bin/embedrec"),
            "train",
            "skipgram",
            str(dataset),
            "--out",
            str(model),
            "--overwrite",
            "--json",
            "--no-progress",
            "--kernel",
            kernel,
            "--dim",
            str(args.dim),
            "--window",
            "5",
            "--negative",
            "5",
            "--sample",
            str(args.sample),
            "--epochs",
            str(args.epochs),
            "--threads",
            str(args.threads),
            "--seed",
            str(args.seed),
            *(["--per-pair-negatives"] if per_pair else []),
        ]
        out, wall, rss = _run_measured(cmd)
        result = json.loads(out)
        rows.append(
            {
                "trainer": f"embedrec ({kernel}{', per-pair negatives' if per_pair else ''})",
                "train_seconds": result["seconds"],
                "wall_seconds": wall,
                "words_per_sec": result["words_per_sec"],
                "peak_rss_mb": rss / 2**20,
                **_evaluate(model),
            }
        )

    base = rows[0] if rows and rows[0]["trainer"].startswith("gensim") else None
    header = (
        "| trainer | analogy (30k) | WordSim-353 | SimLex-999 | words/s | ×gensim "
        "| train s | wall s | peak RSS MB |"
    )
    print(
        f"\ncorpus: {args.corpus} ({'all' if not args.words else args.words} words), "
        f"dim {args.dim}, window 5, negative 5, sample {args.sample}, min-count "
        f"{args.min_count}, {args.epochs} epochs, {args.threads} threads\n"
    )
    print(header)
    print("|---|---|---|---|---|---|---|---|---|")
    for row in rows:
        ratio = row["words_per_sec"] / base["words_per_sec"] if base else float("nan")
        print(
            f"| {row['trainer']} | {row['analogy']:.1%} | {row['wordsim353']:.3f} "
            f"| {row['simlex999']:.3f} | {row['words_per_sec']:,.0f} | {ratio:.2f} "
            f"| {row['train_seconds']:.0f} | {row['wall_seconds']:.0f} "
            f"| {row['peak_rss_mb']:.0f} |"
        )
    results = REPO / "bench" / "results"
    results.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    (results / f"skipgram-vs-gensim-{stamp}.json").write_text(
        json.dumps({"args": vars(args), "rows": rows}, indent=2)
    )


if __name__ == "__main__":
    main()
