"""A 2-D PCA picture of chosen words: the quick look at whether an embedding makes sense.

Vectors are L2-normalised (the cosine geometry neighbours use), centred, and projected on
their first two principal axes (numpy SVD). Drawn with matplotlib's Agg canvas (no display,
no pyplot state) and written atomically.

>>> plot = plot_pca("models/wiki", ["king", "queen", "man", "woman"], "kq.png")  # doctest: +SKIP
>>> plot.points.shape, plot.explained_variance_ratio  # doctest: +SKIP
((4, 2), (0.52, 0.31))
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from embedrec.core.artifacts import atomic_path
from embedrec.core.errors import ConfigError
from embedrec.engine.skipgram.files import Embeddings
from embedrec.indexes.vector_source import open_vectors
from embedrec.indexes.vocab_lookup import VocabLookup
from embedrec.indexes.word_index import WordIndex


@dataclass(frozen=True)
class PcaPlot:
    """Where the picture went and what it shows: ``points`` float (n, 2), one per word."""

    path: Path
    words: list[str]
    points: np.ndarray
    explained_variance_ratio: tuple[float, float]


def pca_2d(vectors: np.ndarray) -> tuple[np.ndarray, tuple[float, float]]:
    """Project (n, d) ``vectors`` on their first two principal axes.

    Returns ``(points (n, 2), explained variance ratio of the two axes)``; an axis the data
    does not have (n < 3 or d < 2) is all zeros.
    """
    centred = vectors - vectors.mean(axis=0)
    u, s, _ = np.linalg.svd(centred, full_matrices=False)
    points = np.zeros((len(vectors), 2))
    width = min(2, len(s))
    points[:, :width] = u[:, :width] * s[:width]
    variance = s**2
    total = variance.sum()
    ratio = [float(v / total) if total > 0 else 0.0 for v in variance[:2]]
    ratio += [0.0] * (2 - len(ratio))
    return points, (ratio[0], ratio[1])


def plot_pca(
    index_or_model: WordIndex | Embeddings | str | Path,
    words: Sequence[str],
    out_png: str | Path,
    *,
    title: str | None = None,
) -> PcaPlot:
    """Write a labelled 2-D PCA scatter of ``words``' vectors to ``out_png``.

    Raises `UnknownWordError` for a word not in the vocabulary, `ConfigError` for fewer
    than two distinct words or an output name not ending in ``.png``.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    out = Path(out_png)
    if out.suffix.lower() != ".png":
        raise ConfigError("out", str(out), "a file name ending in .png")
    unique = list(dict.fromkeys(words))
    if len(unique) < 2:
        raise ConfigError("words", list(words), "at least two different words")
    source = open_vectors(index_or_model)
    find = source.id if isinstance(source, WordIndex) else VocabLookup(source.tokens).id
    ids = np.array([find(word) for word in unique], dtype=np.int64)
    vectors = source.rows(ids).astype(np.float64)
    vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), np.finfo(float).tiny)
    points, ratio = pca_2d(vectors)

    figure = Figure(figsize=(8, 6), dpi=100, layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    axes.scatter(points[:, 0], points[:, 1], s=24, color="tab:blue")
    for (x, y), word in zip(points, unique, strict=True):
        axes.annotate(word, (x, y), xytext=(4, 4), textcoords="offset points", fontsize=10)
    axes.set_xlabel(f"PC1 ({ratio[0]:.0%} of variance)")
    axes.set_ylabel(f"PC2 ({ratio[1]:.0%} of variance)")
    axes.set_title(title or f"PCA of {len(unique)} word vectors")
    axes.grid(True, alpha=0.3)
    with atomic_path(out) as tmp:
        figure.savefig(tmp, format="png")
    return PcaPlot(path=out, words=unique, points=points, explained_variance_ratio=ratio)
