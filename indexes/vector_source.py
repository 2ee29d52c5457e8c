"""One view over "a model or an index" for evaluation and plots: tokens and vectors by row.

A model directory gives its full-precision vectors straight from the memory map (no index
is built); an index gives the vectors as it stores them (decoded for quantised kinds).

>>> source = open_vectors("models/wiki")                              # doctest: +SKIP
>>> source.rows([0, 1]).shape  # doctest: +SKIP
(2, 100)
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

from embedrec.engine.skipgram.files import EMBEDDINGS_FILE, Embeddings, load_embeddings
from embedrec.indexes.index_dir import INDEX_KIND, artifact_kind, load_index
from embedrec.indexes.vector_chunks import iter_row_chunks, take_rows
from embedrec.indexes.word_index import WordIndex


class VectorSource(Protocol):
    """Tokens with a vector per row (row i = token i)."""

    @property
    def tokens(self) -> list[str]: ...

    @property
    def dim(self) -> int: ...

    def __len__(self) -> int: ...

    def rows(self, ids: np.ndarray | Sequence[int]) -> np.ndarray:
        """float32 (n, dim) vectors of row ``ids``."""
        ...

    def iter_rows(
        self, stop: int | None = None, chunk_rows: int = ...
    ) -> Iterator[tuple[int, np.ndarray]]:
        """``(start, block)`` over rows ``0:stop``; blocks may be read-only views."""
        ...


class ModelVectors:
    """A model directory's vectors as a `VectorSource` (memory-mapped, read in chunks)."""

    def __init__(self, model: Embeddings, source: str | Path = "embeddings") -> None:
        self._model = model
        self._source = source

    @property
    def tokens(self) -> list[str]:
        return self._model.tokens

    @property
    def dim(self) -> int:
        return self._model.dim

    def __len__(self) -> int:
        return len(self._model)

    def rows(self, ids: np.ndarray | Sequence[int]) -> np.ndarray:
        return take_rows(self._model.vectors, np.asarray(ids), "ip", self._source)

    def iter_rows(
        self, stop: int | None = None, chunk_rows: int = 65_536
    ) -> Iterator[tuple[int, np.ndarray]]:
        return iter_row_chunks(self._model.vectors, chunk_rows, stop)


def open_vectors(index_or_model: WordIndex | Embeddings | str | Path) -> VectorSource:
    """A `VectorSource` over a `WordIndex`, loaded `Embeddings`, or a MODEL|INDEX path
    (or a word2vec / GloVe / fastText vector file, read into an exact index)."""
    if isinstance(index_or_model, WordIndex):
        return index_or_model
    if isinstance(index_or_model, Embeddings):
        return ModelVectors(index_or_model)
    path = Path(index_or_model)
    if path.is_file() or artifact_kind(path) == INDEX_KIND:
        return load_index(path)
    return ModelVectors(load_embeddings(path), path / EMBEDDINGS_FILE)
