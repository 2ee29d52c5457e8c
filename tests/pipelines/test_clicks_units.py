"""Vocabulary order, the time/hash/order split rules and AOL negative sampling, without Dask."""

from __future__ import annotations

import collections

import numpy as np
import pytest

from embedrec.pipelines.clicks.hashing import pair_key, string_hash64
from embedrec.pipelines.clicks.negatives import NegativeSampler, merge_pairs
from embedrec.pipelines.clicks.split import (
    find_time_cut,
    hash_user_validation,
    histogram,
    order_validation,
    time_validation,
    validation_count,
)
from embedrec.pipelines.clicks.vocab import merge_counts, order_vocab

# --- vocabularies -------------------------------------------------------------------------


def test_vocab_order_min_count_and_unk():
    counts = {"b": 3, "a": 3, "c": 7, "rare": 1, "rarer": 1, "<unk>": 5}
    values, numbers = order_vocab(counts, min_count=2)
    # id 0 is reserved; a literal "<unk>" value in the data gets an id of its own
    assert values == ["<unk>", "c", "<unk>", "a", "b"]
    assert numbers.tolist() == [2, 7, 5, 3, 3]
    values, numbers = order_vocab({}, min_count=1)
    assert values == ["<unk>"] and numbers.tolist() == [0]


def test_merge_counts_sums_per_vocabulary():
    a = {"doc": collections.Counter({"d1": 2}), "device": collections.Counter({"m": 1})}
    b = {"doc": collections.Counter({"d1": 1, "d2": 4})}
    merged = merge_counts(a, b)
    assert merged == {"doc": {"d1": 3, "d2": 4}, "device": {"m": 1}}
    assert a["doc"]["d1"] == 2  # inputs untouched: Dask may hand the same object twice


# --- split rules ----------------------------------------------------------------------------


def summed_histogram(chunks):
    def hist(lo, width, bins):
        return np.sum([histogram(c, lo, width, bins) for c in chunks], axis=0)

    return hist


@pytest.mark.parametrize("fraction", [0.0, 0.01, 0.1, 0.25, 0.5, 0.9])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_time_cut_is_the_exact_order_statistic(seed, fraction):
    rng = np.random.default_rng(seed)
    # Microsecond times over ~20 years, with heavy ties (a tenth repeat one instant).
    times = rng.integers(1_100_000_000_000_000, 1_750_000_000_000_000, size=5000)
    times[rng.random(5000) < 0.1] = 1_400_000_000_000_000
    chunks = np.array_split(rng.permutation(times), 7)
    cut = find_time_cut(summed_histogram(chunks), times.min(), times.max(), len(times), fraction)
    n_valid = validation_count(len(times), fraction)
    if n_valid == 0:
        assert cut is None
        return
    assert cut == np.sort(times)[len(times) - n_valid - 1]
    valid = time_validation(times.tolist(), cut)
    assert valid.sum() <= n_valid  # ties with the cut stay in train
    assert valid.sum() == (times > cut).sum()


def test_time_split_without_ties_takes_exactly_the_last_fraction():
    times = np.arange(1000) * 7 + 3
    cut = find_time_cut(summed_histogram([times]), 3, times.max(), 1000, 0.1, bins=16)
    assert time_validation(list(times), cut).sum() == 100
    assert time_validation([None, 5], None).tolist() == [False, False]


def test_validation_count_ignores_float_noise():
    assert validation_count(10, 0.1) == 1
    assert validation_count(100, 0.29) == 29
    assert validation_count(30, 0.1) == 3


def test_hash_user_split_is_stable_and_near_the_fraction():
    users = [f"user-{i}" for i in range(20000)]
    first = hash_user_validation(users, 0.2)
    again = hash_user_validation(list(reversed(users)), 0.2)[::-1]
    assert np.array_equal(first, again)  # depends on the user only
    assert abs(first.mean() - 0.2) < 0.015
    bigger = hash_user_validation(users, 0.5)
    assert np.all(bigger[first])  # a larger fraction only adds users
    assert hash_user_validation([None, None], 0.99).tolist() == [False, False]


def test_order_split_takes_the_last_impressions():
    assert order_validation(np.arange(10), 10, 0.3).tolist() == [False] * 7 + [True] * 3


# --- AOL negatives --------------------------------------------------------------------------


def sampler(counts, clicked=(), per_click=1, seed=0):
    docs = [f"d{i}" for i in range(len(counts))]
    keys = [pair_key(string_hash64([q]), string_hash64([d]))[0] for q, d in clicked]
    return NegativeSampler(
        doc_counts=np.array(counts, dtype=np.int64),
        doc_hashes=string_hash64(docs),
        clicked=merge_pairs(np.array(keys, dtype=np.uint64)),
        per_click=per_click,
        seed=seed,
    )


def test_negatives_follow_popularity():
    counts = [0, 50, 25, 15, 10]  # id 0 is <unk>: never drawn
    s = sampler(counts)
    queries = string_hash64(f"q{i}" for i in range(20000))
    drawn = s.sample(queries, 0, np.arange(20000))[:, 0]
    frequencies = np.bincount(drawn, minlength=5) / len(drawn)
    assert frequencies[0] == 0
    np.testing.assert_allclose(frequencies[1:], np.array(counts[1:]) / 100, atol=0.015)


def test_negatives_refuse_clicked_docs_and_repeats():
    s = sampler([0, 90, 5, 3, 2], clicked=[("q", "d1"), ("q", "d2")], per_click=2)
    drawn = s.sample(string_hash64(["q"] * 300), 0, np.arange(300))
    assert set(drawn.ravel().tolist()) <= {3, 4}
    assert np.all(drawn[:, 0] != drawn[:, 1])
    # only two docs are allowed for q: asking for three leaves one slot empty (0)
    s3 = sampler([0, 90, 5, 3, 2], clicked=[("q", "d1"), ("q", "d2")], per_click=3)
    drawn3 = s3.sample(string_hash64(["q"] * 50), 0, np.arange(50))
    assert np.all(np.sort(drawn3, axis=1) == [0, 3, 4])


def test_negatives_are_seeded_per_click():
    s = sampler([0, 5, 5, 5, 5, 5, 5], per_click=2, seed=7)
    queries, lines = string_hash64(f"q{i}" for i in range(40)), np.arange(40)
    whole = s.sample(queries, 3, lines)
    assert np.array_equal(whole, s.sample(queries, 3, lines))
    # a click's negatives do not depend on the other clicks in the batch
    assert np.array_equal(whole[25:], s.sample(queries[25:], 3, lines[25:]))
    other_seed = sampler([0, 5, 5, 5, 5, 5, 5], per_click=2, seed=8)
    assert not np.array_equal(whole, other_seed.sample(queries, 3, lines))
