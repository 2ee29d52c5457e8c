"""Reading a (possibly memory-mapped) vector table in bounded pieces, ready for FAISS.

A 1M × 300 float32 table is 1.2 GB. Index builds read the model's memory-mapped
``embeddings.npy`` chunk by chunk (or a seeded sample of rows): each piece is copied,
checked, normalised and handed to FAISS, so the process holds the table once, in the index.

Pieces of a memory-mapped ``.npy`` are read with plain file reads at the row's offset, not
through the mapping: touching a mapping leaves its pages resident in this process (recent
kernels map whole large folios per fault, ~300 kB for one 400-byte row), which would
count a second copy of the table against the process after one pass. File reads go through
the OS page cache, which the kernel can drop at will.

>>> for start, block in iter_prepared_chunks(vectors, metric="cosine", rows=65536):
...     index.add(block)                                              # doctest: +SKIP
"""

from __future__ import annotations

import mmap
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from embedrec.core.errors import ArtifactError


@dataclass(frozen=True)
class _NpyLayout:
    path: str
    data_offset: int
    row_bytes: int
    dtype: np.dtype
    dim: int


def _npy_layout(vectors: np.ndarray) -> _NpyLayout | None:
    """Where the rows of a memory-mapped, C-ordered ``.npy`` lie in its file, else None."""
    filename = getattr(vectors, "filename", None)
    if not isinstance(vectors, np.memmap) or not filename or vectors.ndim != 2:
        return None
    try:
        with open(filename, "rb") as handle:
            version = np.lib.format.read_magic(handle)
            if version == (1, 0):
                shape, fortran, dtype = np.lib.format.read_array_header_1_0(handle)
            else:
                shape, fortran, dtype = np.lib.format.read_array_header_2_0(handle)
            data_offset = handle.tell()
    except (OSError, ValueError):
        return None
    # Only the whole mapped array qualifies (its base is the mapping itself); a view of it
    # starts elsewhere in the file.
    if fortran or tuple(shape) != vectors.shape or dtype != vectors.dtype:
        return None
    if not isinstance(vectors.base, mmap.mmap):
        return None
    return _NpyLayout(
        str(filename), data_offset, int(vectors.strides[0]), np.dtype(dtype), vectors.shape[1]
    )


def read_rows(vectors: np.ndarray, start: int, stop: int) -> np.ndarray:
    """float32 copy of ``vectors[start:stop]`` (by file read for a memory-mapped .npy)."""
    layout = _npy_layout(vectors)
    if layout is None:
        return np.array(vectors[start:stop], dtype=np.float32, order="C", copy=True)
    count = max(0, stop - start)
    block = np.fromfile(
        layout.path,
        dtype=layout.dtype,
        count=count * layout.dim,
        offset=layout.data_offset + start * layout.row_bytes,
    )
    return block.reshape(count, layout.dim).astype(np.float32, copy=False)


def iter_row_chunks(
    vectors: np.ndarray, rows: int, stop: int | None = None
) -> Iterator[tuple[int, np.ndarray]]:
    """Yield ``(start, block)``: float32 copies of rows ``start:start + rows`` up to ``stop``."""
    total = int(vectors.shape[0]) if stop is None else min(stop, int(vectors.shape[0]))
    for start in range(0, total, rows):
        yield start, read_rows(vectors, start, min(total, start + rows))


def normalize_rows(block: np.ndarray) -> int:
    """L2-normalise the rows of ``block`` in place; returns how many rows were all zero.

    Zero rows stay zero (their cosine with anything is 0) instead of becoming NaN.
    """
    norms = np.linalg.norm(block, axis=1)
    zero = norms == 0
    norms[zero] = 1.0
    block /= norms[:, None]
    return int(zero.sum())


def check_finite(block: np.ndarray, row_ids: np.ndarray, source: str | Path) -> None:
    """Raise `ArtifactError` naming the first row of ``block`` holding NaN or infinity."""
    bad = ~np.isfinite(block).all(axis=1)
    if bad.any():
        row = int(row_ids[np.flatnonzero(bad)[0]])
        raise ArtifactError(source, f"vector of row {row} holds NaN or infinity")


def prepare(block: np.ndarray, metric: str, row_ids: np.ndarray, source: str | Path) -> int:
    """Check ``block`` and, for the cosine metric, normalise it; returns zero-row count."""
    check_finite(block, row_ids, source)
    if metric == "cosine":
        return normalize_rows(block)
    return int((~block.any(axis=1)).sum())


def iter_prepared_chunks(
    vectors: np.ndarray,
    *,
    metric: str,
    rows: int,
    source: str | Path = "vectors",
    norms: np.ndarray | None = None,
) -> Iterator[tuple[int, np.ndarray]]:
    """`iter_row_chunks`, each block checked and (for cosine) normalised.

    ``norms``: a (V,) array to fill with each row's length before it is normalised.
    """
    for start, block in iter_row_chunks(vectors, rows):
        if norms is not None:
            norms[start : start + len(block)] = np.sqrt(np.einsum("ij,ij->i", block, block))
        prepare(block, metric, np.arange(start, start + len(block)), source)
        yield start, block


def take_rows(vectors: np.ndarray, ids: np.ndarray, metric: str, source: str | Path) -> np.ndarray:
    """Prepared float32 copies of the rows ``ids`` (any order, repeats allowed)."""
    ids = np.asarray(ids, dtype=np.int64)
    block = _gather(vectors, ids)
    prepare(block, metric, ids, source)
    return block


def _gather(vectors: np.ndarray, ids: np.ndarray) -> np.ndarray:
    layout = _npy_layout(vectors)
    if layout is None:
        return np.array(vectors[ids], dtype=np.float32, order="C", copy=True)
    if len(ids) and (ids.min() < 0 or ids.max() >= vectors.shape[0]):
        raise IndexError(f"row ids out of range 0..{vectors.shape[0] - 1}")
    unique, inverse = np.unique(ids, return_inverse=True)
    rows = np.empty((len(unique), layout.dim), dtype=layout.dtype)
    buffer = rows.reshape(-1).view(np.uint8)
    # Consecutive ids are read in one call; a sample of a large table is mostly single rows.
    breaks = np.flatnonzero(np.diff(unique) != 1) + 1
    starts = np.r_[0, breaks]
    stops = np.r_[breaks, len(unique)]
    fd = os.open(layout.path, os.O_RDONLY)
    try:
        for first, last in zip(starts.tolist(), stops.tolist(), strict=True):
            size = (last - first) * layout.row_bytes
            position = layout.data_offset + int(unique[first]) * layout.row_bytes
            view = buffer[first * layout.row_bytes : last * layout.row_bytes].data
            if os.preadv(fd, [view], position) != size:
                raise ArtifactError(layout.path, "is shorter than its header says")
    finally:
        os.close(fd)
    return rows[inverse].astype(np.float32, copy=False)
