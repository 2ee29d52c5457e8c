"""Partitions of the text inputs: line-aligned byte ranges, and reading them back as lines.

`plan_partitions` (in the client, from the scans' small metadata) packs the inputs, in input
order, into partitions of about ``partition_bytes``: a big file is cut at its scanned cuts
into several partitions, small files share one. A partition is a tuple of `Segment` byte
ranges, each starting at a line start with a known line number, so a task can read its range
on its own and still say "line 1234 of wiki_00". The plan depends only on the inputs and
``partition_bytes``, never on the number of workers.

`read_segment` returns the segment's lines decoded as UTF-8; lines that are not valid UTF-8
or hold a NUL byte come back as ``None`` and are listed, escaped, as `RejectedLine`.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from embedrec.pipelines.text.sources import ScannedInput

REJECT_INVALID_UTF8 = "invalid-utf8"
REJECT_NUL_BYTE = "nul-byte"


@dataclass(frozen=True)
class Segment:
    """Bytes ``[start, end)`` of ``read_path``; its first line is line ``first_line`` (1-based)
    of ``source``."""

    source: str
    read_path: str
    format: str
    start: int
    end: int
    first_line: int

    @property
    def bytes(self) -> int:
        return self.end - self.start


@dataclass(frozen=True)
class Partition:
    """One unit of work: consecutive segments in input order. ``index`` names its part file."""

    index: int
    segments: tuple[Segment, ...]

    @property
    def bytes(self) -> int:
        return sum(s.bytes for s in self.segments)


@dataclass(frozen=True)
class RejectedLine:
    source: str
    line: int
    raw: str
    reason: str


def plan_partitions(scans: Sequence[ScannedInput], partition_bytes: int) -> list[Partition]:
    """Pack the usable scanned inputs, in order, into partitions of about ``partition_bytes``.

    >>> [len(p.segments) for p in plan_partitions(scans, 8 << 20)]     # doctest: +SKIP
    [1, 1, 1, 3]
    """
    pieces: list[Segment] = []
    for scan in sorted(scans, key=lambda s: s.index):
        if scan.skipped is not None:
            continue
        bounds = [*scan.cuts, (scan.bytes, scan.lines)]
        for (start, lines_before), (end, _) in itertools.pairwise(bounds):
            pieces.append(
                Segment(
                    source=scan.path,
                    read_path=scan.read_path,
                    format=scan.format,
                    start=start,
                    end=end,
                    first_line=lines_before + 1,
                )
            )
    partitions: list[Partition] = []
    current: list[Segment] = []
    size = 0
    for piece in pieces:
        if current and size + piece.bytes > partition_bytes:
            partitions.append(Partition(index=len(partitions), segments=tuple(current)))
            current, size = [], 0
        current.append(piece)
        size += piece.bytes
    if current:
        partitions.append(Partition(index=len(partitions), segments=tuple(current)))
    return partitions


def read_segment_bytes(segment: Segment) -> bytes:
    """The raw bytes of a segment (plain files and spools are seekable)."""
    with open(segment.read_path, "rb") as handle:
        handle.seek(segment.start)
        data = handle.read(segment.bytes)
    if len(data) != segment.bytes:
        raise OSError(
            f"{segment.read_path}: expected {segment.bytes} bytes at offset {segment.start}, "
            f"got {len(data)} (did the file change during the run?)"
        )
    return data


def read_segment(segment: Segment) -> tuple[list[str | None], list[RejectedLine]]:
    """Lines of a segment, decoded; rejected lines are ``None`` and listed with the reason.

    Line ``i`` of the result is line ``segment.first_line + i`` of the source. A trailing
    ``\\r`` (Windows line ends) is removed.
    """
    return decode_lines(read_segment_bytes(segment), segment.source, segment.first_line)


def read_segment_pieces(
    segment: Segment, piece_bytes: int = 1 << 20
) -> Iterator[tuple[list[str | None], list[RejectedLine]]]:
    """`read_segment` in line-aligned pieces of about ``piece_bytes``, in order.

    The same lines and rejected lines, but only one piece is ever decoded at a time (a
    decoded line list costs several times its bytes).
    """
    data = read_segment_bytes(segment)
    start, line = 0, segment.first_line
    while start < len(data):
        end = data.find(b"\n", start + piece_bytes - 1)
        end = len(data) if end < 0 else end + 1
        lines, rejected = decode_lines(data[start:end], segment.source, line)
        yield lines, rejected
        start, line = end, line + len(lines)


def decode_lines(
    data: bytes, source: str, first_line: int
) -> tuple[list[str | None], list[RejectedLine]]:
    """Split ``data`` at ``\\n`` and decode each line as UTF-8 (see `read_segment`).

    >>> decode_lines(b"ok\\nbad \\xff\\n", "f.txt", 1)[1]
    [RejectedLine(source='f.txt', line=2, raw='bad \\\\xff', reason='invalid-utf8')]
    """
    if data.endswith(b"\n"):
        data = data[:-1]
    if b"\x00" not in data:
        try:
            # Fast path: the whole range is valid UTF-8.
            return [_strip_cr(line) for line in data.decode("utf-8").split("\n")], []
        except UnicodeDecodeError:
            pass
    lines: list[str | None] = []
    rejected: list[RejectedLine] = []
    for number, raw in enumerate(data.split(b"\n"), start=first_line):
        reason = None
        text = None
        if b"\x00" in raw:
            reason = REJECT_NUL_BYTE
        else:
            try:
                text = _strip_cr(raw.decode("utf-8"))
            except UnicodeDecodeError:
                reason = REJECT_INVALID_UTF8
        if reason is not None:
            escaped = raw.decode("utf-8", "backslashreplace").replace("\x00", "\\x00")
            rejected.append(RejectedLine(source, number, escaped, reason))
        lines.append(text)
    return lines, rejected


def _strip_cr(line: str) -> str:
    return line[:-1] if line.endswith("\r") else line
