"""Conversion between a `WordIndex` and gensim's ``KeyedVectors`` (gensim is optional).

`to_keyed_vectors` gives the words in row order with their vectors as they were before
indexing (a cosine index keeps each vector's length in ``norms``; stored vectors are
decoded for quantised kinds) and their counts when the index knows them.
`embedrec.indexes.from_keyed_vectors` builds an exact in-memory index over a
``KeyedVectors`` without importing gensim (any object with ``index_to_key`` and
``vectors`` will do).

>>> from gensim.models import KeyedVectors
>>> kv = KeyedVectors(2)
>>> kv.add_vectors(["cat", "dog", "emu"], np.array([[1, 0], [4, 3], [0, 2]], dtype=np.float32))
>>> from embedrec.indexes import from_keyed_vectors
>>> index = from_keyed_vectors(kv)
>>> index.most_similar("cat", topn=1), kv.most_similar("cat", topn=1)
([ScoredWord(token='dog', score=0.800000011920929)], [('dog', 0.800000011920929)])
>>> to_keyed_vectors(index).vectors.tolist() == kv.vectors.tolist()
True
"""

from __future__ import annotations

from typing import Any

import numpy as np

from embedrec.indexes.errors import MissingDependencyError

# A `WordIndex`; not imported, because `word_index` imports this module.
Searchable = Any

CHUNK_ROWS = 65_536


def to_keyed_vectors(index: Searchable) -> Any:
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
