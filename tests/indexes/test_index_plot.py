"""PCA plot: a real, non-blank PNG of the chosen words, and clear errors."""

from __future__ import annotations

import numpy as np
import pytest
from index_fixtures import planted_analogies, unit

from embedrec.core.errors import ConfigError
from embedrec.indexes import UnknownWordError, load_index, plot_pca
from embedrec.indexes.plot import pca_2d


def test_png_is_written_and_not_blank(make_model, tmp_path):
    import matplotlib.image

    vectors, tokens, _ = planted_analogies()
    words = ["country0", "capital0", "country1", "capital1", "noise3", "noise4"]
    out = tmp_path / "plots" / "pca.png"
    plot = plot_pca(make_model(vectors, tokens), words, out, title="countries")
    assert plot.path == out and plot.words == words and plot.points.shape == (6, 2)
    pixels = matplotlib.image.imread(out)
    assert pixels.shape[0] >= 400 and pixels.shape[1] >= 600
    assert pixels[..., :3].var() > 1e-3  # points, labels and axes, not a blank canvas
    assert sorted(p.name for p in out.parent.iterdir()) == ["pca.png"]  # no temp files left


def test_pca_projection_matches_numpy_svd_up_to_sign():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((7, 5)) * np.array([5.0, 3.0, 1.0, 0.1, 0.1])
    points, ratio = pca_2d(x)
    centred = x - x.mean(axis=0)
    _, s, vt = np.linalg.svd(centred)
    expected = centred @ vt[:2].T
    np.testing.assert_allclose(np.abs(points), np.abs(expected), atol=1e-9)
    assert ratio == pytest.approx(tuple(s[:2] ** 2 / (s**2).sum()))
    two, ratio_two = pca_2d(x[:2])  # two points span one axis; the second is empty
    np.testing.assert_allclose(two[:, 1], 0, atol=1e-12)
    assert ratio_two[1] == pytest.approx(0, abs=1e-12)


def test_index_and_model_give_the_same_points(make_model, tmp_path):
    vectors, tokens, _ = planted_analogies(seed=2)
    model = make_model(vectors, tokens)
    words = ["country2", "capital2", "noise1"]
    from_model = plot_pca(model, words, tmp_path / "a.png")
    from_index = plot_pca(load_index(model), words, tmp_path / "b.png")
    np.testing.assert_allclose(from_model.points, from_index.points, atol=1e-5)
    direct, _ = pca_2d(unit(vectors[[tokens.index(w) for w in words]].astype(np.float64)))
    np.testing.assert_allclose(np.abs(from_model.points), np.abs(direct), atol=1e-5)


def test_errors(make_model, tmp_path):
    vectors, tokens, _ = planted_analogies()
    model = make_model(vectors, tokens)
    with pytest.raises(UnknownWordError, match="xyzzy"):
        plot_pca(model, ["country0", "xyzzy"], tmp_path / "x.png")
    with pytest.raises(ConfigError, match="two different words"):
        plot_pca(model, ["country0", "country0"], tmp_path / "x.png")
    with pytest.raises(ConfigError, match=r"\.png"):
        plot_pca(model, ["country0", "country1"], tmp_path / "x.jpg")
    assert not (tmp_path / "x.png").exists()
