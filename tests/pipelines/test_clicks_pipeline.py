"""The clicks pipeline end to end on the hand-written fixtures (small in-process clusters)."""

from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from embedrec.core.errors import ConfigError, InputError, OutputExistsError
from embedrec.pipelines.clicks.config import ClicksPipelineConfig
from embedrec.pipelines.clicks.dataset import dense_matrix, open_click_dataset
from embedrec.pipelines.clicks.pipeline import run_clicks_pipeline
from embedrec.pipelines.clicks.split import hash_user_validation
from embedrec.pipelines.runtime.dask_cluster import ClusterConfig

ASSETS = Path(__file__).resolve().parents[1] / "assets" / "clicks"
JSONL, AOL, CRITEO = ASSETS / "impressions.jsonl", ASSETS / "aol.txt", ASSETS / "criteo.tsv"


def build(out, fmt, *inputs, workers=2, **options):
    config = ClicksPipelineConfig(
        inputs=tuple(str(i) for i in inputs), format=fmt, out=str(out), **options
    )
    result = run_clicks_pipeline(config, ClusterConfig(workers=workers, processes=False))
    return result.manifest, open_click_dataset(out)


def rejected_rows(out):
    parts = sorted((Path(out) / "rejected").glob("part-*.parquet"))
    return pa.concat_tables([pq.read_table(p) for p in parts]).to_pylist() if parts else []


def assert_ids_match_vocabs(ds):
    """Every id column holds the id of its raw value in the dataset's own vocabulary."""
    table = ds.read()
    doc = ds.vocabs["doc"].index()
    assert table.column("doc_id").to_pylist() == [
        doc.get(d, 0) for d in table.column("doc").to_pylist()
    ]
    for name in ds.sparse_features:
        index = ds.vocabs[name].index()
        raw = table.column(name).to_pylist()
        assert table.column(f"{name}_id").to_pylist() == [index.get(v, 0) for v in raw]


# --- JSONL ------------------------------------------------------------------------------


def test_jsonl_fixture(tmp_path):
    manifest, ds = build(tmp_path / "ds", "jsonl", JSONL, valid_fraction=0.25)
    counts = manifest["counts"]
    assert counts["lines"] == 17 and counts["blank_lines"] == 1
    assert (counts["impressions"], counts["examples"], counts["positives"]) == (5, 9, 4)
    assert manifest["rejected"] == {
        "bad_feature_name": 1,
        "bad_field": 1,
        "bad_json": 1,
        "bad_position": 1,
        "bad_result": 1,
        "bad_results": 1,
        "bad_time": 1,
        "missing_field": 2,
        "not_an_object": 1,
        "not_utf8": 1,
    }
    rejected = rejected_rows(tmp_path / "ds")
    assert [r["line"] for r in rejected] == list(range(7, 18))
    assert all(r["source"] == str(JSONL) for r in rejected)
    assert rejected[0]["raw"] == '{"query": "broken", '
    assert rejected[9]["reason"].startswith("not_utf8") and "\\xe9" in rejected[9]["raw"]

    assert ds.sparse_features == ("device", "region") and ds.dense_features == ()
    assert manifest["features"]["ignored_values"] == {"score": 1}
    assert manifest["features"]["missing"] == {"device": 2, "region": 3}
    assert ds.vocabs["doc"].values == ["<unk>", "d2", "d1", "d3", "d4", "d5"]
    assert ds.vocabs["doc"].counts.tolist() == [0, 3, 2, 2, 1, 1]
    assert_ids_match_vocabs(ds)

    rows = ds.read().to_pylist()
    assert [(r["line"], r["doc"], r["position"], r["label"]) for r in rows] == [
        (1, "d1", 1, 0),
        (1, "d2", 2, 1),
        (2, "d3", 1, 1),
        (2, "d1", 2, 0),
        (3, "d3", 1, 0),
        (3, "d4", 2, 1),
        (3, "d2", 3, 0),
        (4, "d2", None, 1),
        (6, "d5", 1, 0),
    ]
    assert rows[0]["impression"] == "imp-1" and rows[2]["impression"] == f"{JSONL}:2"
    assert rows[7]["user"] == "7" and rows[8]["user"] is None and rows[8]["time"] is None
    assert rows[4]["time"].isoformat() == "2026-01-06T08:30:00+00:00"
    tokens = ds.vocabs["query_token"].values
    assert [tokens[t] for t in rows[0]["query_tokens"]] == ["cheap", "flights"]
    assert [tokens[t] for t in rows[0]["title_tokens"]] == ["cheap", "flights", "to", "paris"]
    assert rows[2]["title_tokens"] == []
    assert (rows[2]["region"], rows[2]["region_id"]) == (None, 0)

    # 4 timed impressions, valid_fraction 0.25: the last one (line 4) is validation
    split = manifest["split"]
    assert split["method"] == "time" and split["cut_time"] == "2026-01-06T08:30:00+00:00"
    assert split["impressions"] == {"train": 4, "validation": 1}
    assert split["examples"] == {"train": 8, "validation": 1}
    assert split["impressions_without_time"] == 1
    assert [r["line"] for r in rows if r["split"] == "validation"] == [4]
    assert ds.num_examples("validation") == 1 and ds.num_examples() == 9


