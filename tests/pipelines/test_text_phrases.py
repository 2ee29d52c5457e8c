"""Phrase detection (embedrec.pipelines.text.phrases) and the --phrases passes of the pipeline."""

from __future__ import annotations

import itertools
import random
from collections import Counter
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from embedrec.pipelines.runtime.dask_cluster import ClusterConfig
from embedrec.pipelines.text.dataset import open_text_dataset
from embedrec.pipelines.text.encoded import EncodedTokens
from embedrec.pipelines.text.phrases import (
    count_pair_keys,
    greedy_joins,
    merge_pairs,
    pair_keys,
    reduce_pair_counts,
    score_pairs,
    token_ids,
)
from embedrec.pipelines.text.pipeline import TextPipelineConfig, run_text_pipeline
from embedrec.pipelines.text.tokenize import tokenize_line


@pytest.fixture(scope="module")
def cluster():
    from distributed import LocalCluster

    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=False, dashboard_address=":0"
    ) as local:
        yield ClusterConfig(scheduler=local.scheduler_address)


def test_pair_keys_stay_inside_sentences_and_skip_unknown_tokens():
    ids = np.array([0, 1, -1, 2, 2, 0], dtype=np.int64)
    offsets = np.array([0, 4, 4, 6])  # an empty sentence in the middle
    assert pair_keys(ids, offsets, 3).tolist() == [1, -1, -1, -1, 6]


def test_counts_reduce_exactly_across_partitions():
    a = count_pair_keys(np.array([5, 3, 5, -1, 5]))
    b = count_pair_keys(np.array([3, 9]))
    keys, counts = reduce_pair_counts([a, b])
    assert keys.tolist() == [3, 5, 9] and counts.tolist() == [2, 3, 1]


def test_score_is_word2phrase_formula():
    unigram = np.array([10, 20, 5])
    keys = np.array([0 * 3 + 1, 2 * 3 + 0])
    scores = score_pairs(keys, np.array([8, 5]), unigram, total_words=1000, delta=5)
    assert scores.tolist() == pytest.approx([(8 - 5) / (10 * 20) * 1000, 0.0])


def test_greedy_joins_never_overlap():
    assert greedy_joins(np.array([], dtype=bool)).tolist() == []
    assert greedy_joins(np.array([True, True])).tolist() == [True, False]
    assert greedy_joins(np.array([False, True, True, True, True])).tolist() == [
        False,
        True,
        False,
        True,
        False,
    ]


def test_merge_pairs_rebuilds_tokens_offsets_and_dictionary():
    words = ["new", "york", "city", "is", "big", "new", "york", "new_york", "new"]
    tokens = EncodedTokens.encode(words, [0, 5, 7, 9])
    joined = np.array([True, False, False, False, False, True, False, False])
    merged = merge_pairs(tokens, joined)
    assert merged.sentences() == [
        ["new_york", "city", "is", "big"],
        ["new_york"],
        ["new_york", "new"],  # a phrase already in the text shares its dictionary entry
    ]
    assert merged.offsets.tolist() == [0, 4, 5, 7]
    counts = dict(zip(merged.dictionary.to_pylist(), merged.counts().tolist(), strict=True))
    assert counts == {"new_york": 3, "city": 1, "is": 1, "big": 1, "new": 1}  # no "york" left
    assert merge_pairs(tokens, np.zeros(8, dtype=bool)) is tokens


def test_encoded_tokens_round_trip(tmp_path):
    tokens = EncodedTokens.encode(["b", "a", "b", "c"], [0, 0, 3, 4])  # an empty sentence too
    tokens.write(tmp_path, 7)
    back = EncodedTokens.read(tmp_path, 7)
    assert back.sentences() == [[], ["b", "a", "b"], ["c"]]
    assert back.counts().tolist() == [2, 1, 1]
    ids = token_ids(pa.array(["b", "zz", "a"]), pa.array(["a", "b"]))
    assert ids.tolist() == [1, -1, 0]


def planted(seed: int, sentences: int = 1600) -> str:
    """Random words from 200, plus "New York City" in every 16th sentence (100 times)."""
    rng = random.Random(seed)
    words = [
        "".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(6)) for _ in range(200)
    ]
    lines = []
    for i in range(sentences):
        sentence = [rng.choice(words) for _ in range(rng.randint(4, 14))]
        if i % 16 == 0:
            sentence.insert(rng.randint(0, len(sentence)), "New York City")
        lines.append(" ".join(sentence).capitalize() + ".")
    return "\n".join(" ".join(lines[i : i + 3]) for i in range(0, len(lines), 3)) + "\n"


def reference_word2phrase(sentences, min_count, delta, threshold):
    """Straightforward word2phrase pass with Python dicts (fine for a test-sized corpus)."""
    unigrams = Counter(t for s in sentences for t in s)
    total = sum(unigrams.values())
    bigrams = Counter(p for s in sentences for p in itertools.pairwise(s))
    accepted = {}
    for (a, b), count in bigrams.items():
        if unigrams[a] >= min_count and unigrams[b] >= min_count:
            score = (count - delta) / (unigrams[a] * unigrams[b]) * total
            if score > threshold:
                accepted[(a, b)] = (count, score)
    out, formed = [], set()
    for s in sentences:
        new, joined_previous = [], False
        for j, token in enumerate(s):
            if j and not joined_previous and (s[j - 1], token) in accepted:
                new[-1] = f"{new[-1]}_{token}"
                formed.add((s[j - 1], token))
                joined_previous = True
            else:
                new.append(token)
                joined_previous = False
        out.append(new)
    phrases = {f"{a}_{b}": accepted[(a, b)] for a, b in formed}
    return out, phrases


