"""Both pipelines on a separately started Dask cluster (``dask scheduler`` + ``dask worker
--nworkers 2``) give the embedded LocalCluster's result byte for byte, print the dashboard,
and keep Dask's INFO chatter off the terminal."""

from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from dask_processes import embedrec, process_cluster

pytestmark = pytest.mark.multiprocess

ASSETS = Path(__file__).resolve().parents[1] / "assets"


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    with process_cluster(tmp_path_factory.mktemp("cluster"), workers=2, memory_limit="1GB") as c:
        yield c


@pytest.fixture(scope="module")
def text_inputs(tmp_path_factory) -> list[Path]:
    """A generated world gzipped (spooled by the scan), WikiExtractor and non-ASCII text, and
    a file with bad lines (kept in rejected/)."""
    root = tmp_path_factory.mktemp("text")
    made = embedrec("generate", "text", "--out", root / "world", "--words", 300_000, "--pairs", 10)
    assert made.returncode == 0, made.stderr
    corpus = root / "corpus.txt.gz"
    with open(root / "world" / "corpus.txt", "rb") as src, gzip.open(corpus, "wb") as dst:
        shutil.copyfileobj(src, dst)
    bad = root / "bad.txt"
    bad.write_bytes(b"fine line one.\nbroken \xff line\nnul \x00 line\nfine line two.\n")
    return [
        corpus,
        ASSETS / "text" / "wiki_00",
        ASSETS / "text" / "lower_nonascii.txt",
        bad,
    ]


@pytest.fixture(scope="module")
def click_logs(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("clicks") / "logs"
    made = embedrec(
        "generate", "clicks", "--out", root, "--impressions", 3000, "--queries", 300,
        "--docs", 1500, "--users", 200, "--bad-lines", 13,
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    return root


def assert_quiet(stderr: str) -> None:
    """No log records from Dask (or anything) without -v: progress, warnings, summary only."""
    noisy = [line for line in stderr.splitlines() if " INFO " in line or "distributed." in line]
    assert not noisy, "\n".join(noisy[:10])


def parquet_files(root: Path) -> dict[str, Path]:
    return {str(p.relative_to(root)): p for p in sorted(root.rglob("*.parquet"))}


def assert_same_rows(left: Path, right: Path) -> None:
    """The same Parquet files, each with equal rows (schema, values, order)."""
    a, b = parquet_files(left), parquet_files(right)
    assert a.keys() == b.keys()
    for name in a:
        assert pq.read_table(a[name]).equals(pq.read_table(b[name])), name


def test_text_pipeline_on_a_dask_scheduler_equals_the_embedded_run(cluster, text_inputs, tmp_path):
    args = ["text-pipeline", *text_inputs, "--min-count", "2", "--phrases", "1"]
    args += ["--partition-size", "256KiB", "--json"]
    embedded = embedrec(*args, "--out", tmp_path / "embedded", "--workers", "2")
    external = embedrec(*args, "--out", tmp_path / "external", "--scheduler", cluster.address)
    assert embedded.returncode == 0, embedded.stderr
    assert external.returncode == 0, external.stderr

    expected_link = f"embedrec: dask dashboard: http://127.0.0.1:{cluster.dashboard_port}/status"
    assert expected_link in external.stderr.splitlines()
    assert "embedrec: dask dashboard: http://" in embedded.stderr
    assert_quiet(embedded.stderr)
    assert_quiet(external.stderr)

    left, right = tmp_path / "embedded", tmp_path / "external"
    for name in ("vocab.parquet", "phrases.parquet"):
        assert (left / name).read_bytes() == (right / name).read_bytes(), name
    assert_same_rows(left, right)
    counts = json.loads(external.stdout)["counts"]
    assert counts == json.loads(embedded.stdout)["counts"]
    assert counts["partitions"] >= 6 and counts["phrases"] > 0
    assert sum(counts["rejected_lines"].values()) == 2
    assert not list(right.rglob(".*")), "no scratch or temporary file left in the dataset"


@pytest.mark.parametrize(("fmt", "log"), [("aol", "aol.tsv"), ("criteo", "criteo.tsv")])
def test_clicks_pipeline_on_a_dask_scheduler_equals_the_embedded_run(
    cluster, click_logs, tmp_path, fmt, log
):
    args = ["clicks-pipeline", click_logs / log, "--format", fmt, "--block-size", "32KiB"]
    args += ["--json"]
    embedded = embedrec(*args, "--out", tmp_path / "embedded", "--workers", "2")
    external = embedrec(*args, "--out", tmp_path / "external", "--scheduler", cluster.address)
    assert embedded.returncode == 0, embedded.stderr
    assert external.returncode == 0, external.stderr

    expected_link = f"embedrec: dask dashboard: http://127.0.0.1:{cluster.dashboard_port}/status"
    assert expected_link in external.stderr.splitlines()
    assert_quiet(embedded.stderr)
    assert_quiet(external.stderr)

    left, right = tmp_path / "embedded", tmp_path / "external"
    vocabs = sorted(p.name for p in (left / "vocabs").iterdir())
    assert vocabs == sorted(p.name for p in (right / "vocabs").iterdir()) and vocabs
    for name in vocabs:
        assert (left / "vocabs" / name).read_bytes() == (right / "vocabs" / name).read_bytes()
    assert_same_rows(left, right)
    document = json.loads(external.stdout)
    assert document["counts"] == json.loads(embedded.stdout)["counts"]
    assert document["counts"]["rejected"] > 0 and len(parquet_files(right / "examples")) >= 4
    assert not list(right.rglob(".*")), "no work or temporary file left in the dataset"
