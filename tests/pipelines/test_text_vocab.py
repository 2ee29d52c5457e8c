"""Vocabulary ids, min-count and max-vocab (embedrec.pipelines.text.counts and the pipeline)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from embedrec.pipelines.runtime.dask_cluster import ClusterConfig
from embedrec.pipelines.text.counts import (
    order_vocabulary,
    reduce_token_counts,
    token_buckets,
    write_token_counts,
)
from embedrec.pipelines.text.dataset import open_text_dataset
from embedrec.pipelines.text.pipeline import TextPipelineConfig, run_text_pipeline

# Counts: c 4, a 3, b 3, é 3, d 2, z 1 (ties broken by code point: a < b < é).
TEXT = "b a c z\nc é a\nb c d é\nd c a b é\n"


@pytest.fixture(scope="module")
def cluster():
    from distributed import LocalCluster

    with LocalCluster(
        n_workers=1, threads_per_worker=1, processes=False, dashboard_address=":0"
    ) as local:
        yield ClusterConfig(scheduler=local.scheduler_address)


def vocab_of(tmp_path, cluster, **options):
    (tmp_path / "t.txt").write_text(TEXT, encoding="utf-8")
    config = TextPipelineConfig(
        inputs=(str(tmp_path / "t.txt"),), out=str(tmp_path / "ds"), overwrite=True, **options
    )
    result = run_text_pipeline(config, cluster)
    vocab = open_text_dataset(tmp_path / "ds").vocab
    return list(zip(vocab.tokens, vocab.counts.tolist(), strict=True)), result


def test_order_is_count_descending_then_token_ascending():
    table = pa.table({"token": ["b", "é", "a", "c", "z", "d"], "count": [3, 3, 3, 4, 1, 2]})
    tokens, counts = order_vocabulary(table)
    assert tokens == ["c", "a", "b", "é", "d", "z"]
    assert counts.tolist() == [4, 3, 3, 3, 2, 1]
    assert order_vocabulary(table, max_vocab=2)[0] == ["c", "a"]


def test_ids_are_deterministic_with_ties(tmp_path, cluster):
    vocab, result = vocab_of(tmp_path, cluster, min_count=1)
    assert vocab == [("c", 4), ("a", 3), ("b", 3), ("é", 3), ("d", 2), ("z", 1)]
    ids = pq.read_table(tmp_path / "ds" / "vocab.parquet").column("id").to_pylist()
    assert ids == [0, 1, 2, 3, 4, 5]
    first = (tmp_path / "ds" / "vocab.parquet").read_bytes()
    vocab_of(tmp_path, cluster, min_count=1, partition_bytes=5)
    assert (tmp_path / "ds" / "vocab.parquet").read_bytes() == first
    assert result.counts["vocab_size"] == result.counts["distinct_tokens"] == 6


def test_min_count_drops_rare_tokens_from_vocab_and_rows(tmp_path, cluster):
    vocab, result = vocab_of(tmp_path, cluster, min_count=3)
    assert vocab == [("c", 4), ("a", 3), ("b", 3), ("é", 3)]
    assert result.counts["oov_tokens"] == 3  # z, d, d
    assert result.counts["corpus_tokens"] == 13
    assert result.counts["distinct_tokens"] == 6


def test_max_vocab_keeps_the_first_ids(tmp_path, cluster):
    vocab, result = vocab_of(tmp_path, cluster, min_count=1, max_vocab=3)
    assert vocab == [("c", 4), ("a", 3), ("b", 3)]
    assert result.counts["corpus_tokens"] == 10 and result.counts["oov_tokens"] == 6


def test_bucketed_counts_reduce_to_exact_totals(tmp_path):
    words = pa.array(["x", "y", "z", "unused"])
    for partition in range(3):
        written = write_token_counts(words, np.array([3, 2, 1, 0]), tmp_path, partition, 4)
        assert written == 3  # a zero count is not a token
    buckets = token_buckets(["x", "y", "z"], 4)
    totals = {}
    for bucket in range(4):
        kept, stats = reduce_token_counts(tmp_path, bucket, min_count=4)
        totals.update(dict(zip(kept["token"].to_pylist(), kept["count"].to_pylist(), strict=True)))
        expected = {"x": 9, "y": 6, "z": 3}
        assert stats["tokens"] == sum(
            n for t, n in expected.items() if buckets[["x", "y", "z"].index(t)] == bucket
        )
    assert totals == {"x": 9, "y": 6}  # z (3) is below min-count 4
