"""Sharded indexes: N FAISS indexes over contiguous id ranges, searched as one.

An index too large for one file (or, later, one process) is split by row id: shard ``i``
holds rows ``ranges[i] = (start, stop)`` of the vocabulary, each shard its own index of the
same design (trained once, on a sample of all vectors, then cloned, so every IVF shard
shares one coarse quantiser). Search goes through ``faiss.IndexShards`` with
``successive_ids``: each shard answers with its local ids, offset by the rows before it,
and the per-shard top-k lists are merged. For exact kinds the merged answer equals the
unsharded index's answer.

Index directory of a sharded build::

    shard-00000-of-00004.faiss ... shard-00003-of-00004.faiss
    vocab.parquet, manifest.json   (``shards``: [{"file", "start", "stop"}, ...])

>>> ranges = shard_ranges(70_000, 4)
>>> shards = ShardedIndex.from_template(empty_trained_index, ranges)  # doctest: +SKIP
>>> shards.add(vectors)           # fills shard 0 first, then 1, ...  # doctest: +SKIP
>>> scores, ids = shards.search(queries, 10)                          # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from embedrec.core.artifacts import atomic_path
from embedrec.core.errors import ArtifactError, ConfigError
from embedrec.indexes.errors import IndexBuildError, faiss_message

MAX_SHARDS = 1024


def shard_file_name(shard: int, shards: int) -> str:
    """``shard-00002-of-00004.faiss``: the file of shard ``shard`` (0-based) of ``shards``."""
    return f"shard-{shard:05d}-of-{shards:05d}.faiss"


def shard_ranges(rows: int, shards: int) -> list[tuple[int, int]]:
    """``shards`` contiguous ``(start, stop)`` ranges covering ``rows`` ids, sizes within 1.

    >>> shard_ranges(10, 3)
    [(0, 4), (4, 7), (7, 10)]
    """
    check_shard_count(shards, rows)
    base, extra = divmod(rows, shards)
    bounds = [0]
    for i in range(shards):
        bounds.append(bounds[-1] + base + (1 if i < extra else 0))
    return [(bounds[i], bounds[i + 1]) for i in range(shards)]


def check_shard_count(shards: int, rows: int | None = None) -> None:
    """`ConfigError` unless ``shards`` is an integer from 1 to min(MAX_SHARDS, rows)."""
    limit = MAX_SHARDS if rows is None else max(1, min(MAX_SHARDS, rows))
    if isinstance(shards, bool) or not isinstance(shards, int) or not 1 <= shards <= limit:
        raise ConfigError("shards", shards, f"an integer from 1 to {limit}")


class ShardedIndex:
    """N FAISS indexes over successive id ranges behaving like one index.

    Provides what `WordIndex` and the build steps use of a FAISS index: ``d``, ``ntotal``,
    ``metric_type``, ``is_trained``, ``add`` (fills the shards in order), ``search``
    (merged by ``faiss.IndexShards``), ``reconstruct``/``reconstruct_batch``/
    ``reconstruct_n`` (routed to the shard holding each id), plus ``shards`` and ``ranges``.
    Searches may run from several threads at once, like a plain index.
    """

    def __init__(self, shards: Sequence[Any], ranges: Sequence[tuple[int, int]]) -> None:
        import faiss

        if not shards or len(shards) != len(ranges):
            raise ValueError(f"{len(shards)} shards for {len(ranges)} id ranges")
        self.shards = list(shards)  # keeps the SWIG objects alive: IndexShards does not
        self.ranges = [(int(a), int(b)) for a, b in ranges]
        for (_, stop), (next_start, _) in zip(self.ranges, self.ranges[1:], strict=False):
            if stop != next_start:
                raise ValueError(f"shard ranges are not contiguous: {self.ranges}")
        first = self.shards[0]
        self.d = int(first.d)
        self.metric_type = first.metric_type
        # successive_ids: shard i's local id j is global id starts[i] + j. Not threaded:
        # the service already searches from several threads, and a shard's worker thread
        # would serialise them.
        self._merged = faiss.IndexShards(self.d, False, True)  # type: ignore[call-arg]
        self._merged.metric_type = first.metric_type
        for shard in self.shards:
            if int(shard.d) != self.d or shard.metric_type != self.metric_type:
                raise ValueError("shards differ in dimension or metric")
            self._merged.add_shard(shard)
        self._starts = np.array([start for start, _ in self.ranges], dtype=np.int64)

    @classmethod
    def from_template(cls, template: Any, ranges: Sequence[tuple[int, int]]) -> ShardedIndex:
        """Empty shards, each a clone of ``template`` (an empty, trained index)."""
        import faiss

        if template.ntotal:
            raise ValueError("the template index must be empty")
        return cls([faiss.clone_index(template) for _ in ranges], ranges)

    @property
    def ntotal(self) -> int:
        return sum(int(shard.ntotal) for shard in self.shards)

    @property
    def is_trained(self) -> bool:
        return all(shard.is_trained for shard in self.shards)

    @property
    def capacity(self) -> int:
        return self.ranges[-1][1]

    def __repr__(self) -> str:
        kinds = type(self.shards[0]).__name__
        return f"ShardedIndex({len(self.shards)} × {kinds}, {self.ntotal} vectors × {self.d})"

    def add(self, vectors: np.ndarray) -> None:
        """Append rows in id order: each shard fills up to its range's size, then the next."""
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        done = 0
        for shard, (start, stop) in zip(self.shards, self.ranges, strict=True):
            room = (stop - start) - int(shard.ntotal)
            if room <= 0 or done == len(vectors):
                continue
            take = min(room, len(vectors) - done)
            shard.add(vectors[done : done + take])
            done += take
        if done < len(vectors):
            raise IndexBuildError(
                f"{len(vectors) - done} vectors beyond the {self.capacity} rows the shards hold"
            )

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Top-``k`` over all shards: ``(scores, ids)`` (n, k), global ids, -1 when short."""
        return self._merged.search(np.ascontiguousarray(queries, dtype=np.float32), k)

    def reconstruct(self, key: int) -> np.ndarray:
        return self.reconstruct_batch(np.array([key], dtype=np.int64))[0]

    def reconstruct_batch(self, ids: np.ndarray) -> np.ndarray:
        """float32 (n, d) stored vectors of global ids, each read from its shard."""
        ids = np.asarray(ids, dtype=np.int64)
        if ids.size and (ids.min() < 0 or ids.max() >= self.ntotal):
            raise IndexError(f"ids outside 0..{self.ntotal - 1}")
        out = np.empty((len(ids), self.d), dtype=np.float32)
        which = np.searchsorted(self._starts, ids, side="right") - 1
        for shard_no in np.unique(which):
            rows = np.nonzero(which == shard_no)[0]
            local = ids[rows] - self._starts[shard_no]
            out[rows] = self.shards[shard_no].reconstruct_batch(np.ascontiguousarray(local))
        return out

    def reconstruct_n(self, start: int, count: int) -> np.ndarray:
        return self.reconstruct_batch(np.arange(start, start + count, dtype=np.int64))

    def write(self, directory: Path) -> list[dict[str, Any]]:
        """Write each shard atomically into ``directory``; returns the manifest entries."""
        import faiss

        entries = []
        for i, (shard, (start, stop)) in enumerate(zip(self.shards, self.ranges, strict=True)):
            name = shard_file_name(i, len(self.shards))
            with atomic_path(directory / name) as tmp:
                faiss.write_index(shard, str(tmp))
            entries.append({"file": name, "start": start, "stop": stop})
        return entries


def read_sharded(directory: str | Path, entries: Sequence[dict[str, Any]]) -> ShardedIndex:
    """Open the shards a manifest's ``shards`` list names; `ArtifactError` when they disagree."""
    import faiss

    d = Path(directory)
    if not isinstance(entries, list) or not entries:
        raise ArtifactError(d, "manifest 'shards' is not a non-empty list")
    shards: list[Any] = []
    ranges: list[tuple[int, int]] = []
    expected_start = 0
    for entry in entries:
        try:
            name, start, stop = str(entry["file"]), int(entry["start"]), int(entry["stop"])
        except (KeyError, TypeError, ValueError):
            raise ArtifactError(d, f"shard entry {entry!r} lacks file/start/stop") from None
        if Path(name).name != name:
            raise ArtifactError(d, f"shard file {name!r} is not a plain file name")
        if start != expected_start or stop < start:
            raise ArtifactError(
                d, f"shard {name} covers ids {start}:{stop}, not from {expected_start}"
            )
        path = d / name
        if not path.exists():
            raise ArtifactError(d, f"has no {name} (shard {len(shards)} of {len(entries)})")
        try:
            shard = faiss.read_index(str(path))
        except RuntimeError as exc:
            reason = f"is not a readable FAISS index ({faiss_message(exc)})"
            raise ArtifactError(path, reason) from None
        if shard.ntotal != stop - start:
            raise ArtifactError(path, f"holds {shard.ntotal} vectors, manifest says {stop - start}")
        shards.append(shard)
        ranges.append((start, stop))
        expected_start = stop
    try:
        return ShardedIndex(shards, ranges)
    except ValueError as exc:
        raise ArtifactError(d, str(exc)) from None
