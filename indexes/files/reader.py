"""Reading word-vector files made elsewhere (word2vec, GloVe, fastText), streamed in chunks.

`VectorFileReader` detects the format from the content (`embedrec.indexes.files.formats`), then
yields ``(tokens, float32 block)`` chunks of at most ``chunk_rows`` vectors, so a caller
holds one chunk at a time. Every record is checked: values that are not numbers, a count
of values that differs from the dimension, NaN or infinity, a word seen before, invalid
UTF-8, a binary record cut short, and a header whose count disagrees with the file.

By default the first problem raises `VectorFileError` naming the line (text) or byte offset
(binary). With ``skip_bad_lines`` the bad records are left out, counted, and listed (up to
``max_listed``) in the `VectorFileReport`, which index builds store in their manifest.
Blank lines hold no vector; they are counted, never an error.

>>> import pathlib, tempfile
>>> path = pathlib.Path(tempfile.mkdtemp()) / "vectors.txt"
>>> _ = path.write_text("cat 0.5 1\\ndog 2 -1\\ncat 1 1\\n")
>>> reader = VectorFileReader(path, VectorFileOptions(skip_bad_lines=True))
>>> [(tokens, block.shape) for tokens, block in reader.chunks()]
[(['cat', 'dog'], (2, 2))]
>>> report = reader.report()
>>> report.format, report.vectors, report.skipped, report.skipped_listed[0].reason
('glove-text', 2, 1, "duplicate word 'cat' (first at line 1)")
"""

from __future__ import annotations

import itertools
import logging
import zlib
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from embedrec.core.errors import ConfigError
from embedrec.indexes.errors import VectorFileError
from embedrec.indexes.files.formats import VectorFileFormat, detect_format, open_stream
from embedrec.indexes.files.records import BadRecord, BinaryRecords, RecordBatch, parse_text_lines

log = logging.getLogger(__name__)

TEXT_BATCH_LINES = 4096


@dataclass(frozen=True, kw_only=True)
class VectorFileOptions:
    """How to read a vector file.

    ``skip_bad_lines``: leave malformed records out (counted and listed) instead of failing.
    ``chunk_rows``: vectors per yielded chunk (bounds the reader's memory).
    ``max_listed``: skipped records listed in the report (all of them are counted).
    """

    skip_bad_lines: bool = False
    chunk_rows: int = 16_384
    max_listed: int = 1000

    def __post_init__(self) -> None:
        if not isinstance(self.skip_bad_lines, bool):
            raise ConfigError("skip_bad_lines", self.skip_bad_lines, "True or False")
        for key, minimum in (("chunk_rows", 1), ("max_listed", 0)):
            value = getattr(self, key)
            if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
                raise ConfigError(key, value, f"an integer >= {minimum}")


@dataclass(frozen=True)
class SkippedRecord:
    """A record left out: its ``line`` (text) or byte ``offset`` (binary), word and reason."""

    line: int | None
    offset: int | None
    word: str | None
    reason: str


