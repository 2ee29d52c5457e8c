"""Input files cut into partitions of whole lines, so one big log is parsed in parallel.

A partition is a byte range ``[start, end)`` of one file; it owns every line whose first
byte lies in the range, so the ranges of a file cover each line exactly once whatever the
block size. Gzip files cannot be entered mid-stream and are one partition each.

>>> parts = plan_partitions(expand_inputs(["logs/"]), block_size=64 << 20)  # doctest: +SKIP
>>> for local_line, raw in read_partition_lines(parts[0]):              # doctest: +SKIP
...     ...   # local_line counts from 0 within the partition; raw has no line ending
"""

from __future__ import annotations

import gzip
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from embedrec.core.errors import InputError

_GZIP_MAGIC = b"\x1f\x8b"


@dataclass(frozen=True)
class InputPart:
    """Lines of ``path`` starting in bytes ``[start, end)``; ``end`` is None for a whole file.

    ``index``: position of the partition in the job; ``source_index``: position of the file
    among the inputs; ``source``: the file name as given (recorded in every output row).
    """

    index: int
    source_index: int
    source: str
    start: int
    end: int | None
    gzip: bool


def expand_inputs(inputs: Sequence[str]) -> list[Path]:
    """Files named by ``inputs``, in order; a directory gives its non-hidden files, sorted.

    Raises `InputError` for a missing path, a directory without files, or no file at all.
    """
    files: list[Path] = []
    for name in inputs:
        path = Path(name)
        if not path.exists():
            raise InputError(path, "does not exist")
        if path.is_dir():
            inside = sorted(
                p
                for p in path.rglob("*")
                if p.is_file()
                and not any(part.startswith(".") for part in p.relative_to(path).parts)
            )
            if not inside:
                raise InputError(path, "is a directory without input files")
            files.extend(inside)
        elif path.is_file():
            files.append(path)
        else:
            raise InputError(path, "is not a regular file or directory")
    return files


def is_gzip(path: Path) -> bool:
    """True when ``path`` starts with the gzip magic bytes (whatever its name)."""
    with open(path, "rb") as handle:
        return handle.read(2) == _GZIP_MAGIC


def plan_partitions(files: Sequence[Path], block_size: int) -> list[InputPart]:
    """Cut each file into ``block_size`` byte ranges (gzip files whole; empty files none)."""
    parts: list[InputPart] = []
    for source_index, path in enumerate(files):
        size = path.stat().st_size
        if size == 0:
            continue
        if is_gzip(path):
            parts.append(InputPart(len(parts), source_index, str(path), 0, None, True))
            continue
        for start in range(0, size, block_size):
            end = min(start + block_size, size)
            parts.append(InputPart(len(parts), source_index, str(path), start, end, False))
    return parts


def read_partition_lines(part: InputPart) -> Iterator[tuple[int, bytes]]:
    """Yield ``(local_line, raw_bytes)`` for the lines the partition owns.

    ``local_line`` is 0 for the first line owned; add the number of lines owned by the
    file's earlier partitions (and 1) to get the 1-based line number in the file.
    """
    if part.gzip:
        with gzip.open(part.source, "rb") as stream:
            yield from _numbered(stream, None)
        return
    with open(part.source, "rb") as handle:
        if part.start > 0:
            # The line running through `start` belongs to the previous partition, unless
            # it begins exactly at `start`, which the byte before it tells.
            handle.seek(part.start - 1)
            if handle.read(1) != b"\n":
                handle.readline()
        yield from _numbered(handle, part.end)


def _numbered(stream: BinaryIO | gzip.GzipFile, end: int | None) -> Iterator[tuple[int, bytes]]:
    number = 0
    while True:
        if end is not None and stream.tell() >= end:
            return
        raw = stream.readline()
        if not raw:
            return
        if raw.endswith(b"\n"):
            raw = raw[:-2] if raw.endswith(b"\r\n") else raw[:-1]
        yield number, raw
        number += 1
