"""The exported part of a model directory: word vectors and their vocabulary.

A skip-gram model directory holds (besides ``config.json``, ``metrics.jsonl`` and
``checkpoints/``)::

    embeddings.npy     float32 (V, dim): the input ("word") vectors, row i = vocab id i
    vocab.parquet      id, token, count (the dataset's vocabulary, copied)
    manifest.json      kind "skipgram-model", dim, vocab_size, dataset fingerprint

This module is the one place that reads them; indexes and serving load vectors through it.

>>> emb = load_embeddings("models/wiki")                              # doctest: +SKIP
>>> emb.vectors.shape, emb.tokens[:3]  # doctest: +SKIP
((71290, 100), ['the', 'of', 'and'])
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from embedrec.core.artifacts import atomic_path, read_manifest
from embedrec.core.errors import ArtifactError
from embedrec.core.schemas import VOCAB_FILE
from embedrec.pipelines.text.dataset import Vocabulary, read_vocab, write_vocab

EMBEDDINGS_FILE = "embeddings.npy"
SKIPGRAM_MODEL_KIND = "skipgram-model"
# A ranker's exported doc vectors (``MODEL/doc_embeddings/``, see `embedrec.engine.ranker.export`):
# the same files, row i = the doc named by vocab token i, so `indexes.build_index` reads them.
DOC_EMBEDDINGS_KIND = "doc-embeddings"
MODEL_KINDS = (SKIPGRAM_MODEL_KIND, DOC_EMBEDDINGS_KIND)


@dataclass(frozen=True)
class Embeddings:
    """Vectors with their tokens. ``vectors``: float32 (V, dim), possibly memory-mapped."""

    vectors: np.ndarray
    tokens: list[str]
    counts: np.ndarray
    manifest: dict[str, Any]

    @property
    def dim(self) -> int:
        return int(self.vectors.shape[1])

    def __len__(self) -> int:
        return int(self.vectors.shape[0])


def write_embeddings(directory: str | Path, vectors: np.ndarray, vocab: Vocabulary) -> None:
    """Write ``embeddings.npy`` and ``vocab.parquet`` atomically into ``directory``."""
    d = Path(directory)
    if vectors.ndim != 2 or vectors.shape[0] != len(vocab):
        raise ValueError(f"vectors of shape {vectors.shape} do not match {len(vocab)} tokens")
    with atomic_path(d / EMBEDDINGS_FILE) as tmp, open(tmp, "wb") as handle:
        np.save(handle, np.ascontiguousarray(vectors, dtype=np.float32))
    write_vocab(d / VOCAB_FILE, vocab.tokens, vocab.counts)


def load_embeddings(directory: str | Path, *, mmap: bool = True) -> Embeddings:
    """Load the exported vectors and vocabulary of a model directory.

    ``mmap=True`` maps the file instead of reading it, so a large table costs no copy.
    """
    d = Path(directory)
    manifest = read_manifest(d, kinds=MODEL_KINDS)
    path = d / EMBEDDINGS_FILE
    if not path.exists():
        raise ArtifactError(d, f"has no {EMBEDDINGS_FILE}; train it to the end or export it")
    try:
        vectors = np.load(path, mmap_mode="r" if mmap else None, allow_pickle=False)
    except ValueError as exc:
        raise ArtifactError(path, f"is not a readable .npy array ({exc})") from None
    vocab = read_vocab(d / VOCAB_FILE)
    if vectors.ndim != 2 or vectors.shape[0] != len(vocab):
        raise ArtifactError(
            d,
            f"{EMBEDDINGS_FILE} has shape {vectors.shape} but the "
            f"vocabulary has {len(vocab)} tokens",
        )
    return Embeddings(vectors=vectors, tokens=vocab.tokens, counts=vocab.counts, manifest=manifest)