@dataclass(frozen=True)
class VectorFileReport:
    """What was read. ``records``: data lines/records seen (kept + skipped, blanks apart).

    ``header_mismatch``: set (with ``skip_bad_lines``) when the header's count disagrees
    with the records found. ``skipped_listed``: the first ``max_listed`` skipped records.
    """

    path: str
    format: str
    gzip: bool
    dim: int
    header_count: int | None
    vectors: int
    records: int
    blank_lines: int
    skipped: int
    skipped_listed: list[SkippedRecord] = field(default_factory=list)
    header_mismatch: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class VectorFileReader:
    """One pass over a vector file; see the module docstring. `chunks` may run once."""

    def __init__(self, path: str | Path, options: VectorFileOptions | None = None) -> None:
        self.path = Path(path)
        self.options = options or VectorFileOptions()
        self.format: VectorFileFormat = detect_format(self.path)
        self.tokens: list[str] = []
        self._seen: dict[str, int] = {}  # token → its line (text) or byte offset (binary)
        self._records = 0
        self._blank = 0
        self._skipped = 0
        self._listed: list[SkippedRecord] = []
        self._mismatch: str | None = None
        self._done = False

    @property
    def dim(self) -> int:
        return self.format.dim

    def chunks(self) -> Iterator[tuple[list[str], np.ndarray]]:
        """``(tokens, vectors)`` chunks in file order; ``vectors`` float32 (n, dim), writable
        (no other chunk shares its rows)."""
        if self._done or self._records:
            raise RuntimeError("VectorFileReader.chunks() runs once per reader")
        pending: list[tuple[list[str], np.ndarray]] = []
        size = 0
        with open_stream(self.path) as stream:
            for batch in self._read(stream):
                tokens, vectors = self._accept(batch)
                pending.append((tokens, vectors))
                size += len(tokens)
                while size >= self.options.chunk_rows:
                    chunk, pending, size = _take(pending, self.options.chunk_rows)
                    yield chunk
        self._check_count()
        self._seen = {}  # ~70 MB for a million words, not needed once the file is read
        if size:
            yield _take(pending, size)[0]
        self._done = True
        if self._skipped:
            log.warning("%s: skipped %d bad records", self.path, self._skipped)

    def report(self) -> VectorFileReport:
        """What was read (call after `chunks` is exhausted)."""
        if not self._done:
            raise RuntimeError("read all chunks before asking for the report")
        fmt = self.format
        return VectorFileReport(
            path=str(self.path),
            format=fmt.name,
            gzip=fmt.gzip,
            dim=fmt.dim,
            header_count=fmt.header_count,
            vectors=len(self.tokens),
            records=self._records,
            blank_lines=self._blank,
            skipped=self._skipped,
            skipped_listed=list(self._listed),
            header_mismatch=self._mismatch,
        )

    def _read(self, stream: Any) -> Iterator[RecordBatch]:
        """`_batches`, with a file that cannot be read to its end (a cut-short or corrupt
        gzip stream, a disk error) turned into a `VectorFileError`."""
        batches = self._batches(stream)
        while True:
            try:
                batch = next(batches)
            except StopIteration:
                return
            except (OSError, EOFError, zlib.error) as exc:
                raise VectorFileError(
                    self.path, f"cannot be read to its end after {self._records:,} records ({exc})"
                ) from None
            yield batch

    def _batches(self, stream: Any) -> Iterator[RecordBatch]:
        skipped = stream.read(self.format.data_start)
        if len(skipped) < self.format.data_start:
            raise VectorFileError(self.path, "changed while it was read (it got shorter)")
        if self.format.binary:
            yield from self._binary_batches(stream)
        else:
            yield from self._text_batches(stream)

    def _text_batches(self, stream: Any) -> Iterator[RecordBatch]:
        number = itertools.count(self.format.first_line)
        while True:
            raw = list(itertools.islice(stream, TEXT_BATCH_LINES))
            if not raw:
                return
            lines, positions = [], []
            for line, line_no in zip(raw, number, strict=False):
                if line.strip():
                    lines.append(line)
                    positions.append(line_no)
                else:
                    self._blank += 1
            if lines:
                yield parse_text_lines(lines, positions, self.dim)

    def _binary_batches(self, stream: Any) -> Iterator[RecordBatch]:
        records = BinaryRecords(stream, self.dim, self.format.data_start)
        promised = self.format.header_count
        while not records.finished:
            rows = self.options.chunk_rows
            if promised is not None and not self.options.skip_bad_lines:
                rows = min(rows, promised - self._records)
                if rows <= 0:
                    if not records.at_end():
                        raise VectorFileError(
                            self.path,
                            f"data after the {promised:,} vectors the header promises",
                            offset=records.offset,
                        )
                    return
            yield records.next_batch(rows)

    def _accept(self, batch: RecordBatch) -> tuple[list[str], np.ndarray]:
        """Decode, deduplicate and check one batch; returns the kept tokens and vectors."""
        self._records += len(batch.words) + len(batch.bad)
        problems = {bad.position: bad for bad in batch.bad}
        overflow = self._overflow(batch)
        if overflow is not None:
            problems[overflow.position] = overflow
        finite = np.isfinite(batch.vectors).all(axis=1)
        keep = np.ones(len(batch.words), dtype=bool)
        tokens: list[str] = []
        for i, (raw, position) in enumerate(zip(batch.words, batch.positions, strict=True)):
            token, reason = self._token(raw, bool(finite[i]))
            if token is None:
                problems[position] = BadRecord(position, raw, reason)
                keep[i] = False
                continue
            self._seen[token] = position
            tokens.append(token)
        for position in sorted(problems):
            self._problem(problems[position])
        self.tokens.extend(tokens)
        vectors = batch.vectors if keep.all() else batch.vectors[keep]
        return tokens, vectors

    def _token(self, raw: bytes, finite: bool) -> tuple[str | None, str]:
        try:
            token = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            return None, f"the word is not valid UTF-8 ({exc.reason} at byte {exc.start})"
        if not token:
            return None, "the record starts with a space: no word before the vector"
        if not finite:
            return None, "the vector holds NaN or infinity"
        first = self._seen.get(token)
        if first is not None:
            where = f"byte {first}" if self.format.binary else f"line {first}"
            return None, f"duplicate word {token!r} (first at {where})"
        return token, ""

    def _problem(self, bad: BadRecord) -> None:
        binary = self.format.binary
        line, offset = (None, bad.position) if binary else (bad.position, None)
        if not self.options.skip_bad_lines:
            hint = " (--skip-bad-lines leaves such records out)"
            raise VectorFileError(self.path, bad.reason + hint, line=line, offset=offset)
        self._skipped += 1
        if len(self._listed) < self.options.max_listed:
            word = None if bad.word is None else bad.word.decode("utf-8", "replace")[:100]
            self._listed.append(SkippedRecord(line, offset, word, bad.reason))

    def _overflow(self, batch: RecordBatch) -> BadRecord | None:
        """Strict reading: the first record beyond the header's count, if this batch has one."""
        promised = self.format.header_count
        if promised is None or self._records <= promised or self.options.skip_bad_lines:
            return None
        positions = sorted([*batch.positions, *(bad.position for bad in batch.bad)])
        extra = positions[len(positions) - (self._records - promised)]
        reason = f"more vectors than the {promised:,} the header (line 1) promises"
        return BadRecord(extra, None, reason)

    def _check_count(self) -> None:
        promised = self.format.header_count
        if promised is None or promised == self._records:
            return
        found = (
            f"the header (line 1) promises {promised:,} vectors, the file holds {self._records:,}"
        )
        if not self.options.skip_bad_lines:
            raise VectorFileError(self.path, found + " (--skip-bad-lines reads them anyway)")
        self._mismatch = found
        log.warning("%s: %s", self.path, found)


def _take(
    pending: list[tuple[list[str], np.ndarray]], rows: int
) -> tuple[tuple[list[str], np.ndarray], list[tuple[list[str], np.ndarray]], int]:
    """The first ``rows`` vectors of ``pending`` as one chunk, and what remains."""
    tokens: list[str] = []
    blocks: list[np.ndarray] = []
    rest: list[tuple[list[str], np.ndarray]] = []
    for part_tokens, part in pending:
        room = rows - len(tokens)
        if room <= 0:
            rest.append((part_tokens, part))
            continue
        tokens.extend(part_tokens[:room])
        blocks.append(part[:room])
        if len(part_tokens) > room:
            rest.append((part_tokens[room:], part[room:]))
    chunk = np.concatenate(blocks) if len(blocks) > 1 else blocks[0]
    return (tokens, chunk), rest, sum(len(t) for t, _ in rest)
