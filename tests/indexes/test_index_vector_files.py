"""Reading word2vec / GloVe / fastText files: detection by content, errors that name the
place, ``skip_bad_lines`` that counts and lists, and the indexes built over such files."""

from __future__ import annotations

import struct

import numpy as np
import pytest
from vector_file_fixtures import FORMAT_FILES, keyed_vectors, write_format

from embedrec.core.artifacts import read_manifest
from embedrec.indexes import (
    IndexConfig,
    VectorFileError,
    VectorFileOptions,
    VectorFileReader,
    build_index,
    load_index,
)
from embedrec.indexes.files.spool import npy_header


def _read_all(path, **options):
    reader = VectorFileReader(path, VectorFileOptions(**options))
    chunks = list(reader.chunks())
    vectors = np.concatenate([block for _, block in chunks]) if chunks else None
    return reader, [t for tokens, _ in chunks for t in tokens], vectors


@pytest.mark.parametrize("gz", [False, True], ids=["plain", "gzip"])
@pytest.mark.parametrize("fmt", list(FORMAT_FILES))
def test_every_format_is_detected_and_read_exactly(tmp_path, fmt, gz):
    kv = keyed_vectors()
    path = write_format(kv, tmp_path, fmt, gz=gz)
    # The content decides, not the name: every file is renamed to the same neutral name.
    neutral = path.rename(tmp_path / "vectors.data")
    reader, tokens, vectors = _read_all(neutral, chunk_rows=64)
    report = reader.report()
    assert (report.format, report.gzip, report.dim) == (fmt, gz, kv.vector_size)
    assert tokens == kv.index_to_key
    np.testing.assert_array_equal(vectors, kv.vectors)
    assert report.vectors == report.records == len(kv) and report.skipped == 0


def test_word2vec_c_binary_newlines_and_crlf_text_are_read(tmp_path):
    rows = [("a", [1.0, 2.0]), ("b", [3.0, -4.5])]
    binary = tmp_path / "c.bin"
    body = b"".join(w.encode() + b" " + struct.pack("<2f", *v) + b"\n" for w, v in rows)
    binary.write_bytes(b"2 2\n" + body)
    crlf = tmp_path / "crlf.txt"
    crlf.write_bytes(b"2 2\r\na 1 2\r\nb 3 -4.5\r\n\r\n")
    for path, fmt in ((binary, "word2vec-binary"), (crlf, "word2vec-text")):
        reader, tokens, vectors = _read_all(path)
        assert reader.report().format == fmt and tokens == ["a", "b"]
        np.testing.assert_array_equal(vectors, [[1, 2], [3, -4.5]])
    assert reader.report().blank_lines == 1


BAD_TEXT = [
    ("3 2\na 1 2\nb 1 x\nc 3 4\n", 3, "'x' is not a number (value 2 of 2)"),
    ("3 2\na 1 2\nb 1 2 3\nc 3 4\n", 3, "3 values after the word, expected 2"),
    ("a 1 2\nb 1\n", 2, "1 values after the word, expected 2"),
    ("3 2\na 1 2\nb 3 4\na 5 6\n", 4, "duplicate word 'a' (first at line 2)"),
    ("3 2\na 1 2\nb nan 4\nc 5 6\n", 3, "NaN or infinity"),
    ("3 2\na 1 2\nb  4\nc 5 6\n", 3, "an empty value (two spaces in a row?)"),
    ("2 2\na 1 2\nb 3 4\nc 5 6\n", 4, "more vectors than the 2 the header (line 1) promises"),
]


@pytest.mark.parametrize(("text", "line", "reason"), BAD_TEXT)
def test_malformed_text_names_the_line(tmp_path, text, line, reason):
    path = tmp_path / "bad.txt"
    path.write_text(text)
    with pytest.raises(VectorFileError) as caught:
        _read_all(path)
    assert caught.value.line == line and reason in str(caught.value)
    assert str(caught.value).startswith(f"{path}: line {line}: ")


def test_header_promising_more_than_the_file_holds(tmp_path):
    path = tmp_path / "short.txt"
    path.write_text("5 2\na 1 2\nb 3 4\n")
    with pytest.raises(VectorFileError, match="promises 5 vectors, the file holds 2"):
        _read_all(path)


def test_truncated_binary_names_the_byte_offset(tmp_path):
    kv = keyed_vectors(rows=20, dim=8)
    path = write_format(kv, tmp_path, "word2vec-binary")
    data = path.read_bytes()
    path.write_bytes(data[:-5])
    with pytest.raises(VectorFileError) as caught:
        _read_all(path)
    record = len("straße ".encode()) + 4 * 8
    assert caught.value.offset == len(data) - record
    assert "truncated: the vector needs 32 bytes (8 float32), the file ends after 27" in str(
        caught.value
    )


