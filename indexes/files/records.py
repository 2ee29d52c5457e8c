"""Records of word-vector files, parsed in batches: words as bytes, values as float32.

Each batch reports the records it could not parse as `BadRecord` (where and why) instead
of raising, so the reader (`embedrec.indexes.files.reader`) decides between failing and skipping.
Text batches take a fast path (one ``numpy.fromstring`` over the whole batch) and fall back
to a line-by-line parse that names the bad line when the batch does not add up.

>>> batch = parse_text_lines([b"cat 0.5 1", b"dog 2 x"], [2, 3], dim=2)
>>> batch.words, batch.vectors.tolist(), batch.bad
([b'cat'], [[0.5, 1.0]], [BadRecord(position=3, word=b'dog', reason="'x' is not a number \
(value 2 of 2)")])
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import BinaryIO

import numpy as np

from embedrec.indexes.files.formats import MAX_WORD_BYTES

# Whitespace other than single spaces between values sends a batch to the careful parse.
_UNUSUAL_SPACES = (b"  ", b"\t", b"\n", b"\r", b"\v", b"\f")
BINARY_READ = 8 << 20


@dataclass(frozen=True)
class BadRecord:
    """A record that was not read: ``position`` is its line (text) or byte offset (binary)."""

    position: int
    word: bytes | None
    reason: str


@dataclass
class RecordBatch:
    """Parsed records: ``words[i]`` has ``vectors[i]`` and sits at ``positions[i]``."""

    words: list[bytes]
    vectors: np.ndarray
    positions: list[int]
    bad: list[BadRecord] = field(default_factory=list)


def parse_text_lines(lines: Sequence[bytes], positions: Sequence[int], dim: int) -> RecordBatch:
    """Parse non-blank ``word v1 … vdim`` lines (``positions``: their line numbers)."""
    words: list[bytes] = []
    rests: list[bytes] = []
    regular = True
    for raw in lines:
        word, _, rest = raw.rstrip().partition(b" ")
        words.append(word)
        rests.append(rest)
        regular = regular and bool(word) and rest.count(b" ") == dim - 1
    if regular:
        joined = b" ".join(rests)
        if not any(space in joined for space in _UNUSUAL_SPACES):
            values = _fast_values(joined)
            if values is not None and values.size == len(lines) * dim:
                vectors = values.reshape(len(lines), dim).astype(np.float32)
                return RecordBatch(words, vectors, list(positions))
    return _parse_lines_one_by_one(words, rests, positions, dim)


def _fast_values(joined: bytes) -> np.ndarray | None:
    """All numbers of space-separated ``joined``, or None where one does not parse."""
    try:
        with warnings.catch_warnings():
            # NumPy < 2.3 warns and stops at the first bad value; later versions raise.
            warnings.simplefilter("ignore", DeprecationWarning)
            return np.fromstring(joined, dtype=np.float64, sep=" ")  # type: ignore[call-overload,no-any-return]
    except ValueError:
        return None


def _parse_lines_one_by_one(
    words: list[bytes], rests: list[bytes], positions: Sequence[int], dim: int
) -> RecordBatch:
    good = RecordBatch([], np.empty((len(words), dim), dtype=np.float32), [])
    for word, rest, position in zip(words, rests, positions, strict=True):
        values, reason = _text_values(word, rest, dim)
        if values is None:
            good.bad.append(BadRecord(position, word or None, reason))
            continue
        good.vectors[len(good.words)] = values
        good.words.append(word)
        good.positions.append(position)
    good.vectors = good.vectors[: len(good.words)]
    return good


def _text_values(word: bytes, rest: bytes, dim: int) -> tuple[list[float] | None, str]:
    if not word:
        return None, "the line starts with a space: no word before the values"
    parts = rest.split(b" ") if rest else []
    if len(parts) != dim:
        return None, f"{len(parts)} values after the word, expected {dim}"
    values = []
    for i, part in enumerate(parts):
        try:
            values.append(float(part))
        except ValueError:
            shown = part.decode("utf-8", "replace")[:40]
            what = "an empty value (two spaces in a row?)" if not part else f"{shown!r}"
            return None, f"{what} is not a number (value {i + 1} of {dim})"
    return values, ""


class BinaryRecords:
    """word2vec binary records read from ``stream`` (positioned at the first record).

    ``offset``: the stream's byte offset at that point, so positions are file offsets.
    `next_batch` parses up to ``rows`` records; a record cut short by the end of the file
    ends reading with a `BadRecord` (nothing after it can be read).
    """

    def __init__(self, stream: BinaryIO, dim: int, offset: int) -> None:
        self._stream = stream
        self._dim = dim
        self._record_bytes = 4 * dim
        self._buffer = b""
        self._pos = 0
        self._base = offset  # file offset of self._buffer[0]
        self._eof = False
        self.finished = False

    def _fill(self, need: int) -> None:
        """Make ``need`` bytes from the read position available, or reach the end."""
        if len(self._buffer) - self._pos >= need or self._eof:
            return
        self._base += self._pos
        parts = [self._buffer[self._pos :]]
        have = len(parts[0])
        while have < need:
            chunk = self._stream.read(max(BINARY_READ, need - have))
            if not chunk:
                self._eof = True
                break
            parts.append(chunk)
            have += len(chunk)
        self._buffer = b"".join(parts)
        self._pos = 0

    def at_end(self) -> bool:
        """True when only newlines remain (word2vec.c ends each record with one)."""
        while True:
            self._fill(1)
            buffer, pos = self._buffer, self._pos
            while pos < len(buffer) and buffer[pos] == 0x0A:  # b"\n"
                pos += 1
            self._pos = pos
            if pos < len(buffer):
                return False
            if self._eof:
                return True

    @property
    def offset(self) -> int:
        return self._base + self._pos

    def next_batch(self, rows: int) -> RecordBatch:
        """Up to ``rows`` records; fewer at the end of the file."""
        batch = RecordBatch([], np.empty((rows, self._dim), dtype=np.float32), [])
        while len(batch.words) < rows and not self.finished:
            if self.at_end():
                self.finished = True
                break
            parsed = self._record()
            if isinstance(parsed, BadRecord):
                batch.bad.append(parsed)
                self.finished = True
                break
            word, start, vector = parsed
            batch.vectors[len(batch.words)] = vector
            batch.words.append(word)
            batch.positions.append(start)
        batch.vectors = batch.vectors[: len(batch.words)]
        return batch

    def _record(self) -> tuple[bytes, int, np.ndarray] | BadRecord:
        start = self.offset
        self._fill(MAX_WORD_BYTES + 1 + self._record_bytes)
        space = self._buffer.find(b" ", self._pos, self._pos + MAX_WORD_BYTES + 1)
        if space < 0:
            available = len(self._buffer) - self._pos
            if self._eof and available <= MAX_WORD_BYTES:
                reason = f"the file ends inside a word ({available} bytes, no space after it)"
            else:
                reason = f"no space ending a word within {MAX_WORD_BYTES} bytes"
            return BadRecord(start, None, f"{reason}; not a word2vec binary record")
        word = self._buffer[self._pos : space]
        end = space + 1 + self._record_bytes
        if end > len(self._buffer):
            have = len(self._buffer) - space - 1
            return BadRecord(
                start,
                word,
                f"truncated: the vector needs {self._record_bytes} bytes "
                f"({self._dim} float32), the file ends after {have}",
            )
        vector = np.frombuffer(self._buffer, dtype="<f4", count=self._dim, offset=space + 1)
        self._pos = end
        return word, start, vector
