"""2-D PCA of a handful of vectors, for the explorer's map (computed server-side).

>>> coords, ratio = pca_2d(np.array([[1.0, 0, 0], [0, 1, 0], [0, 0, 1], [1, 1, 0]]))
>>> coords.shape, round(float(ratio.sum()), 3) <= 1.0
((4, 2), True)
"""

from __future__ import annotations

import numpy as np


def pca_2d(vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Project float (n, d) ``vectors`` on their first two principal components.

    Returns ``(coords, explained)``: float64 (n, 2) coordinates (centred; each axis's sign
    fixed so its largest loading is positive, for stable pictures) and the share of the
    variance each axis explains, shape (2,). Fewer than 2 usable axes give zero columns.
    """
    x = np.asarray(vectors, dtype=np.float64)
    if x.ndim != 2 or len(x) == 0:
        raise ValueError(f"expected a non-empty (n, d) array, got shape {x.shape}")
    centred = x - x.mean(axis=0)
    u, s, vt = np.linalg.svd(centred, full_matrices=False)
    coords = np.zeros((len(x), 2))
    explained = np.zeros(2)
    total = float((s**2).sum())
    for axis in range(min(2, len(s))):
        sign = 1.0 if vt[axis][np.argmax(np.abs(vt[axis]))] >= 0 else -1.0
        coords[:, axis] = sign * u[:, axis] * s[axis]
        explained[axis] = s[axis] ** 2 / total if total > 0 else 0.0
    return coords, explained
