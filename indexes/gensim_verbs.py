"""gensim's query verbs over any `WordIndex` (plain or sharded), with gensim's arithmetic.

=====================  =====================================================================
verb                   what it computes (as gensim 4's ``KeyedVectors`` does)
=====================  =====================================================================
``most_similar``       words nearest by cosine to q = Σ wᵢ·unit(vᵢ) (wᵢ = +1 for positive,
                       −1 for negative, or the weight of a ``(word, weight)`` pair; a raw
                       vector counts as given), the input words left out
``similarity``         cos(a, b)
``n_similarity``       cos(mean of the vectors of ws1, mean of the vectors of ws2)
``doesnt_match``       the word whose unit vector is least like the unit mean of them all
=====================  =====================================================================

Differences from gensim, on purpose: an unknown word raises `UnknownWordError` (gensim's
``doesnt_match`` and ``n_similarity`` drop it silently), an empty list raises `ConfigError`,
and answers are `ScoredWord` s, which unpack like gensim's ``(word, score)`` tuples.

How exact: ``most_similar`` on a ``cosine`` index is a FAISS search, so it is exact on exact
indexes and approximate (at the index's recall) on HNSW/IVF ones; on ``ip`` and ``l2``
indexes, with ``restrict_vocab`` or ``topn=None`` it scans every stored vector exactly.
The other verbs read the stored vectors (decoded for quantised kinds). ``n_similarity``
averages the vectors as they were before normalising, which a cosine index keeps as
``norms`` (indexes built before they were kept average the unit vectors).

>>> from embedrec.indexes.in_memory import exact_index_from_chunks
>>> vectors = np.array([[1, 0], [0.8, 0.6], [0, 1], [-1, 0]], dtype=np.float32)
>>> index = exact_index_from_chunks([(["a", "b", "c", "d"], vectors)], dim=2)
>>> [(w, round(s, 2)) for w, s in most_similar(index, positive=["a"], topn=2)]
[('b', 0.8), ('c', 0.0)]
>>> doesnt_match(index, ["a", "b", "d"]), round(similarity(index, "b", "c"), 2)
('d', 0.6)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from embedrec.core.errors import ConfigError
from embedrec.indexes.scored import ScoredWord
from embedrec.indexes.vector_chunks import normalize_rows

# A `WordIndex`; not imported, because `word_index` imports this module for its verbs.
Searchable = Any

# A word, a raw vector, or a (word or vector, weight) pair.
Key = str | np.ndarray | tuple[str | np.ndarray, float]


def most_similar(
    index: Searchable,
    positive: Key | Sequence[Key] | np.ndarray | None = None,
    negative: Key | Sequence[Key] | np.ndarray | None = None,
    topn: int | None = 10,
    restrict_vocab: int | None = None,
) -> list[ScoredWord] | np.ndarray:
    """See `Searchable.most_similar`."""
    if topn is not None:
        if isinstance(topn, bool) or not isinstance(topn, int | np.integer) or topn < 0:
            raise ConfigError("topn", topn, "an integer >= 0, or None for every word's score")
        if topn == 0:
            return []
    stop = _check_restrict(index, restrict_vocab)
    plus, minus = _as_list(positive, "positive"), _as_list(negative, "negative")
    if not plus and not minus:
        raise ConfigError("positive", positive, "at least one word or vector (or a negative)")
    items, signs = plus + minus, [1.0] * len(plus) + [-1.0] * len(minus)
    query, own_ids = _weighted_unit_mean(index, items, signs)
    if topn is None:
        return _cosines(index, query, stop)
    wanted = min(int(topn) + len(own_ids), stop)
    if index.metric == "cosine" and stop == len(index):
        scores, ids = index.search(query[None, :], wanted)
        return _answers(index, scores[0], ids[0], own_ids, int(topn))
    cosines = _cosines(index, query, stop)
    top = np.argpartition(-cosines, wanted - 1)[:wanted] if wanted < stop else np.arange(stop)
    top = top[np.argsort(-cosines[top], kind="stable")]
    return _answers(index, cosines[top], top, own_ids, int(topn))


def similarity(index: Searchable, a: str, b: str) -> float:
    """See `Searchable.similarity`."""
    vectors = index.rows([index.id(a), index.id(b)])
    return _cosine(vectors[0], vectors[1])


def n_similarity(index: Searchable, words_a: Sequence[str], words_b: Sequence[str]) -> float:
    """See `Searchable.n_similarity`."""
    means = []
    for key, words in (("words_a", words_a), ("words_b", words_b)):
        if isinstance(words, str) or not len(words):
            raise ConfigError(key, words, "a non-empty list of words")
        ids = [index.id(word) for word in words]
        means.append(index.original_rows(ids).astype(np.float64).mean(axis=0))
    return _cosine(means[0], means[1])


def doesnt_match(index: Searchable, words: Sequence[str]) -> str:
    """See `Searchable.doesnt_match`."""
    if isinstance(words, str) or not len(words):
        raise ConfigError("words", words, "a non-empty list of words")
    vectors = index.rows([index.id(word) for word in words])
    normalize_rows(vectors)
    mean = vectors.mean(axis=0)
    length = float(np.linalg.norm(mean))
    if length > 0:
        mean /= length
    distances = vectors @ mean
    return str(min(zip(distances.tolist(), list(words), strict=True))[1])


def _as_list(value: Any, key: str) -> list[Any]:
    """gensim's ``_ensure_list``: one word or vector becomes a list of one."""
    if value is None:
        return []
    if isinstance(value, str) or (isinstance(value, np.ndarray) and value.ndim == 1):
        return [value]
    if isinstance(value, np.ndarray) and value.ndim == 2:
        return list(value)
    if isinstance(value, tuple) and len(value) == 2 and isinstance(value[1], int | float):
        return [value]
    if isinstance(value, Sequence):
        return list(value)
    raise ConfigError(key, value, "a word, a vector, a (word, weight) pair or a list of them")


