"""Index builds: every kind, recall in the manifest vs recomputed, auto, errors, overwrite."""

from __future__ import annotations

import numpy as np
import pytest
from faiss.contrib.datasets import SyntheticDataset
from index_fixtures import brute_force

from embedrec.core.artifacts import read_manifest
from embedrec.core.errors import ArtifactError, ConfigError, OutputExistsError
from embedrec.indexes import IndexBuildError, IndexConfig, build_index, load_index
from embedrec.indexes.index_dir import INDEX_FILE

VOCAB = 2000
DIM = 32


@pytest.fixture(scope="module")
def clustered_vectors() -> np.ndarray:
    # FAISS's synthetic data: low intrinsic dimension, hard enough that IVF/PQ lose recall.
    return SyntheticDataset(DIM, 0, VOCAB, 0, seed=1).get_database().astype(np.float32)


def _recomputed_recall(index, vectors: np.ndarray, k: int = 10) -> float:
    words = [f"w{i}" for i in range(len(vectors))]
    found = index.neighbors_batch(words, k=k)
    _, truth = brute_force(vectors, vectors, k, exclude=list(range(len(vectors))))
    hits = sum(len({index.id(r.token) for r in row} & set(truth[i])) for i, row in enumerate(found))
    return hits / truth.size


@pytest.mark.parametrize(
    ("kind", "factory_prefix"),
    [
        ("hnsw", "HNSW32"),
        ("ivf-flat", "IVF"),
        ("ivf-pq", "IVF"),
        ("fp16", "SQfp16"),
        ("sq8", "SQ8"),
        ("IVF16,SQ8", "IVF16,SQ8"),
    ],
)
def test_manifest_recall_matches_recomputed_recall(
    make_model, tmp_path, clustered_vectors, kind, factory_prefix
):
    model = make_model(clustered_vectors)
    # Every word is a recall query, so the recomputation sees exactly the build's sample.
    config = IndexConfig(kind=kind, recall_queries=VOCAB, target_recall=0.9)
    report = build_index(model, tmp_path / "index", config)
    manifest = read_manifest(tmp_path / "index", kinds=["index"])
    assert manifest["factory"].startswith(factory_prefix)
    assert manifest["recall_at_10"] == pytest.approx(report.recall_at_10)
    assert manifest["metric"] == "cosine" and manifest["normalized"] is True
    assert manifest["dim"] == DIM and manifest["counts"]["vectors"] == VOCAB
    assert manifest["source_model"]["embeddings_sha256"]
    index = load_index(tmp_path / "index")
    assert index.manifest["search_params"] == report.search_params
    recomputed = _recomputed_recall(index, clustered_vectors)
    assert recomputed == pytest.approx(report.recall_at_10, abs=0.01)
    if kind in ("hnsw", "ivf-flat", "fp16", "IVF16,SQ8"):
        assert report.target_reached and report.recall_at_10 >= 0.9


def test_tuned_search_parameter_is_stored_and_applied_at_load(
    make_model, tmp_path, clustered_vectors
):
    model = make_model(clustered_vectors)
    report = build_index(model, tmp_path / "ivf", IndexConfig(kind="ivf-flat", target_recall=0.99))
    nprobe = report.search_params["nprobe"]
    assert [step["nprobe"] for step in report.tuning][-1] == nprobe
    assert all(step["recall"] < 0.99 for step in report.tuning[:-1])
    import faiss

    loaded = load_index(tmp_path / "ivf")
    assert faiss.extract_index_ivf(loaded.index).nprobe == nprobe

    fixed = build_index(model, tmp_path / "fixed", IndexConfig(kind="hnsw", ef_search=20))
    assert fixed.search_params == {"efSearch": 20} and len(fixed.tuning) == 1
    assert load_index(tmp_path / "fixed").index.hnsw.efSearch == 20


def test_auto_picks_flat_when_small_and_approximate_when_large(
    make_model, tmp_path, clustered_vectors
):
    model = make_model(clustered_vectors)
    small = build_index(model, tmp_path / "small", IndexConfig(auto_exact_below=5000))
    assert (small.kind, small.factory, small.exact, small.recall_at_10) == (
        "flat",
        "Flat",
        True,
        None,
    )
    hnsw = build_index(
        model, tmp_path / "hnsw", IndexConfig(auto_exact_below=1000, auto_hnsw_below=5000)
    )
    assert hnsw.kind == "hnsw" and hnsw.recall_at_10 >= 0.95 and hnsw.target_reached
    ivf = build_index(
        model, tmp_path / "ivf", IndexConfig(auto_exact_below=100, auto_hnsw_below=1000)
    )
    assert ivf.kind == "ivf-flat" and ivf.recall_at_10 >= 0.95
    assert read_manifest(tmp_path / "ivf")["index_kind"] == "ivf-flat"


