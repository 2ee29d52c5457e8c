"""Exact in-memory indexes filled from vectors that arrive in chunks (a file, a gensim
``KeyedVectors``), holding the table once: in the index, sized up front.

>>> chunks = [(["cat", "dog"], np.array([[1, 0], [0, 2]], dtype=np.float32))]
>>> index = exact_index_from_chunks(chunks, dim=2, manifest={"source": "doctest"})
>>> index.tokens, index.norms.tolist(), index.similarity("cat", "dog")
(['cat', 'dog'], [1.0, 2.0], 0.0)
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from indexes.config import METRICS
from indexes.faiss_support import flat_index, reserve_rows
from indexes.index_dir import INDEX_KIND
from indexes.vector_chunks import prepare
from indexes.word_index import WordIndex
from pipelines.errors import ArtifactError, ConfigError


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
