"""`WordIndex`: a FAISS index with its vocabulary, answering neighbours and analogies.

Open one with `load_index` (an index directory, or a model directory for which an exact
index is built in memory). Scores are cosine similarities for the ``cosine`` metric, inner
products for ``ip`` and squared L2 distances (smaller is nearer) for ``l2``.

>>> index = load_index("indexes/wiki")                                # doctest: +SKIP
>>> index.neighbors("shark", k=3)  # doctest: +SKIP
[ScoredWord(token='sharks', score=0.79), ScoredWord(token='whale', score=0.71), ...]
>>> index.analogy("italy", "rome", "germany", k=1)  # italy : rome :: germany : ?  # doctest: +SKIP
[ScoredWord(token='berlin', score=0.74)]
>>> index.most_similar(positive=["rome", "germany"], negative=["italy"], topn=1)  # doctest: +SKIP
[ScoredWord(token='berlin', score=0.74)]

gensim's query verbs (`most_similar`, `similarity`, `doesnt_match`, `n_similarity`) and the
conversions to and from a gensim ``KeyedVectors`` live in `embedrec.indexes.gensim_verbs` and
`embedrec.indexes.keyed_vectors`; the methods here are their front door. The examples here are
skipped under doctest (they need a trained index on disk); `embedrec.indexes.gensim_verbs`,
`embedrec.indexes.in_memory` and `embedrec.indexes.keyed_vectors` have runnable ones.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, overload

import numpy as np

from embedrec.core.errors import ConfigError
from embedrec.indexes.faiss_support import higher_is_better, stored_range, stored_vectors
from embedrec.indexes.scored import ScoredWord
from embedrec.indexes.vector_chunks import normalize_rows
from embedrec.indexes.vocab_lookup import VocabLookup

if TYPE_CHECKING:
    from embedrec.indexes.gensim_verbs import Key

log = logging.getLogger(__name__)

ANALOGY_METHODS = ("3cosadd", "3cosmul")
# Levy & Goldberg (2014) keep 3CosMul's denominator away from zero with ε = 0.001.
COSMUL_EPSILON = 1e-3
SCAN_ROWS = 65_536

WordOrVector = str | Sequence[float] | np.ndarray


class WordIndex:
    """A searchable FAISS index whose row ``i`` is the vector of ``tokens[i]``.

    ``index``: a filled FAISS index (search parameters already applied). ``metric``:
    ``cosine`` (stored vectors are unit length), ``ip`` or ``l2``. ``norms``: for a cosine
    index, each vector's length before normalising (None when unknown). Searches may run
    from several threads at once; FAISS reads the index without locking.
    """

    def __init__(
        self,
        index: Any,
        tokens: list[str],
        *,
        metric: str,
        manifest: dict[str, Any] | None = None,
        path: str | Path | None = None,
        counts: np.ndarray | None = None,
        norms: np.ndarray | None = None,
    ) -> None:
        if index.ntotal != len(tokens):
            raise ValueError(f"index holds {index.ntotal} vectors for {len(tokens)} tokens")
        if norms is not None and len(norms) != len(tokens):
            raise ValueError(f"{len(norms)} vector lengths for {len(tokens)} tokens")
        self.index = index
        self.metric = metric
        self.manifest = dict(manifest or {})
        self.path = None if path is None else Path(path)
        self.counts = counts
        self.norms = norms
        self._tokens = tokens
        self._lookup = VocabLookup(tokens)
        # A cosine flat index stores unit vectors that scans may read in place.
        self._stored_unit = metric == "cosine" and _is_flat(index)

    @property
    def tokens(self) -> list[str]:
        """The vocabulary, row order (the index's own list: do not modify it)."""
        return self._tokens

    @property
    def dim(self) -> int:
        return int(self.index.d)

    @property
    def factory(self) -> str:
        return str(self.manifest.get("factory", type(self.index).__name__))

    @property
    def lowercase(self) -> bool:
        """True when lookups ignore case (the vocabulary is all lower-case)."""
        return self._lookup.lowercase

    def __len__(self) -> int:
        return int(self.index.ntotal)

    def __contains__(self, word: object) -> bool:
        return word in self._lookup

    def __repr__(self) -> str:
        return f"WordIndex({len(self)} × {self.dim}, {self.factory}, {self.metric}, {self.path})"

    def id(self, word: str) -> int:
        """Row id of ``word``; raises `UnknownWordError` naming it when absent."""
        return self._lookup.id(word)

    def token(self, row: int) -> str:
        return self._tokens[row]

    def vector(self, word: str) -> np.ndarray:
        """float32 (dim,): ``word``'s vector as stored (unit length for ``cosine``)."""
        return self.rows(np.array([self.id(word)]))[0]

    def rows(self, ids: np.ndarray | Sequence[int]) -> np.ndarray:
        """float32 (n, dim) stored vectors of row ids (decoded for quantised kinds)."""
        return stored_vectors(self.index, np.asarray(ids, dtype=np.int64))

    def original_rows(self, ids: np.ndarray | Sequence[int]) -> np.ndarray:
        """float32 (n, dim) vectors as they were before indexing: the stored unit vectors
        times their lengths for a cosine index that kept them (`norms`), else `rows`."""
        ids = np.asarray(ids, dtype=np.int64)
        rows = self.rows(ids)
        if self.metric == "cosine" and self.norms is not None:
            rows *= self.norms[ids][:, None]
        return rows

    def iter_rows(
        self, stop: int | None = None, chunk_rows: int = SCAN_ROWS
    ) -> Iterator[tuple[int, np.ndarray]]:
        """Yield ``(start, block)`` of stored rows ``0:stop``; blocks may be read-only views."""
        stop = len(self) if stop is None else min(stop, len(self))
        for start in range(0, stop, chunk_rows):
            yield start, stored_range(self.index, start, min(stop, start + chunk_rows))

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Raw FAISS search of float32 (n, dim) ``queries`` (normalised here for cosine).

        Returns ``(scores, ids)``, each (n, k); id -1 where the index found fewer.
        """
        queries = np.array(queries, dtype=np.float32, order="C", copy=True, ndmin=2)
        if self.metric == "cosine":
            normalize_rows(queries)
        scores, ids = self.index.search(queries, k)
        return scores, ids

    def neighbors(self, word_or_vector: WordOrVector, k: int = 10) -> list[ScoredWord]:
        """The ``k`` nearest tokens to a word (itself excluded) or to a vector.

        >>> index.neighbors("king", k=2)                              # doctest: +SKIP
        [ScoredWord(token='queen', score=0.73), ScoredWord(token='prince', score=0.70)]
        """
        return self.neighbors_batch([word_or_vector], k)[0]

    def neighbors_batch(
        self, words_or_vectors: Sequence[WordOrVector] | np.ndarray, k: int = 10
    ) -> list[list[ScoredWord]]:
        """`neighbors` for many queries with one FAISS search call.

        ``words_or_vectors``: words, vectors of length ``dim``, or a float (n, dim) array.
        """
        queries, own_ids = self._queries(words_or_vectors)
        self._check_k(k, excluded=1 if (own_ids >= 0).any() else 0)
        scores, ids = self.search(queries, k + 1)
        return [self._answers(scores[i], ids[i], {int(own_ids[i])}, k) for i in range(len(queries))]

    def analogy(
        self, a: str, b: str, c: str, k: int = 5, method: str = "3cosadd"
    ) -> list[ScoredWord]:
        """``a`` is to ``b`` as ``c`` is to ? — the best ``k`` answers, inputs excluded.

        ``3cosadd`` searches the index for b − a + c; ``3cosmul`` (Levy & Goldberg 2014)
        scores every word x by cos'(x, b)·cos'(x, c) / (cos'(x, a) + 0.001) with cosines
        shifted to [0, 1], scanning all stored vectors exactly.
        """
        if method not in ANALOGY_METHODS:
            raise ConfigError("method", method, "one of " + ", ".join(ANALOGY_METHODS))
        ids = [self.id(a), self.id(b), self.id(c)]
        self._check_k(k, excluded=len(set(ids)))
        vectors = self.rows(ids)
        if method == "3cosadd":
            query = vectors[1] - vectors[0] + vectors[2]
            scores, found = self.search(query[None, :], k + 3)
            return self._answers(scores[0], found[0], set(ids), k)
        return self._cosmul(vectors, set(ids), k)

    def _cosmul(self, vectors: np.ndarray, exclude: set[int], k: int) -> list[ScoredWord]:
        unit = vectors.copy()
        normalize_rows(unit)
        best_scores: list[np.ndarray] = []
        best_ids: list[np.ndarray] = []
        for start, block in self.iter_rows():
            if not self._stored_unit:
                block = block.copy()
                normalize_rows(block)
            shifted = (1.0 + block @ unit.T) / 2.0
            scores = shifted[:, 1] * shifted[:, 2] / (shifted[:, 0] + COSMUL_EPSILON)
            for row in exclude:
                if start <= row < start + len(block):
                    scores[row - start] = -np.inf
            top = np.argpartition(-scores, min(k, len(scores) - 1))[: k + 1]
            best_scores.append(scores[top])
            best_ids.append(top + start)
        all_scores = np.concatenate(best_scores)
        all_ids = np.concatenate(best_ids)
        order = np.argsort(-all_scores, kind="stable")
        return [
            ScoredWord(self.token(int(i)), float(s))
            for s, i in zip(all_scores[order], all_ids[order], strict=True)
            if np.isfinite(s)
        ][:k]

    def _queries(self, items: Sequence[WordOrVector] | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if isinstance(items, np.ndarray) and items.ndim == 2:
            return self._check_vectors(items), np.full(len(items), -1, dtype=np.int64)
        if isinstance(items, str):
            items = [items]
        own_ids = np.full(len(items), -1, dtype=np.int64)
        word_rows = [i for i, item in enumerate(items) if isinstance(item, str)]
        for i in word_rows:
            own_ids[i] = self.id(items[i])  # type: ignore[arg-type]
        queries = np.empty((len(items), self.dim), dtype=np.float32)
        if word_rows:
            queries[word_rows] = self.rows(own_ids[word_rows])
        for i, item in enumerate(items):
            if not isinstance(item, str):
                queries[i] = self._check_vectors(np.asarray(item, dtype=np.float32)[None, :])[0]
        return queries, own_ids

    def _check_vectors(self, vectors: np.ndarray) -> np.ndarray:
        vectors = np.asarray(vectors, dtype=np.float32)
        if vectors.ndim != 2 or vectors.shape[1] != self.dim:
            raise ConfigError("vector", f"shape {vectors.shape[1:]}", f"{self.dim} numbers")
        if not np.isfinite(vectors).all():
            raise ConfigError("vector", "NaN or infinity", "finite numbers")
        if self.metric == "cosine" and not vectors.any(axis=1).all():
            raise ConfigError("vector", "all zeros", "a non-zero vector for cosine search")
        return vectors

    def _check_k(self, k: int, *, excluded: int) -> None:
        limit = len(self) - excluded
        if isinstance(k, bool) or not isinstance(k, int | np.integer) or not 1 <= k <= limit:
            raise ConfigError("k", k, f"an integer from 1 to {limit}")

    def _answers(
        self, scores: np.ndarray, ids: np.ndarray, exclude: set[int], k: int
    ) -> list[ScoredWord]:
        answers = [
            ScoredWord(self.token(int(i)), float(s))
            for s, i in zip(scores, ids, strict=True)
            if i >= 0 and int(i) not in exclude
        ]
        return answers[:k]

    @overload
    def most_similar(
        self,
        positive: Key | Sequence[Key] | np.ndarray | None = None,
        negative: Key | Sequence[Key] | np.ndarray | None = None,
        topn: int = 10,
        restrict_vocab: int | None = None,
    ) -> list[ScoredWord]: ...

    @overload
    def most_similar(
        self,
        positive: Key | Sequence[Key] | np.ndarray | None = None,
        negative: Key | Sequence[Key] | np.ndarray | None = None,
        *,
        topn: None,
        restrict_vocab: int | None = None,
    ) -> np.ndarray: ...

    def most_similar(
        self,
        positive: Key | Sequence[Key] | np.ndarray | None = None,
        negative: Key | Sequence[Key] | np.ndarray | None = None,
        topn: int | None = 10,
        restrict_vocab: int | None = None,
    ) -> list[ScoredWord] | np.ndarray:
        """gensim's ``most_similar``: the ``topn`` words nearest (by cosine) to the mean of
        the unit ``positive`` vectors minus the ``negative`` ones, inputs excluded.

        Items are words, vectors, or ``(word, weight)`` pairs. ``topn=None`` gives the
        cosine of every word (a float32 array); ``restrict_vocab`` searches the first N rows.

        >>> index.most_similar(["woman", "king"], ["man"], topn=1)  # doctest: +SKIP
        [ScoredWord(token='queen', score=0.71)]
        """
        from embedrec.indexes.gensim_verbs import most_similar

        return most_similar(self, positive, negative, topn, restrict_vocab)

    def similarity(self, a: str, b: str) -> float:
        """gensim's ``similarity``: the cosine of two words' vectors."""
        from embedrec.indexes.gensim_verbs import similarity

        return similarity(self, a, b)

    def n_similarity(self, words_a: Sequence[str], words_b: Sequence[str]) -> float:
        """gensim's ``n_similarity``: the cosine of the means of two lists of words."""
        from embedrec.indexes.gensim_verbs import n_similarity

        return n_similarity(self, words_a, words_b)

    def doesnt_match(self, words: Sequence[str]) -> str:
        """gensim's ``doesnt_match``: the word furthest from the mean of ``words``.

        >>> index.doesnt_match(["breakfast", "cereal", "dinner", "lunch"])  # doctest: +SKIP
        'cereal'
        """
        from embedrec.indexes.gensim_verbs import doesnt_match

        return doesnt_match(self, words)

    def to_keyed_vectors(self) -> Any:
        """A gensim ``KeyedVectors`` holding these words and their original vectors."""
        from embedrec.indexes.keyed_vectors import to_keyed_vectors

        return to_keyed_vectors(self)

    @property
    def higher_is_better(self) -> bool:
        """True when larger scores are nearer (cosine, ip); False for l2 distances."""
        return higher_is_better(self.metric)


def _is_flat(index: Any) -> bool:
    import faiss

    return isinstance(index, faiss.IndexFlat)
