"""Word-vector file formats, told apart by their content (never by the file name).

==================  ==========================================================================
format              layout
==================  ==========================================================================
``word2vec-text``   ``V dim`` header line, then ``word v1 … vdim`` per line (gensim's
                    ``save_word2vec_format(binary=False)``, word2vec.c ``-binary 0``)
``word2vec-binary`` the same header, then per word ``word``, a space and ``dim`` little-endian
                    float32 (4·dim bytes), optionally followed by a newline
``glove-text``      no header: ``word v1 … vdim`` from the first line (Stanford GloVe)
``fasttext-vec``    word2vec text whose lines end with a space before the newline (fastText's
                    ``.vec`` files); read exactly like ``word2vec-text``
==================  ==========================================================================

Any of them may be gzip-compressed (detected from the gzip magic bytes). Values are split on
single spaces, as gensim does, so a word may hold other whitespace (GloVe 840B has some).

>>> import pathlib, tempfile
>>> path = pathlib.Path(tempfile.mkdtemp()) / "vectors.data"
>>> _ = path.write_bytes(b"2 3\\ncat " + bytes(12) + b"dog " + bytes(12))
>>> detect_format(path)
VectorFileFormat(name='word2vec-binary', gzip=False, header_count=2, dim=3, data_start=4)
"""

from __future__ import annotations

import codecs
import gzip
import io
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from embedrec.indexes.errors import VectorFileError

FORMATS = ("word2vec-text", "word2vec-binary", "glove-text", "fasttext-vec")
GZIP_MAGIC = b"\x1f\x8b"
UTF8_BOM = b"\xef\xbb\xbf"
# Enough of the file to read a header and a whole first record of any sane dimension.
HEAD_BYTES = 1 << 20
# A binary record's word must end (with a space) within this many bytes.
MAX_WORD_BYTES = 10_000
READ_BUFFER = 1 << 20
EXPECTED = (
    "word2vec text or binary ('count dim' header), GloVe text ('word v1 v2 ...' lines) "
    "or fastText .vec"
)


@dataclass(frozen=True)
class VectorFileFormat:
    """What `detect_format` found.

    ``header_count``: vectors the header promises (None for GloVe, which has no header).
    ``data_start``: byte offset of the first record in the (uncompressed) stream.
    """

    name: str
    gzip: bool
    header_count: int | None
    dim: int
    data_start: int

    @property
    def binary(self) -> bool:
        return self.name == "word2vec-binary"

    @property
    def first_line(self) -> int:
        """Line number of the first record of a text format (2 after a header)."""
        return 1 if self.header_count is None else 2


def open_stream(path: str | Path) -> BinaryIO:
    """The file's bytes, decompressed when it starts with the gzip magic bytes."""
    p = Path(path)
    try:
        with open(p, "rb") as probe:
            magic = probe.read(2)
        if magic == GZIP_MAGIC:
            return io.BufferedReader(gzip.GzipFile(p, "rb"), buffer_size=READ_BUFFER)
        return open(p, "rb", buffering=READ_BUFFER)
    except FileNotFoundError:
        raise VectorFileError(p, "does not exist") from None
    except IsADirectoryError:
        raise VectorFileError(p, "is a directory, not a vector file") from None
    except PermissionError:
        raise VectorFileError(p, "is not readable (permission denied)") from None


def detect_format(path: str | Path) -> VectorFileFormat:
    """Tell the format of the vector file at ``path`` from its first bytes.

    Raises `VectorFileError` naming line 1 or 2 when it is none of `FORMATS`.
    """
    with open_stream(path) as stream:
        try:
            head = stream.read(HEAD_BYTES)
        except (OSError, EOFError) as exc:
            raise VectorFileError(path, f"cannot be read ({exc})") from None
        compressed = isinstance(getattr(stream, "raw", None), gzip.GzipFile)
    start = len(UTF8_BOM) if head.startswith(UTF8_BOM) else 0
    if not head[start:].strip():
        raise VectorFileError(path, f"is empty; expected {EXPECTED}")
    end = head.find(b"\n", start)
    first = head[start:] if end < 0 else head[start:end]
    header = parse_header(first)
    if header is None:
        dim = _glove_dim(first)
        if dim is None:
            raise VectorFileError(
                path,
                f"is neither a 'count dim' header nor a 'word v1 v2 ...' line; expected {EXPECTED}",
                line=1,
            )
        return VectorFileFormat("glove-text", compressed, None, dim, start)
    count, dim = header
    if dim < 1:
        raise VectorFileError(path, f"header says dimension {dim}; expected >= 1", line=1)
    body_start = len(head) if end < 0 else end + 1
    name = _body_format(head[body_start:], dim)
    return VectorFileFormat(name, compressed, count, dim, body_start)


def parse_header(line: bytes) -> tuple[int, int] | None:
    """``(count, dim)`` of a ``count dim`` header line, else None.

    >>> parse_header(b"400000 300"), parse_header(b"the 0.1 0.2")
    ((400000, 300), None)
    """
    parts = line.split()
    if len(parts) != 2 or not all(part.isdigit() for part in parts):
        return None
    return int(parts[0]), int(parts[1])


def _glove_dim(line: bytes) -> int | None:
    """The dimension of a first line shaped ``word v1 … vd``, else None."""
    parts = line.rstrip().split(b" ")
    if len(parts) < 2 or not parts[0]:
        return None
    try:
        parts[0].decode("utf-8")
        for value in parts[1:]:
            float(value)
    except ValueError:
        return None
    return len(parts) - 1


def _body_format(body: bytes, dim: int) -> str:
    """Text or binary records after a header: binary data holds NULs or is not UTF-8."""
    if not body.strip():
        return "word2vec-text"
    region = body[: MAX_WORD_BYTES + 4 * dim + 1]
    if b"\0" in region or not _utf8_prefix(region):
        return "word2vec-binary"
    end = body.find(b"\n")
    line = body if end < 0 else body[:end]
    return "fasttext-vec" if line.rstrip(b"\r").endswith(b" ") else "word2vec-text"


def _utf8_prefix(data: bytes) -> bool:
    """True when ``data`` is valid UTF-8, allowing a character cut at its end."""
    try:
        codecs.getincrementaldecoder("utf-8")().decode(data, final=False)
    except UnicodeDecodeError:
        return False
    return True