def test_planted_phrase_is_found_in_two_passes_and_random_pairs_are_not(tmp_path, cluster):
    (tmp_path / "t.txt").write_text(planted(seed=1))
    config = TextPipelineConfig(
        inputs=(str(tmp_path / "t.txt"),), out=str(tmp_path / "ds"), phrases=2, partition_bytes=9000
    )
    result = run_text_pipeline(config, cluster)
    phrases = pq.read_table(tmp_path / "ds" / "phrases.parquet").to_pylist()
    assert [(p["phrase"], p["pass"]) for p in phrases] == [("new_york", 1), ("new_york_city", 2)]
    assert [p["count"] for p in phrases] == [100, 100]
    assert phrases[0]["score"] > 100 and phrases[1]["score"] > 100
    vocab = open_text_dataset(tmp_path / "ds").vocab
    assert "new_york_city" in vocab.tokens
    assert not {"new", "york", "city", "new_york"} & set(vocab.tokens)
    assert result.counts["phrases"] == 2 and result.counts["phrase_joins"] == 200
    assert result.counts["tokens"] == result.counts["raw_tokens"] - 200


def test_one_pass_joins_only_the_first_pair(tmp_path, cluster):
    (tmp_path / "t.txt").write_text(planted(seed=2))
    config = TextPipelineConfig(
        inputs=(str(tmp_path / "t.txt"),), out=str(tmp_path / "ds"), phrases=1
    )
    run_text_pipeline(config, cluster)
    tokens = set(open_text_dataset(tmp_path / "ds").vocab.tokens)
    assert {"new_york", "city"} <= tokens and "york_city" not in tokens


def reference_corpus(seed: int) -> str:
    """Zipf-distributed noise words plus planted pairs and triples of many frequencies, so
    that some phrases score above the threshold, some below, and some join in pass 2."""
    rng = random.Random(seed)
    words = [f"w{i}" for i in range(300)]
    weights = [1 / (i + 1) for i in range(300)]
    planted = []
    for j in range(40):
        planted += [f"p{j}a p{j}b"] * (2 + j) + [f"p{j}a"] * (j // 3)
    for j in range(10):
        planted += [f"t{j}a t{j}b t{j}c"] * (5 + 2 * j)
    rng.shuffle(planted)
    lines = []
    while planted:
        sentence = rng.choices(words, weights, k=rng.randint(1, 20))
        for _ in range(rng.randint(0, 3)):
            if planted:
                sentence.insert(rng.randint(0, len(sentence)), planted.pop())
        lines.append(" ".join(sentence).capitalize() + rng.choice([".", "!", "?"]))
    return "\n".join(" ".join(lines[i : i + 2]) for i in range(0, len(lines), 2)) + "\n"


def test_phrases_equal_a_reference_word2phrase(tmp_path, cluster):
    text = reference_corpus(seed=4)
    (tmp_path / "t.txt").write_text(text)
    min_count, threshold = 3, 300.0
    config = TextPipelineConfig(
        inputs=(str(tmp_path / "t.txt"),),
        out=str(tmp_path / "ds"),
        min_count=min_count,
        phrases=3,
        phrase_threshold=threshold,
        partition_bytes=3000,
    )
    run_text_pipeline(config, cluster)
    sentences = [s for line in text.split("\n") for s in tokenize_line(line)]
    expected = {}
    for pass_no in (1, 2, 3):
        sentences, found = reference_word2phrase(sentences, min_count, min_count, threshold)
        expected.update({(p, pass_no): c for p, c in found.items()})
    got = pq.read_table(tmp_path / "ds" / "phrases.parquet").to_pylist()
    # The test must exercise real phrases, in more than one pass, and a threshold that bites.
    assert len(got) > 20 and {r["pass"] for r in got} == {1, 2}
    assert any(f"p{j}a_p{j}b" not in {r["phrase"] for r in got} for j in range(3, 40))
    assert {(r["phrase"], r["pass"]): r["count"] for r in got} == {
        k: count for k, (count, _) in expected.items()
    }
    for r in got:
        assert r["score"] == pytest.approx(expected[(r["phrase"], r["pass"])][1], rel=1e-12)
    vocab_counts = Counter(t for s in sentences for t in s)
    vocab = open_text_dataset(tmp_path / "ds").vocab
    assert dict(zip(vocab.tokens, vocab.counts.tolist(), strict=True)) == {
        t: c for t, c in vocab_counts.items() if c >= min_count
    }


def test_phrase_delta_and_threshold_are_recorded(tmp_path, cluster):
    (tmp_path / "t.txt").write_text(planted(seed=3, sentences=300))
    config = TextPipelineConfig(
        inputs=(str(tmp_path / "t.txt"),),
        out=str(tmp_path / "ds"),
        phrases=1,
        phrase_threshold=1e9,
        phrase_delta=2,
    )
    result = run_text_pipeline(config, cluster)
    assert result.counts["phrases"] == 0
    assert pq.read_table(Path(tmp_path / "ds" / "phrases.parquet")).num_rows == 0
    assert result.manifest["config"]["phrase_delta"] == 2
    assert result.manifest["config"]["phrase_threshold"] == 1e9
