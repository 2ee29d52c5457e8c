"""The few FAISS calls the package shares: create from a factory string, search parameters,
giving stored vectors back. FAISS is imported here, inside functions, never at package import.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from embedrec.core.errors import ConfigError
from embedrec.indexes.errors import IndexBuildError, faiss_message


def faiss_metric(metric: str) -> int:
    """FAISS metric constant: inner product for ``cosine`` (on unit vectors) and ``ip``."""
    import faiss

    return faiss.METRIC_L2 if metric == "l2" else faiss.METRIC_INNER_PRODUCT


def higher_is_better(metric: str) -> bool:
    """True for similarities (cosine, ip), False for distances (l2)."""
    return metric != "l2"


def create_index(factory: str, dim: int, metric: str) -> Any:
    """``faiss.index_factory`` with a readable `ConfigError` for a string FAISS rejects."""
    import faiss

    try:
        return faiss.index_factory(dim, factory, faiss_metric(metric))
    except RuntimeError as exc:
        raise ConfigError(
            "kind",
            factory,
            "auto, flat, hnsw, ivf-flat, ivf-pq, fp16, sq8 or a FAISS factory string such as "
            f"'IVF256,PQ20' (FAISS: {faiss_message(exc)})",
        ) from None


def skip_polysemous_training(index: Any) -> None:
    """Turn off FAISS's default polysemous training of PQ codes.

    It only serves Hamming-filtered search (``polysemous_ht``), which is never used here, and
    costs seconds to minutes of training.
    """
    import faiss

    for part in (index, faiss.try_extract_index_ivf(index)):
        if part is not None and hasattr(part, "do_polysemous_training"):
            part.do_polysemous_training = False


def flat_index(dim: int, metric: str) -> Any:
    """An empty exact index for ``metric``."""
    import faiss

    return faiss.IndexFlat(dim, faiss_metric(metric))


def reserve_rows(index: Any, rows: int) -> None:
    """Size an empty flat-codes index's storage for ``rows`` vectors in one allocation.

    Adding in chunks otherwise regrows the storage, and each regrowth briefly holds the old
    and the new copy (measured: 719 MB instead of 419 MB for 300,000 × 300 float32). A
    sharded index sizes each shard for its range; other index types are left alone.
    """
    import faiss

    shards = getattr(index, "shards", None)
    if isinstance(shards, list):
        for shard, (start, stop) in zip(shards, index.ranges, strict=True):
            reserve_rows(shard, stop - start)
        return
    if isinstance(index, faiss.IndexFlatCodes) and index.ntotal == 0 and rows > 0:
        # std::vector keeps its capacity when it shrinks: grow once, then back to empty.
        index.codes.resize(rows * index.code_size)
        index.codes.resize(0)


def tunable_parameter(index: Any) -> str | None:
    """The search-time knob of ``index``: ``nprobe`` (IVF), ``efSearch`` (HNSW) or None."""
    import faiss

    index = _first_part(index)
    if faiss.try_extract_index_ivf(index) is not None:
        return "nprobe"
    inner = index
    while isinstance(inner, faiss.IndexPreTransform | faiss.IndexRefine):
        inner = faiss.downcast_index(inner.index if hasattr(inner, "index") else inner.base_index)
    if isinstance(inner, faiss.IndexHNSW):
        return "efSearch"
    return None


def parameter_range(index: Any, name: str, vocab_size: int) -> list[int]:
    """Values to try for ``name``, cheapest first: powers of two up to the useful maximum."""
    import faiss

    ivf = faiss.try_extract_index_ivf(_first_part(index))
    if name == "nprobe" and ivf is not None:
        top = int(ivf.nlist)
        start = 1
    else:
        top = max(16, min(4096, vocab_size))
        start = 16
    values = []
    value = start
    while value < top:
        values.append(value)
        value *= 2
    values.append(top)
    return values


def set_search_params(index: Any, params: dict[str, int]) -> None:
    """Apply stored search parameters (``{"nprobe": 16}``), also through wrapper indexes."""
    import faiss

    space = faiss.ParameterSpace()
    for name, value in params.items():
        try:
            for part in _parts(index):
                space.set_index_parameter(part, name, float(value))
        except RuntimeError as exc:
            raise IndexBuildError(
                f"cannot set search parameter {name}={value} on a "
                f"{type(index).__name__} ({faiss_message(exc)})"
            ) from None


def enable_reconstruct(index: Any) -> None:
    """Make stored vectors retrievable by id (IVF indexes need a direct map for it)."""
    import faiss

    for part in _parts(index):
        ivf = faiss.try_extract_index_ivf(part)
        if ivf is not None and ivf.direct_map.no():
            ivf.make_direct_map()


def check_reconstruct(index: Any, factory: str) -> None:
    """Word queries start from the word's stored vector; refuse index types that lose it."""
    try:
        index.reconstruct(0)
    except RuntimeError as exc:
        raise ConfigError(
            "kind",
            factory,
            "an index that can give stored vectors back, which word queries need "
            f"(FAISS: {faiss_message(exc)})",
        ) from None


def stored_vectors(index: Any, ids: np.ndarray) -> np.ndarray:
    """float32 (n, dim) vectors as the index stores them (decoded for quantised kinds)."""
    ids = np.ascontiguousarray(ids, dtype=np.int64)
    if len(ids) == 0:
        return np.empty((0, index.d), dtype=np.float32)
    return np.asarray(index.reconstruct_batch(ids), dtype=np.float32)


def stored_range(index: Any, start: int, stop: int) -> np.ndarray:
    """Rows ``start:stop`` as stored: a zero-copy view for flat indexes, decoded otherwise."""
    import faiss

    if isinstance(index, faiss.IndexFlat):
        data = faiss.rev_swig_ptr(index.get_xb(), index.ntotal * index.d)
        return data.reshape(index.ntotal, index.d)[start:stop]
    return np.asarray(index.reconstruct_n(start, stop - start), dtype=np.float32)


def _parts(index: Any) -> list[Any]:
    """The FAISS indexes behind ``index``: its shards for a `ShardedIndex`."""
    shards = getattr(index, "shards", None)
    return list(shards) if isinstance(shards, list) else [index]


def _first_part(index: Any) -> Any:
    return _parts(index)[0]
