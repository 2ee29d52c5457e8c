"""WordIndex: exact neighbours equal brute force, analogies find planted answers, errors."""

from __future__ import annotations

import numpy as np
import pytest
from faiss.contrib.evaluation import check_ref_knn_with_draws
from index_fixtures import brute_force, planted_analogies, unit

from embedrec.core.errors import ConfigError
from embedrec.indexes import ScoredWord, UnknownWordError, load_index
from embedrec.indexes.index_dir import exact_index_from_model


def _scores_ids(index, results):
    scores = np.array([[r.score for r in row] for row in results])
    ids = np.array([[index.id(r.token) for r in row] for row in results])
    return scores, ids


def test_exact_neighbours_equal_numpy_brute_force(make_model):
    rng = np.random.default_rng(0)
    vectors = rng.standard_normal((400, 16)).astype(np.float32)
    index = load_index(make_model(vectors))
    words = [f"w{i}" for i in range(0, 400, 7)]
    results = index.neighbors_batch(words, k=10)
    scores, ids = _scores_ids(index, results)
    own = [index.id(w) for w in words]
    ref_scores, ref_ids = brute_force(vectors, vectors[own], 10, exclude=own)
    check_ref_knn_with_draws(ref_scores, ref_ids, scores, ids, rtol=1e-5, atol=1e-6)
    assert all(w not in [r.token for r in row] for w, row in zip(words, results, strict=True))


def test_ties_are_allowed_and_self_is_excluded_among_duplicates(make_model):
    # Vectors from {-1, 0, 1}^3: many exact duplicates and tied scores.
    rng = np.random.default_rng(1)
    vectors = rng.integers(-1, 2, size=(200, 3)).astype(np.float32)
    vectors[vectors.sum(axis=1) == 0] += 1  # no all-zero rows
    vectors[~vectors.any(axis=1)] = 1
    index = load_index(make_model(vectors))
    own = list(range(0, 200, 5))
    results = index.neighbors_batch([f"w{i}" for i in own], k=8)
    scores, ids = _scores_ids(index, results)
    ref_scores, ref_ids = brute_force(vectors, vectors[own], 8, exclude=own)
    check_ref_knn_with_draws(ref_scores, ref_ids, scores, ids, rtol=1e-5, atol=1e-6)
    assert not np.any(ids == np.array(own)[:, None])


def test_batch_equals_one_by_one_and_vectors_equal_words(make_model):
    rng = np.random.default_rng(2)
    vectors = rng.standard_normal((300, 12)).astype(np.float32)
    index = load_index(make_model(vectors))
    words = ["w3", "w50", "w299", "w0"]
    batch = index.neighbors_batch(words, k=6)
    assert batch == [index.neighbors(w, k=6) for w in words]
    # A vector query is not a word: nothing is excluded, so the word itself comes first.
    by_vector = index.neighbors(vectors[50] * 4.0, k=7)
    assert by_vector[0].token == "w50"
    assert [r.token for r in by_vector[1:]] == [r.token for r in batch[1]]
    mixed = index.neighbors_batch(["w3", vectors[3]], k=3)
    assert mixed[0] == index.neighbors("w3", k=3)
    assert isinstance(mixed[1][0], ScoredWord)


@pytest.mark.parametrize("metric", ["ip", "l2"])
def test_other_metrics_match_brute_force(make_model, metric):
    rng = np.random.default_rng(3)
    vectors = rng.standard_normal((250, 8)).astype(np.float32)
    index = exact_index_from_model(make_model(vectors), metric=metric)
    got = index.neighbors("w10", k=5)
    if metric == "ip":
        scores = vectors @ vectors[10]
        order = np.argsort(-scores)
    else:
        scores = ((vectors - vectors[10]) ** 2).sum(axis=1)
        order = np.argsort(scores)
    expected = [f"w{i}" for i in order if i != 10][:5]
    assert [r.token for r in got] == expected
    np.testing.assert_allclose(
        [r.score for r in got], scores[[int(t[1:]) for t in expected]], rtol=1e-4
    )


@pytest.mark.parametrize("method", ["3cosadd", "3cosmul"])
def test_planted_analogies_are_found_and_inputs_excluded(make_model, method):
    vectors, tokens, pairs = planted_analogies()
    index = load_index(make_model(vectors, tokens))
    for a, b in pairs[:4]:
        for c, d in pairs[4:]:
            answers = index.analogy(a, b, c, k=3, method=method)
            assert answers[0].token == d
            assert {a, b, c}.isdisjoint(r.token for r in answers)
            assert len(answers) == 3


