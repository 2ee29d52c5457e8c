"""Sharded indexes: N files over contiguous id ranges answer exactly like one index."""

from __future__ import annotations

import json

import numpy as np
import pytest
from faiss.contrib.datasets import SyntheticDataset
from index_fixtures import brute_force

from embedrec.core.artifacts import read_manifest, write_json
from embedrec.core.errors import ArtifactError, ConfigError
from embedrec.indexes import IndexConfig, build_index, load_index
from embedrec.indexes.index_dir import INDEX_FILE
from embedrec.indexes.sharded import ShardedIndex, shard_file_name, shard_ranges

VOCAB = 1000
DIM = 24


@pytest.fixture(scope="module")
def vectors() -> np.ndarray:
    return SyntheticDataset(DIM, 0, VOCAB, 0, seed=3).get_database().astype(np.float32)


def test_shard_ranges_are_contiguous_and_balanced():
    assert shard_ranges(10, 3) == [(0, 4), (4, 7), (7, 10)]
    assert shard_ranges(5, 5) == [(i, i + 1) for i in range(5)]
    assert shard_ranges(7, 1) == [(0, 7)]
    for bad in (0, 8, -1, 2.0, True):
        with pytest.raises(ConfigError, match="shards"):
            shard_ranges(7, bad)  # type: ignore[arg-type]


def test_sharded_exact_index_equals_unsharded(make_model, tmp_path, vectors):
    model = make_model(vectors)
    build_index(model, tmp_path / "one", IndexConfig(kind="flat"))
    report = build_index(model, tmp_path / "four", IndexConfig(kind="flat"), shards=4)
    assert report.shards == 4
    one, four = load_index(tmp_path / "one"), load_index(tmp_path / "four")
    assert isinstance(four.index, ShardedIndex) and len(four.index.shards) == 4
    assert not (tmp_path / "four" / INDEX_FILE).exists()
    manifest = read_manifest(tmp_path / "four", kinds=["index"])
    assert [s["file"] for s in manifest["shards"]] == [shard_file_name(i, 4) for i in range(4)]
    assert [(s["start"], s["stop"]) for s in manifest["shards"]] == shard_ranges(VOCAB, 4)

    words = [f"w{i}" for i in range(VOCAB)]
    expected, got = one.neighbors_batch(words, k=10), four.neighbors_batch(words, k=10)
    assert [[a.token for a in row] for row in got] == [[a.token for a in row] for row in expected]
    for row_got, row_expected in zip(got, expected, strict=True):
        np.testing.assert_allclose(
            [a.score for a in row_got], [a.score for a in row_expected], rtol=1e-5
        )
    # And both equal brute force (ties aside, which seeded Gaussian data does not have).
    _, truth = brute_force(vectors, vectors, 10, exclude=list(range(VOCAB)))
    assert [[four.id(a.token) for a in row] for row in got] == truth.tolist()
    # Stored vectors come back from the right shard; analogies (both methods) agree.
    ids = np.array([0, 249, 250, 251, 999])
    np.testing.assert_array_equal(four.rows(ids), one.rows(ids))
    for method in ("3cosadd", "3cosmul"):
        got_answers = four.analogy("w1", "w600", "w333", k=5, method=method)
        expected_answers = one.analogy("w1", "w600", "w333", k=5, method=method)
        assert [a.token for a in got_answers] == [a.token for a in expected_answers]
        np.testing.assert_allclose(
            [a.score for a in got_answers], [a.score for a in expected_answers], rtol=1e-5
        )


def test_sharded_approximate_kinds_measure_recall_and_keep_search_params(
    make_model, tmp_path, vectors
):
    model = make_model(vectors)
    for kind, parameter in (("hnsw", "efSearch"), ("ivf-flat", "nprobe")):
        config = IndexConfig(kind=kind, target_recall=0.9, recall_queries=300)
        report = build_index(model, tmp_path / kind, config, shards=3)
        assert report.recall_at_10 is not None and report.recall_at_10 >= 0.9
        index = load_index(tmp_path / kind)
        assert isinstance(index.index, ShardedIndex)
        value = report.search_params[parameter]
        import faiss

        for shard in index.index.shards:
            if parameter == "nprobe":
                assert faiss.extract_index_ivf(shard).nprobe == value
            else:
                assert faiss.downcast_index(shard).hnsw.efSearch == value
        # The neighbours of a word in its own shard and across shards are found.
        assert index.neighbors("w5", k=3) and index.neighbors("w995", k=3)


def test_cli_shards_flag_and_broken_shards(run_cli, make_model, tmp_path, vectors):
    model = make_model(vectors)
    out = tmp_path / "idx"
    result = run_cli("index", "build", model, "--out", out, "--kind", "flat", "--shards", "2")
    assert result.code == 0, result.err
    assert "2 shards" in result.out
    query = run_cli("query", "neighbors", out, "w3", "-k", "2", "--json")
    assert query.code == 0 and len(json.loads(query.out)["neighbors"]) == 2

    bad = run_cli("index", "build", model, "--out", tmp_path / "bad", "--shards", "0")
    assert bad.code == 2 and "shards: got 0" in bad.err

    (out / shard_file_name(1, 2)).unlink()
    with pytest.raises(ArtifactError, match="shard 1 of 2"):
        load_index(out)
    manifest = read_manifest(out, kinds=["index"])
    manifest["shards"][1]["start"] = 7
    write_json(out / "manifest.json", manifest)
    with pytest.raises(ArtifactError, match="covers ids 7"):
        load_index(out)
