"""Reading a (possibly memory-mapped) vector table in bounded chunks, ready for FAISS.

A 1M × 300 float32 table is 1.2 GB. Index builds read it chunk by chunk from the
memory-mapped ``embeddings.npy``: each chunk is copied, checked, normalised and handed to
FAISS, and the mapped pages it came from are released again, so the process never holds
the table twice (once in the index, once as resident file pages).

>>> for start, block in iter_prepared_chunks(vectors, metric="cosine", rows=65536):
...     index.add(block)                                              # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import mmap
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from pipelines.errors import ArtifactError


def iter_row_chunks(vectors: np.ndarray, rows: int) -> Iterator[tuple[int, np.ndarray]]:
    """Yield ``(start, block)``: float32 copies of ``vectors[start:start + rows]`` in order."""
    total = int(vectors.shape[0])
    for start in range(0, total, rows):
        stop = min(total, start + rows)
        block = np.array(vectors[start:stop], dtype=np.float32, order="C", copy=True)
        release_pages(vectors, start, stop)
        yield start, block


def release_pages(vectors: np.ndarray, start: int, stop: int) -> None:
    """Drop the resident file pages behind rows ``start:stop`` of a memory-mapped table.

    The data stays in the file (and the OS page cache); the rows are simply read again if
    touched again. A no-op for arrays that are not memory maps.
    """
    base = getattr(vectors, "_mmap", None)
    if not isinstance(base, mmap.mmap) or not hasattr(base, "madvise") or stop <= start:
        return
    if len(base) == 0:
        return
    map_start_address = np.frombuffer(base, dtype=np.uint8, count=1).ctypes.data
    row_bytes = int(vectors.strides[0])
    first = vectors.ctypes.data + start * row_bytes - map_start_address
    last = vectors.ctypes.data + stop * row_bytes - map_start_address
    first -= first % mmap.PAGESIZE
    with contextlib.suppress(OSError, ValueError):
        base.madvise(mmap.MADV_DONTNEED, first, min(last, len(base)) - first)


def normalize_rows(block: np.ndarray) -> int:
    """L2-normalise the rows of ``block`` in place; returns how many rows were all zero.

    Zero rows stay zero (their cosine with anything is 0) instead of becoming NaN.
    """
    norms = np.linalg.norm(block, axis=1)
    zero = norms == 0
    norms[zero] = 1.0
    block /= norms[:, None]
    return int(zero.sum())


def check_finite(block: np.ndarray, start: int, source: str | Path) -> None:
    """Raise `ArtifactError` naming the first row of ``block`` holding NaN or infinity."""
    bad = ~np.isfinite(block).all(axis=1)
    if bad.any():
        row = start + int(np.flatnonzero(bad)[0])
        raise ArtifactError(source, f"vector of row {row} holds NaN or infinity")


def prepare(block: np.ndarray, metric: str, start: int, source: str | Path) -> int:
    """Check ``block`` and, for the cosine metric, normalise it; returns zero-row count."""
    check_finite(block, start, source)
    if metric == "cosine":
        return normalize_rows(block)
    return int((~block.any(axis=1)).sum())


def iter_prepared_chunks(
    vectors: np.ndarray, *, metric: str, rows: int, source: str | Path = "vectors"
) -> Iterator[tuple[int, np.ndarray]]:
    """`iter_row_chunks`, each block checked and (for cosine) normalised."""
    for start, block in iter_row_chunks(vectors, rows):
        prepare(block, metric, start, source)
        yield start, block


def take_rows(vectors: np.ndarray, ids: np.ndarray, metric: str, source: str | Path) -> np.ndarray:
    """Prepared float32 copies of the rows ``ids`` (any order, repeats allowed)."""
    ids = np.asarray(ids, dtype=np.int64)
    order = np.argsort(ids, kind="stable")
    block = np.empty((len(ids), vectors.shape[1]), dtype=np.float32)
    # Sorted reads walk the memory map forwards instead of seeking back and forth.
    block[order] = np.asarray(vectors[ids[order]], dtype=np.float32)
    bad = ~np.isfinite(block).all(axis=1)
    if bad.any():
        raise ArtifactError(source, f"vector of row {int(ids[bad][0])} holds NaN or infinity")
    prepare(block, metric, 0, source)
    return block
