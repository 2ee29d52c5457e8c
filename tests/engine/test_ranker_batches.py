"""Examples in memory, batches as KJTs, rank sharding and remapping through model vocabs."""

from __future__ import annotations

import numpy as np
import pytest
from ranker_fixtures import ranker_world

from embedrec.engine.ranker.batches import (
    Examples,
    batch_rows,
    epoch_order,
    iter_score_batches,
    load_examples,
    make_batch,
    rank_batches,
)
from embedrec.engine.ranker.features import FeatureSpec, discover_features
from embedrec.engine.ranker.train import epoch_examples
from embedrec.pipelines.clicks.dataset import open_click_dataset
from embedrec.pipelines.clicks.tokens import tokenize_query

SPEC = FeatureSpec(
    query=True,
    title=False,
    doc=True,
    sparse=("device",),
    dense=("i1",),
    position=True,
    table_rows={"query_token": 10, "doc": 5, "device": 3},
)


def tiny_examples() -> Examples:
    # row 0: query [1, 2], doc 3; row 1: query [], doc 4; row 2: query [5], doc 1
    return Examples(
        labels=np.array([1, 0, 1], dtype=np.float32),
        position=np.array([1, 2, 0], dtype=np.int32),
        bags={"query": (np.array([1, 2, 5], dtype=np.int32), np.array([0, 2, 2, 3]))},
        ids={"doc": np.array([3, 4, 1], dtype=np.int32), "device": np.array([1, 2, 1], np.int32)},
        dense=np.array([[0.5, 1], [0, 0], [2.0, 1]], dtype=np.float32),
    )


def test_make_batch_builds_one_kjt_with_a_key_per_group():
    batch = make_batch(tiny_examples(), np.array([2, 0, 1]), SPEC)
    features = batch.features.to_dict()
    assert list(features) == ["query", "doc", "device"]
    assert features["query"].values().tolist() == [5, 1, 2]
    assert features["query"].lengths().tolist() == [1, 2, 0]
    assert features["doc"].values().tolist() == [1, 3, 4]
    assert features["device"].lengths().tolist() == [1, 1, 1]
    assert batch.position.tolist() == [0, 1, 2] and batch.labels.tolist() == [1, 1, 0]
    assert batch.dense.tolist() == [[2.0, 1.0], [0.5, 1.0], [0.0, 0.0]]


def test_missing_groups_become_unknown_ids_and_absent_dense():
    batch = make_batch(
        tiny_examples(), np.array([0, 2]), SPEC, missing=frozenset({"query", "dense"})
    )
    features = batch.features.to_dict()
    assert features["query"].values().tolist() == [0, 0, 0]  # lengths kept: [2, 1]
    assert features["query"].lengths().tolist() == [2, 1]
    assert features["doc"].values().tolist() == [3, 1]
    assert batch.dense.abs().sum().item() == 0


def test_oov_dropout_is_seeded_and_only_zeroes_ids():
    examples = tiny_examples()
    rows = np.array([0, 1, 2])
    a = make_batch(examples, rows, SPEC, oov_rate=0.5, rng=np.random.default_rng(4))
    b = make_batch(examples, rows, SPEC, oov_rate=0.5, rng=np.random.default_rng(4))
    clean = make_batch(examples, rows, SPEC).features.values()
    dropped = a.features.values()
    assert dropped.tolist() == b.features.values().tolist()
    assert ((dropped == clean) | (dropped == 0)).all() and (dropped == 0).any()


def test_epoch_order_is_seeded_per_epoch():
    assert (epoch_order(50, 1, 0) == epoch_order(50, 1, 0)).all()
    assert not (epoch_order(50, 1, 0) == epoch_order(50, 1, 1)).all()
    assert sorted(epoch_order(50, 1, 3).tolist()) == list(range(50))


@pytest.mark.parametrize(("n", "batch", "world"), [(10, 3, 1), (10, 3, 2), (10, 4, 2), (7, 2, 3)])
def test_ranks_take_every_nth_batch_and_cover_the_epoch(n, batch, world):
    order = epoch_order(n, 0, 0)
    rounds = rank_batches(n, batch, world)
    taken = [
        batch_rows(order, batch, r * world + rank) for r in range(rounds) for rank in range(world)
    ]
    assert len(taken) == rounds * world  # every rank steps the same number of times
    assert epoch_examples(n, batch, rounds, world) == sum(len(rows) for rows in taken)
    assert sorted(set(np.concatenate(taken).tolist())) == list(range(n))
    assert all(len(rows) > 0 for rows in taken)


def test_score_batches_cover_each_row_once_after_dropping_repeats():
    seen: dict[int, np.ndarray] = {}
    counts = []
    for rank in range(3):
        batches = list(iter_score_batches(10, 3, rank, 3))
        counts.append(len(batches))
        seen.update(batches)
    assert len(set(counts)) == 1
    assert sorted(np.concatenate(list(seen.values())).tolist()) == list(range(10))


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    return ranker_world(tmp_path_factory)


def test_discovered_groups_of_generated_jsonl(world):
    spec = discover_features(open_click_dataset(world.old), "auto")
    assert spec.groups == ("query", "title", "doc", "device", "region")
    assert spec.position and spec.can_retrieve and spec.tables[0] == "query_token"
    off = discover_features(open_click_dataset(world.old), "off")
    assert not off.position


def test_newer_data_is_remapped_through_the_model_vocabularies(world):
    old, new = open_click_dataset(world.old), open_click_dataset(world.new)
    spec = discover_features(old, "auto")
    vocabs = {table: old.vocabs[table] for table in spec.tables}
    examples = load_examples(new, spec, vocabs, None)
    raw = new.read(columns=["doc", "query", "region"])
    assert examples.remapped and len(examples) == raw.num_rows
    docs = raw.column("doc").to_pylist()
    known_docs = set(vocabs["doc"].values[1:])
    for i in range(0, len(docs), 97):
        doc_id = int(examples.ids["doc"][i])
        if docs[i] in known_docs:
            assert vocabs["doc"].values[doc_id] == docs[i]  # the same doc, never another's row
        else:
            assert doc_id == 0
    assert 0 < examples.unknown_share["doc"] < 0.5
    tokens, offsets = examples.bags["query"]
    query = raw.column("query").to_pylist()
    for i in range(0, len(query), 101):
        ids = tokens[offsets[i] : offsets[i + 1]].tolist()
        words = tokenize_query(query[i])
        assert [vocabs["query_token"].values[t] if t else None for t in ids] == [
            w if w in vocabs["query_token"].index() else None for w in words
        ]
    same = load_examples(old, spec, vocabs, "train")
    assert not same.remapped and same.unknown_share["doc"] == 0.0
