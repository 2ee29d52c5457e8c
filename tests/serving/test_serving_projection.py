"""The explorer map's PCA against the eigenvectors of the covariance matrix."""

from __future__ import annotations

import numpy as np
import pytest

from embedrec.serving.projection import pca_2d


def test_pca_matches_covariance_eigenvectors():
    rng = np.random.default_rng(0)
    # Most variance along two known directions.
    basis = np.linalg.qr(rng.standard_normal((16, 16)))[0]
    x = rng.standard_normal((40, 16)) * np.array([5.0, 2.0] + [0.1] * 14) @ basis.T
    coords, explained = pca_2d(x)
    centred = x - x.mean(axis=0)
    values, vectors = np.linalg.eigh(np.cov(centred.T))
    top = vectors[:, ::-1][:, :2]
    expected = centred @ top
    for axis in range(2):  # equal up to each axis's sign
        sign = np.sign(expected[:, axis] @ coords[:, axis])
        np.testing.assert_allclose(coords[:, axis], sign * expected[:, axis], atol=1e-9)
    np.testing.assert_allclose(explained, values[::-1][:2] / values.sum(), rtol=1e-9)
    assert explained[0] > 0.8


def test_small_and_degenerate_inputs():
    coords, explained = pca_2d(np.ones((3, 4)))
    assert coords.shape == (3, 2) and not coords.any() and not explained.any()
    coords, _ = pca_2d(np.array([[1.0, 0.0], [0.0, 1.0]]))
    assert coords.shape == (2, 2)
    with pytest.raises(ValueError):
        pca_2d(np.zeros((0, 3)))