def test_binary_records_with_bad_words_are_named(tmp_path):
    path = tmp_path / "v.bin"
    vector = struct.pack("<2f", 1.0, 2.0)
    path.write_bytes(b"3 2\na " + vector + b" " + vector + b"\xff\xfe " + vector)
    with pytest.raises(VectorFileError) as caught:
        _read_all(path)
    assert caught.value.offset == 4 + 2 + 8 and "no word before the vector" in str(caught.value)
    reader, tokens, _ = _read_all(path, skip_bad_lines=True)
    assert tokens == ["a"] and reader.report().skipped == 2
    assert "not valid UTF-8" in reader.report().skipped_listed[1].reason


def test_not_a_vector_file(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("hello world\nthis is prose\n")
    with pytest.raises(VectorFileError, match="line 1: is neither a 'count dim' header"):
        VectorFileReader(path)
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    with pytest.raises(VectorFileError, match="is empty"):
        VectorFileReader(empty)


def test_skip_bad_lines_counts_and_lists_everything_left_out(tmp_path):
    path = tmp_path / "mixed.txt"
    path.write_text("5 2\na 1 2\nb 1 x\n\nc 3 4\na 5 6\nd 1 2 3\ne 7 8\n")
    reader, tokens, vectors = _read_all(path, skip_bad_lines=True, max_listed=2)
    report = reader.report()
    assert tokens == ["a", "c", "e"]
    np.testing.assert_array_equal(vectors, [[1, 2], [3, 4], [7, 8]])
    assert (report.records, report.skipped, report.blank_lines) == (6, 3, 1)
    assert [(r.line, r.word) for r in report.skipped_listed] == [(3, "b"), (6, "a")]
    assert report.header_mismatch == "the header (line 1) promises 5 vectors, the file holds 6"


def test_skip_bad_lines_in_binary_keeps_what_precedes_a_cut(tmp_path):
    kv = keyed_vectors(rows=10, dim=4)
    path = write_format(kv, tmp_path, "word2vec-binary")
    path.write_bytes(path.read_bytes()[:-3])
    reader, tokens, _ = _read_all(path, skip_bad_lines=True)
    report = reader.report()
    assert tokens == kv.index_to_key[:9] and report.skipped == 1
    assert report.skipped_listed[0].offset is not None and report.skipped_listed[0].word == "straße"


def test_npy_header_is_what_numpy_writes_and_reads(tmp_path):
    path = tmp_path / "x.npy"
    path.write_bytes(npy_header(3, 2) + np.arange(6, dtype="<f4").tobytes())
    np.testing.assert_array_equal(np.load(path), np.arange(6, dtype=np.float32).reshape(3, 2))


def test_load_index_of_a_file_is_exact_and_records_its_source(tmp_path):
    kv = keyed_vectors()
    path = write_format(kv, tmp_path, "glove-text", gz=True)
    index = load_index(path)
    assert index.tokens == kv.index_to_key and index.manifest["exact"]
    source = index.manifest["source_file"]
    assert source["format"] == "glove-text" and source["gzip"] and len(source["sha256"]) == 64
    assert [w for w, _ in index.most_similar("w5", topn=5)] == [
        w for w, _ in kv.most_similar("w5", topn=5)
    ]


@pytest.mark.parametrize("kind", ["flat", "hnsw"])
def test_build_index_from_a_file(tmp_path, kind):
    kv = keyed_vectors(rows=400)
    path = write_format(kv, tmp_path, "word2vec-binary")
    out = tmp_path / "index"
    report = build_index(path, out, IndexConfig(kind=kind), shards=2 if kind == "flat" else 1)
    assert report.vector_file["format"] == "word2vec-binary" and report.vocab_size == 400
    manifest = read_manifest(out)
    assert manifest["source_file"]["sha256"] == report.vector_file["sha256"]
    assert manifest["inputs"][0]["path"] == str(path.resolve())
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".index.")]  # spool removed
    index = load_index(out)
    assert index.tokens == kv.index_to_key
    np.testing.assert_allclose(index.original_rows(range(len(kv))), kv.vectors, rtol=1e-5)


def test_build_index_refuses_skip_bad_lines_for_a_model_dir(tmp_path, make_model):
    from embedrec.core.errors import ConfigError

    model = make_model(np.ones((4, 2), dtype=np.float32))
    with pytest.raises(ConfigError, match="skip_bad_lines"):
        build_index(model, tmp_path / "x", skip_bad_lines=True)


def test_gzip_cut_short_is_an_error_not_a_crash(tmp_path):
    kv = keyed_vectors(rows=50)
    path = write_format(kv, tmp_path, "word2vec-text", gz=True)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(VectorFileError, match="cannot be read"):
        _read_all(path)
