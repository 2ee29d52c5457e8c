"""Reading a click dataset back: batches, splits, jagged columns, and remapping newer data."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from embedrec.core.artifacts import write_manifest
from embedrec.core.errors import ArtifactError, ConfigError
from embedrec.pipelines.clicks.config import ClicksPipelineConfig
from embedrec.pipelines.clicks.dataset import (
    ClickVocab,
    list_column,
    open_click_dataset,
    read_click_vocab,
    remap_ids,
)
from embedrec.pipelines.clicks.pipeline import run_clicks_pipeline
from embedrec.pipelines.runtime.dask_cluster import ClusterConfig

JSONL = Path(__file__).resolve().parents[1] / "assets" / "clicks" / "impressions.jsonl"


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    out = tmp_path_factory.mktemp("clicks") / "ds"
    config = ClicksPipelineConfig(
        inputs=(str(JSONL),), format="jsonl", out=str(out), valid_fraction=0.5
    )
    run_clicks_pipeline(config, ClusterConfig(workers=1, processes=False))
    return open_click_dataset(out)


def test_batches_splits_and_columns(dataset):
    assert dataset.format == "jsonl" and dataset.num_examples() == 9
    batches = list(dataset.iter_batches(rows=4))
    assert [b.num_rows for b in batches] == [4, 4, 1]
    assert pa.Table.from_batches(batches).equals(dataset.read())
    train = dataset.read(split="train", columns=["line", "label"])
    valid = dataset.read(split="validation", columns=["line", "label"])
    assert train.column_names == ["line", "label"]
    # 4 timed impressions, half to validation: lines 3 and 4 (line 6 has no time: train)
    assert valid.column("line").to_pylist() == [3, 3, 3, 4]
    assert train.num_rows + valid.num_rows == 9
    assert dataset.num_examples("validation") == 4
    with pytest.raises(ConfigError):
        dataset.read(split="test")


def test_list_column_is_jagged(dataset):
    batch = next(dataset.iter_batches(rows=3, columns=["query_tokens"]))
    values, offsets = list_column(batch, "query_tokens")
    assert values.dtype == np.int32 and offsets.dtype == np.int64
    rows = batch.column("query_tokens").to_pylist()
    assert [values[offsets[i] : offsets[i + 1]].tolist() for i in range(3)] == rows


def test_remap_ids_maps_unseen_values_to_zero(dataset, tmp_path):
    newer = tmp_path / "newer.jsonl"
    lines = [
        {
            "query": "cheap trains",
            "results": [{"doc": "d1", "clicked": True, "title": "New"}],
            "features": {"device": "tablet", "region": "fr", "browser": "x"},
        },
        {
            "query": "flights",
            "results": [{"doc": "d99", "clicked": False}, {"doc": "d4", "clicked": True}],
            "features": {"device": "mobile"},
        },
    ]
    newer.write_text("\n".join(json.dumps(x) for x in lines) + "\n")
    config = ClicksPipelineConfig(inputs=(str(newer),), format="jsonl", out=str(tmp_path / "n"))
    run_clicks_pipeline(config, ClusterConfig(workers=1, processes=False))
    table = open_click_dataset(tmp_path / "n").read()
    # the newer dataset has its own ids; a model trained on `dataset` maps through its own
    remapped = remap_ids(table, dataset.vocabs)
    doc = dataset.vocabs["doc"].index()
    assert remapped.column("doc_id").to_pylist() == [doc["d1"], 0, doc["d4"]]
    device = dataset.vocabs["device"].index()
    assert remapped.column("device_id").to_pylist() == [0, device["mobile"], device["mobile"]]
    assert remapped.column("region_id").to_pylist() == [
        dataset.vocabs["region"].index()["fr"],
        0,
        0,
    ]
    tokens = dataset.vocabs["query_token"].index()
    assert remapped.column("query_tokens").to_pylist()[0] == [tokens["cheap"], 0]
    assert remapped.column("title_tokens").to_pylist()[0] == [0]  # "new" never seen
    assert remapped.column("browser_id").to_pylist() == table.column("browser_id").to_pylist()
    assert remapped.num_rows == table.num_rows


def test_remap_ids_on_a_table_lacking_a_feature():
    vocabs = {
        "doc": ClickVocab("doc", ["<unk>", "a", "b"], np.array([0, 2, 1])),
        "region": ClickVocab("region", ["<unk>", "fr"], np.array([0, 1])),
    }
    table = pa.table({"doc": ["b", None, "zz", "a"]})
    out = remap_ids(table, vocabs)
    assert out.column("doc_id").to_pylist() == [2, 0, 0, 1]
    assert out.column("region_id").to_pylist() == [0, 0, 0, 0]
    assert out.schema.field("doc_id").type == pa.int32()


def test_a_literal_unk_value_keeps_its_own_id():
    vocab = ClickVocab("device", ["<unk>", "m", "<unk>"], np.array([0, 3, 1]))
    assert vocab.lookup(["<unk>", "m", "q"]).to_pylist() == [2, 1, 0]


def test_open_rejects_other_artifacts(tmp_path, dataset):
    write_manifest(tmp_path, kind="text-dataset")
    with pytest.raises(ArtifactError, match="expected click-dataset"):
        open_click_dataset(tmp_path)
    with pytest.raises(ArtifactError, match="does not exist"):
        open_click_dataset(tmp_path / "nothing")
    with pytest.raises(ArtifactError, match="is missing"):
        read_click_vocab(tmp_path / "vocabs" / "doc.parquet")
    vocab = read_click_vocab(dataset.path / "vocabs" / "device.parquet")
    assert vocab.name == "device" and vocab.values[0] == "<unk>"