def test_exact_index_file_neighbours_equal_model_neighbours(make_model, tmp_path):
    rng = np.random.default_rng(0)
    vectors = rng.standard_normal((500, 8)).astype(np.float32)
    model = make_model(vectors)
    # Small chunks: the index is filled over several reads of the memory map.
    build_index(model, tmp_path / "flat", IndexConfig(kind="flat", chunk_rows=64))
    from_file = load_index(tmp_path / "flat")
    in_memory = load_index(model)
    words = [f"w{i}" for i in range(0, 500, 50)]
    assert from_file.neighbors_batch(words, 5) == in_memory.neighbors_batch(words, 5)


def test_bad_factory_string_is_a_clear_config_error(make_model, tmp_path, clustered_vectors):
    model = make_model(clustered_vectors)
    with pytest.raises(ConfigError) as caught:
        build_index(model, tmp_path / "bad", IndexConfig(kind="IVF16,Bogus"))
    message = str(caught.value)
    assert message.startswith("kind: got 'IVF16,Bogus'")
    assert "factory string" in message and "\n" not in message
    assert not (tmp_path / "bad").exists()


def test_config_is_validated_in_one_place():
    with pytest.raises(ConfigError, match="metric"):
        IndexConfig(metric="cos")
    with pytest.raises(ConfigError, match="target_recall"):
        IndexConfig(target_recall=1.5)
    with pytest.raises(ConfigError, match="nlist"):
        IndexConfig(nlist=0)
    with pytest.raises(ConfigError, match="pq_m"):
        from embedrec.indexes import plan_index

        plan_index(IndexConfig(kind="ivf-pq", pq_m=7), vocab_size=10_000, dim=32)


def test_ivf_pq_refuses_a_vocabulary_too_small_to_train(make_model, tmp_path):
    model = make_model(np.random.default_rng(0).standard_normal((300, 8)).astype(np.float32))
    with pytest.raises(ConfigError, match="ivf-pq"):
        build_index(model, tmp_path / "pq", IndexConfig(kind="ivf-pq"))


def test_refuses_existing_output_unless_overwrite(make_model, tmp_path):
    model = make_model(np.random.default_rng(0).standard_normal((50, 4)).astype(np.float32))
    out = tmp_path / "index"
    build_index(model, out, IndexConfig(kind="flat"))
    first = (out / INDEX_FILE).stat().st_mtime_ns
    with pytest.raises(OutputExistsError, match="--overwrite"):
        build_index(model, out, IndexConfig(kind="flat"))
    assert (out / INDEX_FILE).stat().st_mtime_ns == first
    build_index(model, out, IndexConfig(kind="sq8"), overwrite=True)
    assert read_manifest(out)["factory"] == "SQ8"


def test_bad_vectors_and_wrong_directories_are_artifact_errors(make_model, tmp_path):
    vectors = np.random.default_rng(0).standard_normal((50, 4)).astype(np.float32)
    vectors[17, 2] = np.nan
    model = make_model(vectors)
    with pytest.raises(ArtifactError, match="row 17"):
        build_index(model, tmp_path / "index", IndexConfig(kind="flat"))
    with pytest.raises(ArtifactError):
        load_index(tmp_path / "missing")


def test_zero_vectors_are_counted_not_nan(make_model, tmp_path):
    vectors = np.random.default_rng(0).standard_normal((60, 4)).astype(np.float32)
    vectors[[3, 9]] = 0
    report = build_index(make_model(vectors), tmp_path / "index", IndexConfig(kind="flat"))
    assert report.zero_vectors == 2
    index = load_index(tmp_path / "index")
    assert all(np.isfinite(r.score) for r in index.neighbors("w5", k=59))


def test_factory_faiss_cannot_fill_is_a_build_error(make_model, tmp_path):
    model = make_model(np.random.default_rng(0).standard_normal((50, 4)).astype(np.float32))
    with pytest.raises(IndexBuildError, match="adding vectors to IndexIDMap failed"):
        build_index(model, tmp_path / "idmap", IndexConfig(kind="IDMap,Flat"))


@pytest.mark.parametrize("metric", ["ip", "l2"])
def test_approximate_recall_for_raw_metrics(make_model, tmp_path, clustered_vectors, metric):
    model = make_model(clustered_vectors)
    config = IndexConfig(kind="ivf-flat", metric=metric, recall_queries=VOCAB, target_recall=0.9)
    report = build_index(model, tmp_path / metric, config)
    index = load_index(tmp_path / metric)
    assert index.metric == metric and read_manifest(tmp_path / metric)["normalized"] is False
    x = clustered_vectors.astype(np.float64)
    if metric == "ip":
        scores = -(x @ x.T)
    else:
        scores = (x**2).sum(1)[:, None] - 2 * x @ x.T + (x**2).sum(1)[None, :]
    np.fill_diagonal(scores, np.inf)
    truth = np.argsort(scores, axis=1)[:, :10]
    found = index.neighbors_batch([f"w{i}" for i in range(VOCAB)], k=10)
    hits = sum(len({index.id(r.token) for r in row} & set(truth[i])) for i, row in enumerate(found))
    assert hits / truth.size == pytest.approx(report.recall_at_10, abs=0.01)
    assert report.recall_at_10 >= 0.9
