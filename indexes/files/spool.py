"""Indexes over word-vector files made elsewhere: ``embedrec index build FILE`` and
``load_index(FILE)`` for word2vec text or binary, GloVe and fastText ``.vec`` (maybe ``.gz``).

``load_index(FILE)`` streams the file into an exact in-memory index. ``build_index(FILE,
OUT)`` streams it once into a temporary float32 ``.npy`` beside ``OUT`` (one copy of the
table on disk, none extra in memory), then runs the model-directory build over that
memory-mapped file (`embedrec.indexes.build.build_index_over`): sampled training, chunked adds,
recall tuning, sharding. Either way the process holds the table once, in the index.

The manifest's ``source_file`` records the file (path, sha256 fingerprint), the detected
format, the counts read, and what ``skip_bad_lines`` left out.

>>> import pathlib, tempfile
>>> from embedrec.indexes import build_index, load_index
>>> work = pathlib.Path(tempfile.mkdtemp())
>>> _ = (work / "wiki.vec").write_text("3 2 \\ncat 1 0 \\ndog 0.8 0.6 \\nemu 0 x \\n")
>>> load_index(work / "wiki.vec")
Traceback (most recent call last):
...
embedrec.indexes.errors.VectorFileError: .../wiki.vec: line 4: 'x' is not a number (value 2 of 2) \
(--skip-bad-lines leaves such records out)
>>> index = load_index(work / "wiki.vec", skip_bad_lines=True)
>>> index.manifest["source_file"]["skipped"], index.most_similar("cat", topn=1)[0].token
(1, 'dog')
>>> report = build_index(work / "wiki.vec", work / "index", skip_bad_lines=True)
>>> report.vector_file["format"], report.vector_file["skipped_listed"][0]["line"]
('fasttext-vec', 4)
"""

from __future__ import annotations

import dataclasses
import logging
import zlib
from pathlib import Path
from typing import Any

import numpy as np

from embedrec.indexes.files.formats import open_stream
from embedrec.indexes.files.reader import VectorFileReader, VectorFileReport

log = logging.getLogger(__name__)

VECTOR_FILE_KIND = "vector-file"
# A .npy header written before the row count is known, then rewritten in place.
NPY_HEADER_BYTES = 128
SPOOL_NAME = "vectors.npy"


def spool_to_npy(reader: VectorFileReader, npy_path: Path, *, progress: bool = False) -> np.ndarray:
    """Write the reader's vectors to a float32 ``.npy``, chunk by chunk; its memory map."""
    from tqdm import tqdm

    rows = 0
    with (
        open(npy_path, "wb") as handle,
        tqdm(
            total=reader.format.header_count,
            desc="reading",
            unit="vec",
            unit_scale=True,
            disable=None if progress else True,  # None: only on a terminal
        ) as bar,
    ):
        handle.write(b"\0" * NPY_HEADER_BYTES)
        for _, block in reader.chunks():
            handle.write(np.ascontiguousarray(block, dtype="<f4").data)
            rows += len(block)
            bar.update(len(block))
        handle.seek(0)
        handle.write(npy_header(rows, reader.dim))
    return np.load(npy_path, mmap_mode="r", allow_pickle=False)


def count_lines(path: Path, start: int = 0) -> int:
    """Lines after byte ``start`` of a (maybe gzipped) file: sizes the index of a GloVe file
    up front, which has no header to say how many vectors follow."""
    lines = 0
    last = b"\n"
    try:
        with open_stream(path) as stream:
            stream.read(start)
            for block in iter(lambda: stream.read(1 << 22), b""):
                lines += block.count(b"\n")
                last = block[-1:]
    except (OSError, EOFError, zlib.error):
        return 0  # the reader names the problem, with its place
    return lines + (last != b"\n")


def npy_header(rows: int, dim: int) -> bytes:
    """A version 1.0 ``.npy`` header for float32 (rows, dim), exactly `NPY_HEADER_BYTES` long.

    >>> header = npy_header(1_000_000, 300)
    >>> len(header), header[:6]
    (128, b'\\x93NUMPY')
    """
    text = f"{{'descr': '<f4', 'fortran_order': False, 'shape': ({rows}, {dim}), }}"
    room = NPY_HEADER_BYTES - 10 - 1
    if len(text) > room:
        raise ValueError(f"shape ({rows}, {dim}) does not fit a {NPY_HEADER_BYTES}-byte header")
    body = (text + " " * (room - len(text)) + "\n").encode("latin1")
    return b"\x93NUMPY\x01\x00" + len(body).to_bytes(2, "little") + body


def source_file_entry(report: VectorFileReport, file_fp: dict[str, Any]) -> dict[str, Any]:
    """The manifest's ``source_file``: the file, its fingerprint, format and what was read."""
    return {
        "path": file_fp["path"],
        "format": report.format,
        "gzip": report.gzip,
        "sha256": file_fp["sha256"],
        "fingerprint": file_fp,
        "dim": report.dim,
        "header_count": report.header_count,
        "vectors": report.vectors,
        "records": report.records,
        "blank_lines": report.blank_lines,
        "header_mismatch": report.header_mismatch,
        "skipped": report.skipped,
        "skipped_listed": [dataclasses.asdict(r) for r in report.skipped_listed],
        "skipped_all_listed": len(report.skipped_listed) == report.skipped,
    }


def summary(entry: dict[str, Any]) -> dict[str, Any]:
    keys = ("path", "format", "gzip", "sha256", "vectors", "records", "blank_lines")
    extra = ("header_mismatch", "skipped", "skipped_listed", "skipped_all_listed")
    return {key: entry[key] for key in (*keys, *extra)}
