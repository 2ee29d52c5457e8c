"""Opening what the query and eval commands accept: an index directory, a model directory,
or a word2vec / GloVe / fastText vector file (exact, in memory; skipped under doctest, as it
needs the file: `embedrec.indexes.files.spool` has a runnable example).

>>> index = load_index("indexes/wiki")  # index.faiss + vocab + manifest  # doctest: +SKIP
>>> index = load_index("models/wiki")   # exact, built in memory         # doctest: +SKIP
>>> index = load_index("glove.6B.50d.txt")  # doctest: +SKIP
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np

from embedrec.core.artifacts import read_manifest
from embedrec.core.errors import ArtifactError, ConfigError
from embedrec.core.schemas import VOCAB_FILE
from embedrec.engine.skipgram.files import EMBEDDINGS_FILE, MODEL_KINDS, load_embeddings
from embedrec.indexes.config import INDEX_FILE, INDEX_KIND, METRICS
from embedrec.indexes.faiss_support import (
    enable_reconstruct,
    flat_index,
    reserve_rows,
    set_search_params,
)
from embedrec.indexes.sharded import read_sharded
from embedrec.indexes.vector_chunks import iter_prepared_chunks
from embedrec.indexes.word_index import WordIndex
from embedrec.pipelines.text.dataset import read_vocab

log = logging.getLogger(__name__)

CHUNK_ROWS = 65_536


def artifact_kind(path: str | Path) -> str:
    """``index`` or the model kind of the directory at ``path`` (`ArtifactError` otherwise)."""
    return str(read_manifest(path, kinds=[INDEX_KIND, *MODEL_KINDS])["kind"])


def load_index(path: str | Path, *, skip_bad_lines: bool = False) -> WordIndex:
    """Open an index directory, or build an exact cosine index over a model directory or a
    word-vector file (word2vec text/binary, GloVe, fastText ``.vec``, maybe gzipped).

    A sharded index directory (manifest ``shards``) opens as one `ShardedIndex`. The
    stored search parameters (efSearch, nprobe) are applied. Raises `ArtifactError`
    for a directory that is neither, or whose files disagree, and `VectorFileError` for a
    malformed vector file (``skip_bad_lines`` leaves its bad records out, listed in
    ``index.manifest["source_file"]``).
    """
    if Path(path).is_file():
        from embedrec.indexes.files.reader import VectorFileOptions
        from embedrec.indexes.in_memory import exact_index_from_file

        return exact_index_from_file(path, VectorFileOptions(skip_bad_lines=skip_bad_lines))
    manifest = read_manifest(path, kinds=[INDEX_KIND, *MODEL_KINDS])
    if manifest["kind"] != INDEX_KIND:
        return exact_index_from_model(path)
    import faiss

    d = Path(path)
    index_path = d / INDEX_FILE
    index: Any
    if manifest.get("shards") is not None:
        index = read_sharded(d, manifest["shards"])
    elif not index_path.exists():
        raise ArtifactError(d, f"has no {INDEX_FILE}")
    else:
        try:
            index = faiss.read_index(str(index_path))
        except RuntimeError as exc:
            raise ArtifactError(index_path, "is not a readable FAISS index") from exc
    vocab = read_vocab(d / VOCAB_FILE)
    if index.ntotal != len(vocab):
        raise ArtifactError(d, f"{INDEX_FILE} holds {index.ntotal} vectors for {len(vocab)} tokens")
    if manifest.get("dim") not in (None, index.d):
        raise ArtifactError(d, f"{INDEX_FILE} has dim {index.d}, manifest says {manifest['dim']}")
    metric = manifest.get("metric", "cosine")
    if metric not in METRICS:
        raise ArtifactError(d, f"manifest metric {metric!r} is not one of {', '.join(METRICS)}")
    enable_reconstruct(index)
    set_search_params(index, dict(manifest.get("search_params") or {}))
    norms = _read_norms(d, manifest, len(vocab))
    return WordIndex(
        index,
        vocab.tokens,
        metric=metric,
        manifest=manifest,
        path=d,
        counts=vocab.counts,
        norms=norms,
    )


def _read_norms(d: Path, manifest: dict[str, Any], rows: int) -> np.ndarray | None:
    """The vectors' lengths before normalising (``norms_file``; older indexes lack it)."""
    name = manifest.get("norms_file")
    if name is None:
        return None
    path = d / str(name)
    try:
        norms = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise ArtifactError(path, f"is not a readable .npy array ({exc})") from None
    if norms.shape != (rows,):
        raise ArtifactError(path, f"holds {norms.shape} lengths for {rows} vectors")
    return np.asarray(norms, dtype=np.float32)


def exact_index_from_model(
    model_dir: str | Path, *, metric: str = "cosine", chunk_rows: int = CHUNK_ROWS
) -> WordIndex:
    """An exact in-memory index over a model's vectors (added in chunks from the memory map)."""
    if metric not in METRICS:
        raise ConfigError("metric", metric, "one of " + ", ".join(METRICS))
    model = load_embeddings(model_dir)
    index = flat_index(model.dim, metric)
    reserve_rows(index, len(model))
    source = Path(model_dir) / EMBEDDINGS_FILE
    norms = np.empty(len(model), dtype=np.float32) if metric == "cosine" else None
    for _, block in iter_prepared_chunks(
        model.vectors, metric=metric, rows=chunk_rows, source=source, norms=norms
    ):
        index.add(block)
    manifest = {
        "kind": INDEX_KIND,
        "factory": "Flat",
        "metric": metric,
        "normalized": metric == "cosine",
        "exact": True,
        "dim": model.dim,
        "search_params": {},
        "source_model": {"path": str(Path(model_dir).resolve())},
        "in_memory": True,
    }
    return WordIndex(
        index,
        model.tokens,
        metric=metric,
        manifest=manifest,
        path=model_dir,
        counts=model.counts,
        norms=norms,
    )
