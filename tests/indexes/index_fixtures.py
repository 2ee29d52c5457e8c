"""Model directories built from seeded vectors with known structure, for the index tests.

Imported by the test modules (``from index_fixtures import ...``) and by conftest.py.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from embedrec.core.artifacts import write_manifest
from embedrec.engine.skipgram.files import write_embeddings
from embedrec.pipelines.text.dataset import Vocabulary


def write_model(directory: Path, vectors: np.ndarray, tokens: Sequence[str]) -> Path:
    """A skip-gram model directory as the trainer writes it (counts falling with the id)."""
    counts = np.arange(len(tokens), 0, -1, dtype=np.int64) * 10
    write_embeddings(
        directory, np.asarray(vectors, dtype=np.float32), Vocabulary(list(tokens), counts)
    )
    write_manifest(
        directory,
        kind="skipgram-model",
        config={"dim": int(vectors.shape[1])},
        counts={"vocab_size": len(tokens)},
    )
    return directory


def unit(x: np.ndarray) -> np.ndarray:
    return x / np.linalg.norm(x, axis=-1, keepdims=True)


def planted_analogies(seed: int = 0, dim: int = 64, pairs: int = 8, distractors: int = 150):
    """Countries c_i and capitals normalise(c_i + r) for one shared offset r, plus noise words.

    Returns ``(vectors, tokens, pairs)`` with ``pairs`` = [(country, capital), ...], so for
    any two pairs (a, b), (c, d): a is to b as c is to d, by construction.
    """
    rng = np.random.default_rng(seed)
    offset = unit(rng.standard_normal(dim))
    countries = unit(rng.standard_normal((pairs, dim)))
    capitals = unit(countries + offset + 0.02 * rng.standard_normal((pairs, dim)))
    noise = unit(rng.standard_normal((distractors, dim)))
    vectors = np.vstack([countries, capitals, noise]).astype(np.float32)
    # Lengths vary like trained vectors do; cosine search must not care.
    vectors *= rng.uniform(0.5, 3.0, size=(len(vectors), 1)).astype(np.float32)
    tokens = (
        [f"country{i}" for i in range(pairs)]
        + [f"capital{i}" for i in range(pairs)]
        + [f"noise{i}" for i in range(distractors)]
    )
    return vectors, tokens, [(f"country{i}", f"capital{i}") for i in range(pairs)]


def brute_force(
    vectors: np.ndarray, queries: np.ndarray, k: int, exclude: Sequence[int] | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Exact cosine top-k in float64, row ``exclude[i]`` left out for query i."""
    x = unit(vectors.astype(np.float64))
    q = unit(queries.astype(np.float64))
    scores = q @ x.T
    if exclude is not None:
        scores[np.arange(len(q)), np.asarray(exclude)] = -np.inf
    ids = np.argsort(-scores, axis=1, kind="stable")[:, :k]
    return np.take_along_axis(scores, ids, axis=1), ids