def test_min_count_folds_rare_values_into_unk(tmp_path):
    manifest, ds = build(tmp_path / "ds", "jsonl", JSONL, min_count=2)
    assert ds.vocabs["doc"].values == ["<unk>", "d2", "d1", "d3"]
    assert ds.vocabs["doc"].counts.tolist() == [2, 3, 2, 2]
    assert manifest["vocabs"]["doc"] == {"size": 4, "distinct": 5, "occurrences": 9, "folded": 2}
    table = ds.read()
    assert table.column("doc_id").to_pylist()[-2:] == [1, 0]  # d2, then d5 (rare)
    assert_ids_match_vocabs(ds)


def test_hash_user_split(tmp_path):
    lines = [
        json.dumps({"user": f"u{i % 40}", "query": "q", "results": [{"doc": "d", "clicked": True}]})
        for i in range(400)
    ]
    (tmp_path / "log.jsonl").write_text("\n".join(lines) + "\n")
    manifest, ds = build(
        tmp_path / "ds", "jsonl", tmp_path / "log.jsonl", split="hash-user", valid_fraction=0.3,
        block_size=2000,
    )  # fmt: skip
    table = ds.read()
    users = table.column("user").to_pylist()
    expected = hash_user_validation(users, 0.3)
    assert table.column("split").to_pylist() == ["validation" if v else "train" for v in expected]
    assert 0 < expected.sum() < len(users)
    assert manifest["split"]["method"] == "hash-user"
    assert manifest["split"]["impressions"]["validation"] == int(expected.sum())


def test_time_split_over_many_partitions_matches_the_exact_cut(tmp_path):
    rng = np.random.default_rng(3)
    seconds = rng.integers(1_700_000_000, 1_700_000_000 + 86400 * 30, size=500)
    seconds[::7] = 1_700_500_000  # ties
    lines = []
    for i, s in enumerate(seconds):
        when = np.datetime_as_string(np.datetime64(int(s), "s"), unit="s") + "Z"
        results = [{"doc": f"d{i % 9}", "clicked": True}, {"doc": "x", "clicked": False}]
        lines.append(json.dumps({"time": when, "query": "q", "results": results}))
    (tmp_path / "log.jsonl").write_text("\n".join(lines) + "\n")
    manifest, ds = build(
        tmp_path / "ds", "jsonl", tmp_path / "log.jsonl", valid_fraction=0.2, block_size=4096
    )
    assert manifest["partitions"] > 5
    cut = np.sort(seconds)[500 - 100 - 1]
    assert manifest["split"]["cut_time_us"] == int(cut) * 10**6
    assert manifest["split"]["impressions"]["validation"] == int((seconds > cut).sum())
    valid_lines = sorted({r["line"] for r in ds.read().to_pylist() if r["split"] == "validation"})
    assert valid_lines == [i + 1 for i in np.flatnonzero(seconds > cut)]


