"""Exact in-memory indexes filled from vectors that arrive in chunks (a file, a gensim
``KeyedVectors``), holding the table once: in the index, sized up front.

>>> chunks = [(["cat", "dog"], np.array([[1, 0], [0, 2]], dtype=np.float32))]
>>> index = exact_index_from_chunks(chunks, dim=2, manifest={"source": "doctest"})
>>> index.tokens, index.norms.tolist(), index.similarity("cat", "dog")
(['cat', 'dog'], [1.0, 2.0], 0.0)
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from embedrec.core.artifacts import fingerprint
from embedrec.core.errors import ArtifactError, ConfigError
from embedrec.indexes.config import INDEX_KIND, METRICS
from embedrec.indexes.faiss_support import flat_index, reserve_rows
from embedrec.indexes.files.reader import VectorFileOptions, VectorFileReader
from embedrec.indexes.files.spool import count_lines, source_file_entry
from embedrec.indexes.vector_chunks import prepare
from embedrec.indexes.word_index import WordIndex


def exact_index_from_chunks(
    chunks: Iterable[tuple[list[str], np.ndarray]],
    *,
    dim: int,
    metric: str = "cosine",
    rows_hint: int | None = None,
    manifest: dict[str, Any] | None = None,
    path: str | Path | None = None,
    counts: np.ndarray | None = None,
    source: str | Path = "vectors",
) -> WordIndex:
    """An exact (``Flat``) `WordIndex` over ``(tokens, float32 block)`` chunks.

    Blocks are checked (finite), normalised for ``cosine`` (their lengths kept as the
    index's ``norms``) and added; ``rows_hint`` sizes the storage up front when known.
    ``manifest`` entries are added to the in-memory manifest.
    """
    if metric not in METRICS:
        raise ConfigError("metric", metric, "one of " + ", ".join(METRICS))
    index = flat_index(dim, metric)
    if rows_hint:
        reserve_rows(index, rows_hint)
    tokens: list[str] = []
    norm_parts: list[np.ndarray] = []
    for chunk_tokens, block in chunks:
        block = np.ascontiguousarray(block, dtype=np.float32)
        if metric == "cosine":
            # einsum: no (n, dim) temporary, unlike np.linalg.norm
            norm_parts.append(np.sqrt(np.einsum("ij,ij->i", block, block)))
        prepare(block, metric, np.arange(len(tokens), len(tokens) + len(block)), source)
        index.add(block)
        tokens.extend(chunk_tokens)
    if not tokens:
        raise ArtifactError(source, "holds no vectors")
    norms = np.concatenate(norm_parts) if norm_parts else None
    full_manifest = {
        "kind": INDEX_KIND,
        "factory": "Flat",
        "metric": metric,
        "normalized": metric == "cosine",
        "exact": True,
        "dim": dim,
        "search_params": {},
        "in_memory": True,
        **(manifest or {}),
    }
    return WordIndex(
        index,
        tokens,
        metric=metric,
        manifest=full_manifest,
        path=path,
        counts=counts,
        norms=norms,
    )


def exact_index_from_file(
    path: str | Path, options: VectorFileOptions | None = None, *, metric: str = "cosine"
) -> WordIndex:
    """An exact in-memory index over the vector file at ``path`` (streamed in chunks)."""
    path = Path(path)
    file_fp = fingerprint(path)
    reader = VectorFileReader(path, options)
    rows_hint = reader.format.header_count or count_lines(path, reader.format.data_start)
    index = exact_index_from_chunks(
        reader.chunks(), dim=reader.dim, metric=metric, rows_hint=rows_hint, path=path, source=path
    )
    index.counts = np.zeros(len(index), dtype=np.int64)
    index.manifest["source_file"] = source_file_entry(reader.report(), file_fp)
    return index


def from_keyed_vectors(kv: Any, *, metric: str = "cosine") -> WordIndex:
    """An exact in-memory `WordIndex` over ``kv``'s keys (as strings) and vectors."""
    keys = getattr(kv, "index_to_key", None)
    vectors = getattr(kv, "vectors", None)
    if keys is None or not isinstance(vectors, np.ndarray) or vectors.ndim != 2:
        raise ConfigError("kv", type(kv).__name__, "a gensim KeyedVectors (index_to_key, vectors)")
    tokens = [str(key) for key in keys]
    if len(tokens) != len(vectors):
        raise ConfigError("kv", f"{len(tokens)} keys", f"one key per vector ({len(vectors)})")
    if len(set(tokens)) != len(tokens):
        raise ConfigError("kv", "keys that repeat as strings", "distinct keys")
    counts = _counts(kv, len(tokens))
    return exact_index_from_chunks(
        _chunks(tokens, vectors),
        dim=int(vectors.shape[1]),
        metric=metric,
        rows_hint=len(tokens),
        manifest={"source_keyed_vectors": {"vectors": len(tokens), "dim": int(vectors.shape[1])}},
        counts=counts,
        source="KeyedVectors",
    )


KEYED_CHUNK_ROWS = 65_536


def _chunks(tokens: list[str], vectors: np.ndarray) -> Iterator[tuple[list[str], np.ndarray]]:
    for start in range(0, len(tokens), KEYED_CHUNK_ROWS):
        stop = start + KEYED_CHUNK_ROWS
        yield tokens[start:stop], np.array(vectors[start:stop], dtype=np.float32)


def _counts(kv: Any, rows: int) -> np.ndarray | None:
    counts = getattr(kv, "expandos", {}).get("count")
    if counts is None or len(counts) != rows:
        return None
    return np.asarray(counts, dtype=np.int64)
