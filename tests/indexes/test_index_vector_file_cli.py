"""``embedrec index build FILE`` (and the commands that read a FILE) through the real CLI."""

from __future__ import annotations

import json

import pytest
from vector_file_fixtures import FORMAT_FILES, keyed_vectors, write_format

from embedrec.core.artifacts import read_manifest


@pytest.mark.parametrize("fmt", list(FORMAT_FILES))
def test_build_from_every_format(run_cli, tmp_path, fmt):
    kv = keyed_vectors(rows=200, dim=8)
    path = write_format(kv, tmp_path, fmt, gz=fmt == "fasttext-vec")
    out = tmp_path / "index"
    result = run_cli("index", "build", path, "--out", out, "--json")
    assert result.code == 0, result.err
    report = json.loads(result.out)
    assert report["vector_file"]["format"] == fmt and report["vocab_size"] == 200
    source = read_manifest(out)["source_file"]
    assert source["path"] == str(path.resolve()) and source["format"] == fmt
    assert source["fingerprint"]["sha256"] == source["sha256"]
    neighbors = run_cli("query", "neighbors", out, "w7", "-k", "3", "--json")
    assert neighbors.code == 0, neighbors.err
    expected = [w for w, _ in kv.most_similar("w7", topn=3)]
    assert [hit["token"] for hit in json.loads(neighbors.out)["neighbors"]] == expected


def test_malformed_file_is_one_line_and_non_zero(run_cli, tmp_path):
    path = tmp_path / "vectors.txt"
    path.write_text("3 2\ncat 1 2\ndog 1 2,5\nemu 3 4\n")
    result = run_cli("index", "build", path, "--out", tmp_path / "index")
    assert result.code == 2 and "Traceback" not in result.err
    assert result.err.strip().count("\n") == 0
    assert result.err.startswith(
        f"embedrec: error: {path}: line 3: '2,5' is not a number (value 2 of 2)"
    )
    assert not (tmp_path / "index").exists()


def test_truncated_binary_is_one_line(run_cli, tmp_path):
    path = write_format(keyed_vectors(rows=30, dim=8), tmp_path, "word2vec-binary")
    path.write_bytes(path.read_bytes()[:-10])
    result = run_cli("index", "build", path, "--out", tmp_path / "index")
    assert result.code == 2 and result.err.strip().count("\n") == 0
    assert ": byte " in result.err and "truncated" in result.err


def test_skip_bad_lines_reports_and_records(run_cli, tmp_path):
    path = tmp_path / "glove.txt"
    path.write_text("cat 1 2\ndog 1 x\nemu 3 4\ncat 5 6\nfox 1 2 3\nyak 0 1\n")
    out = tmp_path / "index"
    result = run_cli("index", "build", path, "--out", out, "--skip-bad-lines")
    assert result.code == 0, result.err
    assert "read 3 vectors" in result.out and "skipped 3 bad records" in result.out
    assert "line 2: 'x' is not a number" in result.out
    source = read_manifest(out)["source_file"]
    assert source["skipped"] == 3 and source["skipped_all_listed"]
    assert [r["line"] for r in source["skipped_listed"]] == [2, 4, 5]
    assert "duplicate word 'cat' (first at line 1)" in source["skipped_listed"][1]["reason"]


def test_eval_similarity_reads_a_file(run_cli, tmp_path):
    kv = keyed_vectors(rows=50, dim=8)
    path = write_format(kv, tmp_path, "glove-text")
    pairs = tmp_path / "pairs.tsv"
    pairs.write_text("w1\tw2\t3.0\nw3\tw4\t1.0\nw5\tw6\t2.0\n")
    result = run_cli("eval", "similarity", path, "--pairs", pairs, "--json")
    assert result.code == 0, result.err
    assert json.loads(result.out)["pairs"] == 3