# --- AOL --------------------------------------------------------------------------------


def test_aol_fixture_with_sampled_negatives(tmp_path):
    manifest, ds = build(tmp_path / "ds", "aol", AOL, aol_negatives=4, seed=5)
    counts = manifest["counts"]
    assert (counts["header_lines"], counts["rows_without_click"]) == (2, 2)
    assert (counts["impressions"], counts["positives"]) == (6, 6)
    assert counts["negatives"] == 3 * 3 + 3 * 4 and counts["negatives_missing"] == 3
    assert manifest["rejected"] == {
        "bad_click": 1,
        "bad_rank": 1,
        "bad_time": 1,
        "missing_field": 1,
        "wrong_field_count": 1,
    }
    assert [r["line"] for r in rejected_rows(tmp_path / "ds")] == [11, 12, 13, 14, 15]
    assert manifest["negatives"]["method"] == "popularity"
    assert manifest["negatives"]["per_click"] == 4 and manifest["negatives"]["seed"] == 5
    assert ds.vocabs["doc"].values[:2] == ["<unk>", "http://www.travel.com"]

    rows = ds.read().to_pylist()
    clicked_for: dict[str, set[str]] = {}
    for r in rows:
        if r["label"] == 1:
            clicked_for.setdefault(r["query"], set()).add(r["doc"])
    by_impression: dict[str, list[dict]] = {}
    for r in rows:
        by_impression.setdefault(r["impression"], []).append(r)
    assert len(by_impression) == 6
    for group in by_impression.values():
        click, negatives = group[0], group[1:]
        assert click["label"] == 1 and click["position"] is not None
        assert all(n["label"] == 0 and n["position"] is None for n in negatives)
        docs = [n["doc"] for n in negatives]
        assert len(set(docs)) == len(docs)
        assert not set(docs) & clicked_for[click["query"]]
        assert len(docs) == (3 if click["query"] == "cheap flights" else 4)
        assert {n["line"] for n in negatives} <= {click["line"]}
    assert_ids_match_vocabs(ds)

    _, ds_again = build(tmp_path / "again", "aol", AOL, aol_negatives=4, seed=5)
    assert ds_again.read().equals(ds.read())
    _, no_negatives = build(tmp_path / "none", "aol", AOL, aol_negatives=0)
    assert no_negatives.read().column("label").to_pylist() == [1] * 6


# --- Criteo -----------------------------------------------------------------------------


def test_criteo_fixture(tmp_path):
    manifest, ds = build(tmp_path / "ds", "criteo", CRITEO, valid_fraction=0.4)
    assert manifest["rejected"] == {"bad_integer": 1, "bad_label": 1, "wrong_field_count": 1}
    assert ds.sparse_features == tuple(f"c{k}" for k in range(1, 27))
    assert ds.dense_features == tuple(f"i{k}" for k in range(1, 14))
    table = ds.read()
    assert table.column("label").to_pylist() == [0, 1, 0, 1, 0]
    assert table.column("query").null_count == 5 and table.column("doc_id").to_pylist() == [0] * 5
    values, present = dense_matrix(table, ds.dense_features)
    assert values.dtype == np.float32 and values.shape == (5, 13)
    assert values[:, 0].tolist() == [1, 2, 0, 0, 3] and present[:, 0].tolist() == [
        True, True, False, False, True,
    ]  # fmt: skip
    assert values[2, 1] == -1 and present[2, 4] and values[2, 4] == 0
    assert not present[3].any() and not present[:, 11].any()  # line 4 empty; i12 never given
    assert ds.vocabs["c1"].values == ["<unk>", "68fd1e64", "287e684f"]
    assert table.column("c1_id").to_pylist() == [1, 1, 2, 0, 1]
    assert manifest["features"]["missing"]["c22"] == 5
    assert_ids_match_vocabs(ds)
    split = manifest["split"]
    assert split["method"] == "line-order" and split["cut_index"] == 3
    assert table.column("split").to_pylist() == ["train"] * 3 + ["validation"] * 2