def _weighted_unit_mean(
    index: Searchable, items: list[Any], signs: list[float]
) -> tuple[np.ndarray, set[int]]:
    """unit(Σ wᵢ·vᵢ) with word vectors made unit length first; and the words' row ids."""
    total = np.zeros(index.dim, dtype=np.float64)
    own: set[int] = set()
    for item, sign in zip(items, signs, strict=True):
        key, weight = item, sign
        if isinstance(item, tuple):
            key, weight = item[0], float(item[1])
        if isinstance(key, str):
            row = index.id(key)
            own.add(row)
            vector = index.rows([row])
            normalize_rows(vector)
            total += weight * vector[0]
        else:
            total += weight * _check_vector(index, key)
    length = float(np.linalg.norm(total))
    query = (total / length if length > 0 else total).astype(np.float32)
    return query, own


def _check_vector(index: Searchable, key: Any) -> np.ndarray:
    try:
        vector = np.asarray(key, dtype=np.float64)
    except (TypeError, ValueError):
        raise ConfigError("positive", key, "words, vectors or (word, weight) pairs") from None
    if vector.shape != (index.dim,) or not np.isfinite(vector).all():
        shown = f"shape {vector.shape}" if vector.shape != (index.dim,) else "NaN or infinity"
        raise ConfigError("vector", shown, f"{index.dim} finite numbers")
    return vector


def _cosines(index: Searchable, query: np.ndarray, stop: int) -> np.ndarray:
    """float32 (stop,): the cosine of every stored row ``0:stop`` with unit ``query``."""
    out = np.empty(stop, dtype=np.float32)
    for start, block in index.iter_rows(stop):
        lengths = np.linalg.norm(block, axis=1)
        lengths[lengths == 0] = 1.0
        out[start : start + len(block)] = (block @ query) / lengths
    return out


def _answers(
    index: Searchable, scores: np.ndarray, ids: np.ndarray, exclude: set[int], topn: int
) -> list[ScoredWord]:

    answers = [
        ScoredWord(index.token(int(i)), float(s))
        for s, i in zip(scores, ids, strict=True)
        if i >= 0 and int(i) not in exclude
    ]
    return answers[:topn]


def _check_restrict(index: Searchable, restrict_vocab: int | None) -> int:
    if restrict_vocab is None:
        return len(index)
    value = restrict_vocab
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise ConfigError("restrict_vocab", value, f"an integer from 1 to {len(index)}, or None")
    return min(int(value), len(index))


def _cosine(a: np.ndarray, b: np.ndarray) -> float:
    lengths = float(np.linalg.norm(a)) * float(np.linalg.norm(b))
    return float(np.dot(a, b) / lengths) if lengths > 0 else 0.0
