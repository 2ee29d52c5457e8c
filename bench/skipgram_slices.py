"""Tuning and held-out slices of the shared corpus, gensim on a slice, one evaluator for both.

The clean corpus (/work/shared/data/corpus/wiki-en-100mb.txt.gz, 17.0M words) is cut into:

- ``head4m``: its first 4,000,000 words: the only text any choice was tuned on;
- ``tail4m``: its last 4,000,000 words: held out (no article in common with ``head4m``);
- ``all17m``: the whole corpus (held out for the schedule and rule choices made on ``head4m``,
  but it contains ``head4m``: the 17M figures are a second size, not independent text).

(The raw WikiExtractor dump beside it holds the same articles, so it is not held-out text.)
Each slice is written as lines of at most 1,000 words (the text pipeline's wrap), the
vocabulary keeps words seen >= 5 times, ids ranked by count then token, as the pipeline does.
"""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent.parent / "shared" / "data"
if not SHARED.exists():  # a checkout directly under /work
    SHARED = REPO.parent / "shared" / "data"
CORPUS = SHARED / "corpus" / "wiki-en-100mb.txt.gz"
WORK = REPO / "bench" / "results" / "work" / "slices"
EMBEDREC = str(REPO / ".venv" / "bin" / "embedrec")
SLICES = {"head4m": (0, 4_000_000), "tail4m": (-4_000_000, None), "all17m": (0, None)}
LINE = 1000
MIN_COUNT = 5

GENSIM_CHILD = r"""
import json, sys, time
import numpy as np
from gensim.models import Word2Vec
cfg = json.loads(sys.argv[1])
model = Word2Vec(sg=1, vector_size=cfg["dim"], window=cfg["window"], negative=cfg["negative"],
                 hs=0, sample=cfg["sample"], min_count=1, workers=cfg["threads"],
                 epochs=cfg["epochs"], seed=cfg["seed"])
model.build_vocab(corpus_file=cfg["corpus"])
t0 = time.perf_counter()
model.train(corpus_file=cfg["corpus"], total_words=model.corpus_total_words,
            total_examples=model.corpus_count, epochs=cfg["epochs"])
seconds = time.perf_counter() - t0
np.save(cfg["out"] + ".npy", model.wv.vectors)
with open(cfg["out"] + ".vocab", "w") as f:
    f.write("\n".join(model.wv.index_to_key))
print(json.dumps({"train_seconds": seconds, "words": model.corpus_total_words * cfg["epochs"]}))
"""


@dataclass(frozen=True)
class SliceData:
    """A slice as the kernel reads it, and as gensim reads it (``sentences``)."""

    name: str
    tokens: np.ndarray  # int32 (N,)
    offsets: np.ndarray  # int64 (S + 1,)
    counts: np.ndarray  # int64 (V,)
    vocab_tokens: list[str]
    sentences: Path


def _words(name: str) -> list[str]:
    start, stop = SLICES[name]
    with gzip.open(CORPUS, "rt", encoding="utf-8") as handle:
        lines = handle.read().split("\n")
    sizes = [len(line.split()) for line in lines]
    total = sum(sizes)
    first = start if start >= 0 else total + start
    last = total if stop is None else min(total, stop)
    words: list[str] = []
    seen = 0
    for line, size in zip(lines, sizes, strict=True):
        if seen + size > first and seen < last:
            part = line.split()
            words.extend(part[max(0, first - seen) : last - seen])
        seen += size
    return words