# --- determinism and inputs -------------------------------------------------------------


@pytest.mark.parametrize(("fmt", "path"), [("jsonl", JSONL), ("aol", AOL), ("criteo", CRITEO)])
def test_output_does_not_depend_on_partitioning(tmp_path, fmt, path):
    one, ds_one = build(tmp_path / "one", fmt, path, workers=1, valid_fraction=0.4)
    many, ds_many = build(tmp_path / "many", fmt, path, block_size=90, valid_fraction=0.4)
    assert one["partitions"] == 1 and many["partitions"] > 2
    assert ds_one.read().equals(ds_many.read())
    assert rejected_rows(tmp_path / "one") == rejected_rows(tmp_path / "many")
    for key in ("counts", "rejected", "split", "vocabs", "features"):
        assert one[key] == many[key], key
    for name in ds_one.vocabs:
        a = pq.read_table(tmp_path / "one" / "vocabs" / f"{name}.parquet")
        b = pq.read_table(tmp_path / "many" / "vocabs" / f"{name}.parquet")
        assert a.equals(b), name


def test_several_files_gzip_and_directories(tmp_path):
    logs = tmp_path / "logs"
    logs.mkdir()
    shutil.copy(JSONL, logs / "a.jsonl")
    (logs / "b.jsonl.gz").write_bytes(gzip.compress(JSONL.read_bytes()))
    manifest, ds = build(tmp_path / "ds", "jsonl", logs, block_size=300)
    assert manifest["counts"]["examples"] == 18 and manifest["counts"]["rejected"] == 22
    assert [Path(i["path"]).name for i in manifest["inputs"]] == ["a.jsonl", "b.jsonl.gz"]
    sources = ds.read().column("source").to_pylist()
    assert sources == [str(logs / "a.jsonl")] * 9 + [str(logs / "b.jsonl.gz")] * 9
    assert ds.read().column("line").to_pylist()[9:] == ds.read().column("line").to_pylist()[:9]


def test_bad_inputs_and_existing_output_fail_before_any_work(tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        build(tmp_path / "ds", "jsonl", tmp_path / "missing.jsonl")
    (tmp_path / "empty.jsonl").write_text("")
    with pytest.raises(InputError, match="holds no lines"):
        build(tmp_path / "ds", "jsonl", tmp_path / "empty.jsonl")
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "keep.txt").write_text("mine")
    with pytest.raises(OutputExistsError):
        build(tmp_path / "taken", "criteo", CRITEO)
    assert (tmp_path / "taken" / "keep.txt").read_text() == "mine"
    manifest, _ = build(tmp_path / "taken", "criteo", CRITEO, overwrite=True)
    assert not (tmp_path / "taken" / "keep.txt").exists()
    assert not (tmp_path / "taken" / "_work").exists()
    assert manifest["kind"] == "click-dataset" and manifest["format"] == "criteo"


@pytest.mark.parametrize(
    ("options", "key"),
    [
        ({"format": "csv"}, "format"),
        ({"split": "random"}, "split"),
        ({"format": "criteo", "split": "hash-user"}, "split"),
        ({"valid_fraction": 1.0}, "valid_fraction"),
        ({"valid_fraction": -0.1}, "valid_fraction"),
        ({"min_count": 0}, "min_count"),
        ({"aol_negatives": -1}, "aol_negatives"),
        ({"block_size": 0}, "block_size"),
        ({"inputs": ()}, "inputs"),
    ],
)
def test_config_is_validated(options, key):
    settings = {"inputs": ("a",), "format": "jsonl", "out": "o", **options}
    with pytest.raises(ConfigError) as info:
        ClicksPipelineConfig(**settings)
    assert info.value.key == key
