"""gensim's verbs on every kind of index object, checked against gensim's KeyedVectors on
the same vectors: exact indexes (plain, sharded, in memory) must give gensim's words and
scores; approximate ones are checked against the exact answer."""

from __future__ import annotations

import builtins

import numpy as np
import pytest
from vector_file_fixtures import keyed_vectors, write_format

from embedrec.core.errors import ConfigError
from embedrec.indexes import (
    IndexConfig,
    MissingDependencyError,
    UnknownWordError,
    build_index,
    from_keyed_vectors,
    load_index,
)

SCORE_TOL = 1e-5
QUERIES = [
    {"positive": ["w10"]},
    {"positive": ["w3", "w7"], "negative": ["w11"]},
    {"positive": ["straße", ("w20", 2.5)], "negative": [("東京", 0.5)]},
    {"negative": ["w4"]},
]


@pytest.fixture(scope="module")
def kv():
    return keyed_vectors(rows=600, dim=16, seed=4)


@pytest.fixture(scope="module")
def exact_indexes(kv, tmp_path_factory):
    """The same vectors as every exact index object there is."""
    root = tmp_path_factory.mktemp("exact")
    path = write_format(kv, root, "word2vec-binary")
    build_index(path, root / "flat", IndexConfig(kind="flat"))
    build_index(path, root / "sharded", IndexConfig(kind="flat"), shards=3)
    return {
        "file": load_index(path),
        "flat-dir": load_index(root / "flat"),
        "sharded-dir": load_index(root / "sharded"),
        "keyed-vectors": from_keyed_vectors(kv),
    }


def _same(ours, theirs):
    assert [w for w, _ in ours] == [w for w, _ in theirs]
    np.testing.assert_allclose([s for _, s in ours], [s for _, s in theirs], atol=SCORE_TOL)


@pytest.mark.parametrize("name", ["file", "flat-dir", "sharded-dir", "keyed-vectors"])
def test_exact_indexes_answer_as_gensim(kv, exact_indexes, name):
    index = exact_indexes[name]
    for query in QUERIES:
        _same(index.most_similar(**query, topn=10), kv.most_similar(**query, topn=10))
    _same(
        index.most_similar("w9", topn=5, restrict_vocab=100),
        kv.most_similar("w9", topn=5, restrict_vocab=100),
    )
    vector = kv["w30"] * 3.0
    _same(index.most_similar([vector], topn=4), kv.most_similar([vector], topn=4))
    everything = index.most_similar("w8", topn=None)
    np.testing.assert_allclose(everything, kv.most_similar("w8", topn=None), atol=SCORE_TOL)
    assert index.most_similar("w8", topn=0) == kv.most_similar("w8", topn=0) == []
    for a, b in [("w1", "w2"), ("w5", "w5"), ("straße", "w500")]:
        assert index.similarity(a, b) == pytest.approx(float(kv.similarity(a, b)), abs=SCORE_TOL)
    for ws1, ws2 in [(["w1", "w2"], ["w3"]), (["w4", "w5", "w6"], ["w7", "w8"])]:
        assert index.n_similarity(ws1, ws2) == pytest.approx(
            float(kv.n_similarity(ws1, ws2)), abs=SCORE_TOL
        )
    for words in (["w1", "w2", "w3", "w4"], ["w10", "w11", "w12", "w13", "w14", "straße"]):
        assert index.doesnt_match(words) == kv.doesnt_match(words)


def test_answers_unpack_like_gensim_tuples(exact_indexes):
    (word, score), *_ = exact_indexes["file"].most_similar("w1", topn=3)
    assert isinstance(word, str) and isinstance(score, float)


def test_ip_and_l2_indexes_still_answer_in_cosines(kv, tmp_path):
    path = write_format(kv, tmp_path, "word2vec-text")
    for metric in ("ip", "l2"):
        build_index(path, tmp_path / metric, IndexConfig(kind="flat", metric=metric))
        index = load_index(tmp_path / metric)
        _same(index.most_similar(["w3", "w7"], ["w11"]), kv.most_similar(["w3", "w7"], ["w11"]))
        assert index.n_similarity(["w1", "w2"], ["w3"]) == pytest.approx(
            float(kv.n_similarity(["w1", "w2"], ["w3"])), abs=SCORE_TOL
        )


@pytest.mark.parametrize("kind", ["hnsw", "ivf-flat", "sq8"])
def test_approximate_indexes_agree_with_exact(kv, exact_indexes, tmp_path, kind):
    path = write_format(kv, tmp_path, "word2vec-binary")
    config = IndexConfig(kind=kind, target_recall=0.95, nlist=8 if kind == "ivf-flat" else None)
    build_index(path, tmp_path / kind, config)
    approximate, exact = load_index(tmp_path / kind), exact_indexes["flat-dir"]
    # Quantised codes (sq8) change the scores a little; HNSW and IVF store the vectors.
    tolerance = 0.02 if kind == "sq8" else SCORE_TOL
    overlap = []
    for query in QUERIES:
        truth = {w for w, _ in exact.most_similar(**query, topn=10)}
        found = approximate.most_similar(**query, topn=10)
        overlap.append(len(truth & {w for w, _ in found}) / 10)
        every = exact.most_similar(**query, topn=None)
        for word, score in found:
            assert score == pytest.approx(float(every[exact.id(word)]), abs=tolerance)
    assert np.mean(overlap) >= 0.9
    expected = exact.similarity("w1", "w2")
    assert approximate.similarity("w1", "w2") == pytest.approx(expected, abs=tolerance)
    assert approximate.n_similarity(["w1", "w2"], ["w3"]) == pytest.approx(
        exact.n_similarity(["w1", "w2"], ["w3"]), abs=tolerance
    )


def test_unknown_words_and_empty_lists(exact_indexes):
    index = exact_indexes["file"]
    for call in (
        lambda: index.most_similar(["w1", "nope"]),
        lambda: index.similarity("w1", "nope"),
        lambda: index.n_similarity(["w1"], ["nope"]),
        lambda: index.doesnt_match(["w1", "w2", "nope"]),
    ):
        with pytest.raises(UnknownWordError, match="unknown word 'nope'"):
            call()
    with pytest.raises(ConfigError, match="positive"):
        index.most_similar()
    with pytest.raises(ConfigError, match="words_a"):
        index.n_similarity([], ["w1"])
    with pytest.raises(ConfigError, match="words"):
        index.doesnt_match([])
    with pytest.raises(ConfigError, match="topn"):
        index.most_similar("w1", topn=-1)


def test_keyed_vectors_round_trip(kv, exact_indexes):
    for name in ("file", "sharded-dir", "keyed-vectors"):
        back = exact_indexes[name].to_keyed_vectors()
        assert back.index_to_key == kv.index_to_key
        np.testing.assert_allclose(back.vectors, kv.vectors, rtol=1e-5, atol=1e-6)
        _same(back.most_similar("w3", topn=3), kv.most_similar("w3", topn=3))


def test_to_keyed_vectors_without_gensim_says_so(exact_indexes, monkeypatch):
    real_import = builtins.__import__

    def no_gensim(name, *args, **kwargs):
        if name.startswith("gensim"):
            raise ImportError("No module named 'gensim'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_gensim)
    with pytest.raises(MissingDependencyError, match=r"needs gensim.*pip install gensim"):
        exact_indexes["file"].to_keyed_vectors()


def test_from_keyed_vectors_refuses_other_objects():
    with pytest.raises(ConfigError, match="KeyedVectors"):
        from_keyed_vectors({"a": [1.0]})
