"""Reading vector tables in pieces: file reads of a memory-mapped .npy equal array slicing."""

from __future__ import annotations

import numpy as np
import pytest

from embedrec.core.errors import ArtifactError
from embedrec.indexes.vector_chunks import (
    iter_prepared_chunks,
    iter_row_chunks,
    normalize_rows,
    read_rows,
    take_rows,
)


@pytest.fixture
def mapped(tmp_path):
    data = np.random.default_rng(0).standard_normal((1000, 7)).astype(np.float32)
    np.save(tmp_path / "v.npy", data)
    return data, np.load(tmp_path / "v.npy", mmap_mode="r")


def test_chunks_and_samples_equal_the_array(mapped):
    data, vectors = mapped
    chunks = list(iter_row_chunks(vectors, 300))
    assert [start for start, _ in chunks] == [0, 300, 600, 900]
    np.testing.assert_array_equal(np.vstack([b for _, b in chunks]), data)
    np.testing.assert_array_equal(
        np.vstack([b for _, b in iter_row_chunks(vectors, 64, 100)]), data[:100]
    )
    np.testing.assert_array_equal(read_rows(vectors, 998, 1000), data[998:])
    ids = np.array([999, 3, 4, 5, 3, 0, 512])  # any order, repeats, runs
    np.testing.assert_array_equal(take_rows(vectors, ids, "ip", "v"), data[ids])
    # A view is not the whole file: read through numpy instead.
    np.testing.assert_array_equal(take_rows(vectors[10:], ids[1:4], "ip", "v"), data[10:][ids[1:4]])
    np.testing.assert_array_equal(take_rows(data, ids, "ip", "v"), data[ids])


def test_prepared_chunks_are_unit_length_for_cosine(mapped):
    data, vectors = mapped
    blocks = np.vstack([b for _, b in iter_prepared_chunks(vectors, metric="cosine", rows=128)])
    np.testing.assert_allclose(np.linalg.norm(blocks, axis=1), 1.0, rtol=1e-6)
    raw = np.vstack([b for _, b in iter_prepared_chunks(vectors, metric="l2", rows=128)])
    np.testing.assert_array_equal(raw, data)


def test_zero_rows_stay_zero_and_bad_rows_are_named(tmp_path):
    block = np.array([[3.0, 4.0], [0.0, 0.0]], dtype=np.float32)
    assert normalize_rows(block) == 1
    np.testing.assert_allclose(block, [[0.6, 0.8], [0.0, 0.0]])
    data = np.ones((10, 2), dtype=np.float32)
    data[6, 1] = np.inf
    np.save(tmp_path / "bad.npy", data)
    vectors = np.load(tmp_path / "bad.npy", mmap_mode="r")
    with pytest.raises(ArtifactError, match="row 6"):
        list(iter_prepared_chunks(vectors, metric="cosine", rows=4))
    with pytest.raises(ArtifactError, match="row 6"):
        take_rows(vectors, np.array([1, 6]), "cosine", "bad.npy")