def test_inputs_excluded_even_when_nearest(make_model):
    # With a = b the query b - a + c is exactly c; c must still not be answered.
    vectors, tokens, _ = planted_analogies(seed=4)
    index = load_index(make_model(vectors, tokens))
    for method in ("3cosadd", "3cosmul"):
        answers = index.analogy("country0", "country0", "capital3", k=5, method=method)
        assert "capital3" not in [r.token for r in answers]
        assert "country0" not in [r.token for r in answers]


def test_3cosmul_matches_numpy_reference(make_model):
    rng = np.random.default_rng(5)
    vectors = rng.standard_normal((300, 10)).astype(np.float32)
    index = load_index(make_model(vectors))
    x = unit(vectors.astype(np.float64))
    a, b, c = 7, 21, 99
    shifted = (1 + x @ x[[a, b, c]].T) / 2
    score = shifted[:, 1] * shifted[:, 2] / (shifted[:, 0] + 1e-3)
    score[[a, b, c]] = -np.inf
    expected = np.argsort(-score)[:5]
    got = index.analogy("w7", "w21", "w99", k=5, method="3cosmul")
    assert [r.token for r in got] == [f"w{i}" for i in expected]
    np.testing.assert_allclose([r.score for r in got], score[expected], rtol=1e-4)


def test_3cosadd_matches_gensim_most_similar(make_model):
    from gensim.models import KeyedVectors

    rng = np.random.default_rng(6)
    vectors = rng.standard_normal((300, 10)).astype(np.float32)
    tokens = [f"w{i}" for i in range(300)]
    index = load_index(make_model(vectors, tokens))
    kv = KeyedVectors(vector_size=10)
    kv.add_vectors(tokens, vectors)
    expected = kv.most_similar(positive=["w21", "w99"], negative=["w7"], topn=5)
    got = index.analogy("w7", "w21", "w99", k=5)
    assert [r.token for r in got] == [t for t, _ in expected]
    np.testing.assert_allclose([r.score for r in got], [s for _, s in expected], rtol=1e-4)


def test_unknown_word_is_a_typed_error_with_a_suggestion(make_model):
    vectors, tokens, _ = planted_analogies()
    index = load_index(make_model(vectors, tokens))
    with pytest.raises(UnknownWordError) as caught:
        index.neighbors("captal3")
    assert caught.value.word == "captal3"
    assert "unknown word 'captal3'" in str(caught.value)
    assert caught.value.suggestion == "capital3"
    with pytest.raises(UnknownWordError, match="xyzzy"):
        index.analogy("country0", "xyzzy", "country1")
    assert "xyzzy" not in index
    assert "capital3" in index


def test_lookup_ignores_case_only_for_a_lowercase_vocabulary(make_model):
    rng = np.random.default_rng(7)
    vectors = rng.standard_normal((4, 5)).astype(np.float32)
    lower = load_index(make_model(vectors, ["paris", "rome", "berlin", "oslo"], name="lower"))
    assert lower.lowercase
    assert lower.neighbors("Paris", k=1) == lower.neighbors("paris", k=1)
    np.testing.assert_array_equal(lower.vector("ROME"), lower.vector("rome"))
    mixed = load_index(make_model(vectors, ["Paris", "paris", "Rome", "oslo"], name="mixed"))
    assert not mixed.lowercase
    assert mixed.id("Paris") == 0 and mixed.id("paris") == 1
    with pytest.raises(UnknownWordError):
        mixed.id("rome")


def test_bad_k_and_bad_vectors_are_config_errors(make_model):
    rng = np.random.default_rng(8)
    index = load_index(make_model(rng.standard_normal((20, 4)).astype(np.float32)))
    for bad in (0, -1, 20, 2.5, True):
        with pytest.raises(ConfigError, match=r"^k: "):
            index.neighbors("w1", k=bad)
    assert len(index.neighbors("w1", k=19)) == 19
    with pytest.raises(ConfigError, match=r"^k: "):
        index.analogy("w1", "w2", "w3", k=18)
    with pytest.raises(ConfigError, match="vector"):
        index.neighbors(np.ones(3), k=2)
    with pytest.raises(ConfigError, match="zeros"):
        index.neighbors(np.zeros(4), k=2)
    with pytest.raises(ConfigError, match="method"):
        index.analogy("w1", "w2", "w3", method="3cosdiv")


def test_vector_and_properties(make_model):
    rng = np.random.default_rng(9)
    vectors = rng.standard_normal((30, 6)).astype(np.float32)
    index = load_index(make_model(vectors))
    assert len(index) == 30 and index.dim == 6 and index.tokens[:2] == ["w0", "w1"]
    np.testing.assert_allclose(index.vector("w4"), unit(vectors[4]), rtol=1e-6)
    assert index.metric == "cosine" and index.factory == "Flat"
