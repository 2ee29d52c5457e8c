"""Does skip-gram speed hold as the corpus and the vocabulary grow?

    .venv/bin/python bench/skipgram_scaling.py             # ~12 minutes on 2 cores

Two sweeps, hogwild kernel, 2 threads, dim 100, window 5, negative 5, sample 1e-4, 1 epoch
each (words/s does not depend on the epoch count):

- **data**: prefixes of 1M, 4M and 17M words of ../shared/data's wiki text (datasets made
  by ``bench/skipgram_vs_gensim.py``'s preparation step);
- **vocabulary**: synthetic corpora of 5M tokens drawn from a Zipf(1.0) law over 30k,
  100k, 500k and 1M word types (built straight into the dataset format).

For each run: corpus words/s, the share of time spent waiting for the Parquet reader
(``input_seconds`` / training seconds — the profile of the input side), and peak RSS; next
to it gensim on the same sentences (min_count 1, same settings), so a fall in words/s can be
told apart from one every trainer pays (bigger tables miss the CPU caches more often).
Prints a markdown table and writes JSON to bench/results/.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from skipgram_vs_gensim import GENSIM_CHILD, PY, REPO, SHARED, _prepare, _run_measured

TOKENS_PER_SENTENCE = 1000


def _zipf_dataset(out: Path, vocab: int, tokens: int, seed: int = 0) -> Path:
    """A text dataset of ``tokens`` ids drawn from Zipf(1.0) over ``vocab`` types."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from embedrec.core.artifacts import write_manifest
    from embedrec.core.schemas import CORPUS_SCHEMA, TEXT_DATASET_KIND
    from embedrec.pipelines.text.dataset import write_vocab

    if (out / "manifest.json").exists():
        return out
    rng = np.random.default_rng(seed)
    weights = 1.0 / np.arange(1, vocab + 1)
    cdf = np.cumsum(weights / weights.sum())
    ids = np.searchsorted(cdf, rng.random(tokens)).astype(np.int32)
    ids = np.minimum(ids, vocab - 1)
    counts = np.bincount(ids, minlength=vocab)
    # Ids must be ranks by count; relabel (ties by id, as tokens "w<id>" sort the same way).
    order = np.lexsort((np.arange(vocab), -counts))
    rank = np.empty(vocab, dtype=np.int32)
    rank[order] = np.arange(vocab, dtype=np.int32)
    ids = rank[ids]
    counts = counts[order]
    keep = counts > 0
    (out / "corpus").mkdir(parents=True, exist_ok=True)
    offsets = np.arange(0, tokens + 1, TOKENS_PER_SENTENCE, dtype=np.int32)
    column = pa.ListArray.from_arrays(pa.array(offsets), pa.array(ids[: offsets[-1]]))
    pq.write_table(
        pa.table({"tokens": column}, schema=CORPUS_SCHEMA),
        out / "corpus" / "part-00000.parquet",
        row_group_size=1024,
    )
    write_vocab(out / "vocab.parquet", [f"w{i}" for i in range(int(keep.sum()))], counts[keep])
    write_manifest(
        out,
        kind=TEXT_DATASET_KIND,
        config={"zipf": 1.0, "vocab": vocab},
        counts={"corpus_tokens": int(offsets[-1])},
    )
    return out


def _zipf_sentences(dataset: Path) -> Path:
    """The Zipf dataset as text (``w<id>`` tokens, 1,000 a line) for gensim."""
    from embedrec.pipelines.text.dataset import open_text_dataset

    sentences = dataset / "sentences.txt"
    if not sentences.exists():
        ds = open_text_dataset(dataset)
        with open(sentences, "w") as out:
            for ids, offsets in ds.iter_batches(rows=1024):
                for i in range(len(offsets) - 1):
                    line = ids[offsets[i] : offsets[i + 1]]
                    out.write(" ".join(f"w{t}" for t in line.tolist()) + "\n")
    return sentences


def _gensim(sentences: Path, work: Path, threads: int) -> dict[str, Any]:
    child = {
        **{"dim": 100, "window": 5, "negative": 5, "sample": 1e-4, "epochs": 1, "seed": 1},
        **{"threads": threads, "corpus": str(sentences), "out": str(work / "gensim-scaling.bin")},
    }
    out, _wall, rss = _run_measured([PY, "-c", GENSIM_CHILD, json.dumps(child)])
    info = json.loads(out.strip().splitlines()[-1])
    return {
        "gensim_words_per_sec": info["corpus_words"] / info["train_seconds"],
        "gensim_peak_rss_mb": rss / 2**20,
    }


def _train(dataset: Path, work: Path, threads: int) -> dict[str, Any]:
    model = work / f"model-{dataset.parent.name}-{dataset.name}"
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
        "--epochs",
        "1",
        "--sample",
        "1e-4",
        "--threads",
        str(threads),
    ]
    out, wall, rss = _run_measured(cmd)
    result = json.loads(out)
    return {
        "words_per_sec": result["words_per_sec"],
        "seconds": result["seconds"],
        "input_share": result["input_seconds"] / max(result["seconds"], 1e-9),
        "peak_rss_mb": rss / 2**20,
        "wall_seconds": wall,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--work", default=str(REPO / "bench" / "results" / "work"))
    parser.add_argument("--vocab-tokens", type=int, default=5_000_000)
    args = parser.parse_args()
    work = Path(args.work)
    rows: list[dict[str, Any]] = []
    for words in (1_000_000, 4_000_000, 0):
        prep = argparse.Namespace(
            corpus=str(SHARED / "corpus" / "wiki-en-100mb.txt.gz"), words=words, min_count=5
        )
        place = work / f"words-{words or 'all'}"
        place.mkdir(parents=True, exist_ok=True)
        dataset, sentences = _prepare(prep, place)
        from embedrec.pipelines.text.dataset import open_text_dataset

        ds = open_text_dataset(dataset)
        rows.append(
            {
                "sweep": "data",
                "corpus": f"wiki {ds.total_tokens / 1e6:.1f}M words",
                "vocab": ds.vocab_size,
                **_train(dataset, work, args.threads),
                **_gensim(sentences, work, args.threads),
            }
        )
        print(rows[-1], flush=True)
    for vocab in (30_000, 100_000, 500_000, 1_000_000):
        dataset = _zipf_dataset(work / f"zipf-{vocab}", vocab, args.vocab_tokens)
        from embedrec.pipelines.text.dataset import open_text_dataset

        ds = open_text_dataset(dataset)
        rows.append(
            {
                "sweep": "vocabulary",
                "corpus": f"Zipf {args.vocab_tokens / 1e6:.0f}M tokens",
                "vocab": ds.vocab_size,
                **_train(dataset, work, args.threads),
                **_gensim(_zipf_sentences(dataset), work, args.threads),
            }
        )
        print(rows[-1], flush=True)

    print(
        "\n| sweep | corpus | vocabulary | embedrec words/s | gensim words/s | ×gensim "
        "| reading share | peak RSS MB (embedrec / gensim) |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for row in rows:
        ratio = row["words_per_sec"] / row["gensim_words_per_sec"]
        print(
            f"| {row['sweep']} | {row['corpus']} | {row['vocab']:,} "
            f"| {row['words_per_sec']:,.0f} | {row['gensim_words_per_sec']:,.0f} | {ratio:.2f} "
            f"| {row['input_share']:.1%} "
            f"| {row['peak_rss_mb']:.0f} / {row['gensim_peak_rss_mb']:.0f} |"
        )
    results = REPO / "bench" / "results"
    stamp = time.strftime("%Y%m%d-%H%M%S")
    (results / f"skipgram-scaling-{stamp}.json").write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
