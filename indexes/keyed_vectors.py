"""Conversion between a `WordIndex` and gensim's ``KeyedVectors`` (gensim is optional).

`to_keyed_vectors` gives the words in row order with their vectors as they were before
indexing (a cosine index keeps each vector's length in ``norms``; stored vectors are
decoded for quantised kinds) and their counts when the index knows them.
`from_keyed_vectors` builds an exact in-memory index over a ``KeyedVectors`` without
importing gensim (any object with ``index_to_key`` and ``vectors`` will do).

>>> from gensim.models import KeyedVectors
>>> kv = KeyedVectors(2)
>>> kv.add_vectors(["cat", "dog", "emu"], np.array([[1, 0], [4, 3], [0, 2]], dtype=np.float32))
>>> index = from_keyed_vectors(kv)
>>> index.most_similar("cat", topn=1), kv.most_similar("cat", topn=1)
([ScoredWord(token='dog', score=0.800000011920929)], [('dog', 0.800000011920929)])
>>> to_keyed_vectors(index).vectors.tolist() == kv.vectors.tolist()
True
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import numpy as np

from indexes.errors import MissingDependencyError
from indexes.in_memory import exact_index_from_chunks
from pipelines.errors import ConfigError

if TYPE_CHECKING:
    from indexes.word_index import WordIndex

CHUNK_ROWS = 65_536


def to_keyed_vectors(index: WordIndex) -> Any:
    """A gensim ``KeyedVectors`` with the index's words, original vectors and counts.

    Raises `MissingDependencyError` when gensim is not installed.
    """
    try:
        from gensim.models import KeyedVectors
    except ImportError:
        raise MissingDependencyError("gensim", "to_keyed_vectors()") from None

    kv = KeyedVectors(index.dim, count=len(index), dtype=np.float32)
    for start, _ in index.iter_rows(chunk_rows=CHUNK_ROWS):
        ids = np.arange(start, min(len(index), start + CHUNK_ROWS))
        kv.vectors[start : start + len(ids)] = index.original_rows(ids)
    kv.index_to_key = list(index.tokens)
    kv.key_to_index = {token: i for i, token in enumerate(index.tokens)}
    kv.next_index = len(index)
    if index.counts is not None and np.any(index.counts):
        kv.allocate_vecattrs(attrs=["count"], types=[np.int64])
        kv.expandos["count"][:] = index.counts
    return kv


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


def _chunks(tokens: list[str], vectors: np.ndarray) -> Iterator[tuple[list[str], np.ndarray]]:
    for start in range(0, len(tokens), CHUNK_ROWS):
        stop = start + CHUNK_ROWS
        yield tokens[start:stop], np.array(vectors[start:stop], dtype=np.float32)


def _counts(kv: Any, rows: int) -> np.ndarray | None:
    counts = getattr(kv, "expandos", {}).get("count")
    if counts is None or len(counts) != rows:
        return None
    return np.asarray(counts, dtype=np.int64)