def prepare_slice(name: str) -> SliceData:
    """Build (once) and load a slice; cached under bench/results/work/slices/NAME."""
    work = WORK / name
    if not (work / "done").exists():
        work.mkdir(parents=True, exist_ok=True)
        words = _words(name)
        counts = Counter(words)
        vocab = sorted(
            (w for w, c in counts.items() if c >= MIN_COUNT), key=lambda w: (-counts[w], w)
        )
        ids = {w: i for i, w in enumerate(vocab)}
        kept = [w for w in words if w in ids]
        tokens = np.array([ids[w] for w in kept], dtype=np.int32)
        offsets = np.append(np.arange(0, len(tokens), LINE), len(tokens)).astype(np.int64)
        with open(work / "sentences.txt", "w", encoding="utf-8") as out:
            for s in range(len(offsets) - 1):
                out.write(" ".join(kept[offsets[s] : offsets[s + 1]]) + "\n")
        np.save(work / "tokens.npy", tokens)
        np.save(work / "offsets.npy", offsets)
        np.save(work / "counts.npy", np.array([counts[w] for w in vocab], dtype=np.int64))
        (work / "vocab.txt").write_text("\n".join(vocab))
        (work / "done").write_text(json.dumps({"words": len(words), "kept": len(kept)}))
    return SliceData(
        name=name,
        tokens=np.load(work / "tokens.npy"),
        offsets=np.load(work / "offsets.npy"),
        counts=np.load(work / "counts.npy"),
        vocab_tokens=(work / "vocab.txt").read_text().split("\n"),
        sentences=work / "sentences.txt",
    )


def slice_dataset(data: SliceData) -> Path:
    """The slice's sentences through ``embedrec text-pipeline`` (once)."""
    out = WORK / data.name / "dataset"
    if not (out / "manifest.json").exists():
        subprocess.run(
            [EMBEDREC, "text-pipeline", str(data.sentences), "--out", str(out),
             "--min-count", "5", "--no-progress", "--overwrite"],
            check=True, capture_output=True,
        )  # fmt: skip
    return out


def run_gensim(
    data: SliceData, settings: dict[str, Any], seed: int, lock: str | None = None
) -> tuple[np.ndarray, list[str], dict[str, Any]]:
    """gensim 4.4.0 on the slice's sentences; vectors in the slice's vocabulary order.

    ``lock``: run the child under ``flock lock`` (a timed run on a shared machine).
    """
    out = WORK / data.name / f"gensim-{seed}"
    cfg = {**settings, "seed": seed, "corpus": str(data.sentences), "out": str(out)}
    proc = subprocess.run(
        (["flock", lock] if lock else []) + [sys.executable, "-c", GENSIM_CHILD, json.dumps(cfg)],
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    info = json.loads(proc.stdout.strip().splitlines()[-1])
    vectors = np.load(str(out) + ".npy")
    order = {w: i for i, w in enumerate(Path(str(out) + ".vocab").read_text().split("\n"))}
    return vectors[[order[w] for w in data.vocab_tokens]], data.vocab_tokens, info


def evaluate_vectors(
    vectors: np.ndarray, tokens: list[str], counts: np.ndarray
) -> dict[str, float]:
    """Google analogies (restrict 30,000, 3CosAdd) by section kind, WordSim-353, SimLex-999."""
    from embedrec.engine.skipgram.files import Embeddings
    from embedrec.indexes import evaluate_analogies, evaluate_similarity

    emb = Embeddings(vectors=vectors, tokens=tokens, counts=counts, manifest={})
    report = evaluate_analogies(emb, SHARED / "eval" / "questions-words.txt", restrict_vocab=30000)
    kinds: dict[str, list[int]] = {"semantic": [0, 0], "syntactic": [0, 0]}
    for section in report.sections:
        kind = kinds["syntactic" if section.name.startswith("gram") else "semantic"]
        kind[0] += section.correct
        kind[1] += section.total
    return {
        "semantic": kinds["semantic"][0] / max(1, kinds["semantic"][1]),
        "syntactic": kinds["syntactic"][0] / max(1, kinds["syntactic"][1]),
        "analogy": report.accuracy,
        "wordsim353": _spearman(evaluate_similarity(emb, SHARED / "eval" / "wordsim353.tsv")),
        "simlex999": _spearman(evaluate_similarity(emb, SHARED / "eval" / "simlex999.txt")),
    }


def _spearman(report: Any) -> float:
    return float(report.spearman) if report.spearman is not None else float("nan")
