"""The text pipeline end to end through its public API (embedrec.pipelines.text.pipeline)."""

from __future__ import annotations

import bz2
import gzip
import lzma
import random
from collections import Counter
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from embedrec.core.errors import ConfigError, InputError, OutputExistsError, PipelineError
from embedrec.pipelines.runtime.dask_cluster import ClusterConfig
from embedrec.pipelines.text.dataset import open_text_dataset
from embedrec.pipelines.text.pipeline import TextPipelineConfig, run_text_pipeline

ASSETS = Path(__file__).resolve().parents[1] / "assets" / "text"


@pytest.fixture(scope="module")
def cluster():
    """One in-process Dask cluster shared by this module's runs (fast to reach)."""
    from distributed import LocalCluster

    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=False, dashboard_address=":0"
    ) as local:
        yield ClusterConfig(scheduler=local.scheduler_address)


def build(inputs, out, cluster, **options):
    config = TextPipelineConfig(inputs=tuple(str(i) for i in inputs), out=str(out), **options)
    return run_text_pipeline(config, cluster)


def rows(out) -> list[list[str]]:
    """The corpus as token strings, sentence by sentence, in order."""
    ds = open_text_dataset(out)
    result = []
    for tokens, offsets in ds.iter_batches(rows=7):
        for i in range(len(offsets) - 1):
            result.append([ds.vocab.tokens[t] for t in tokens[offsets[i] : offsets[i + 1]]])
    return result


def test_plain_text_to_dataset(tmp_path, cluster):
    result = build([ASSETS / "plain.txt"], tmp_path / "ds", cluster, min_count=1)
    assert rows(tmp_path / "ds")[:4] == [
        ["the", "quick", "brown", "fox", "jumps", "over", "the", "lazy", "dog"],
        ["the", "dog", "sleeps"],
        ["is", "the", "fox", "quick"],
        ["yes", "e", "g", "very", "quick"],
    ]
    counts = result.counts
    assert counts["documents"] == 1 and counts["lines"] == 4
    assert counts["sentences"] == 5 and counts["text_sentences"] == 5
    assert counts["raw_tokens"] == counts["corpus_tokens"] == 33
    assert counts["oov_tokens"] == 0
    ds = open_text_dataset(tmp_path / "ds")
    assert (
        ds.total_tokens == 33 and ds.vocab_size == counts["vocab_size"] == counts["distinct_tokens"]
    )
    assert ds.manifest["kind"] == "text-dataset"
    assert ds.manifest["config"]["min_count"] == 1
    assert ds.manifest["inputs"][0]["sha256"]
    assert not (tmp_path / "ds" / "rejected").exists()
    assert not (tmp_path / "ds" / "phrases.parquet").exists()
    assert not (tmp_path / "ds" / ".scratch").exists()


@pytest.mark.parametrize("kind", ["gz", "bz2", "xz", "dir", "glob"])
def test_every_input_kind_gives_the_same_dataset(tmp_path, cluster, kind):
    text = (ASSETS / "plain.txt").read_bytes() + (ASSETS / "lower_nonascii.txt").read_bytes()
    (tmp_path / "ref.txt").write_bytes(text)
    build([tmp_path / "ref.txt"], tmp_path / "ref", cluster, min_count=1)
    src = tmp_path / "src"
    (src / "sub").mkdir(parents=True)
    half = len((ASSETS / "plain.txt").read_bytes())
    if kind in {"gz", "bz2", "xz"}:
        opener = {"gz": gzip.open, "bz2": bz2.open, "xz": lzma.open}[kind]
        with opener(src / f"all.{kind}", "wb") as handle:
            handle.write(text)
        inputs = [src / f"all.{kind}"]
    else:
        # Two files in a directory tree, read in sorted order: a/ before sub/.
        (src / "a.txt").write_bytes(text[:half])
        (src / "sub" / "b.txt").write_bytes(text[half:])
        inputs = [src] if kind == "dir" else [str(src / "**" / "*.txt")]
    result = build(inputs, tmp_path / "ds", cluster, min_count=1)
    assert rows(tmp_path / "ds") == rows(tmp_path / "ref")
    same_vocab = (tmp_path / "ds" / "vocab.parquet").read_bytes()
    assert same_vocab == (tmp_path / "ref" / "vocab.parquet").read_bytes()
    assert result.counts["inputs"] == (1 if kind in {"gz", "bz2", "xz"} else 2)


def test_wikiextractor_markup_is_not_text(tmp_path, cluster):
    result = build([ASSETS / "wiki_00"], tmp_path / "ds", cluster, min_count=1)
    assert rows(tmp_path / "ds") == [
        ["fox"],
        ["the", "fox", "is", "a", "small", "animal"],
        ["foxes", "live", "in", "new", "york", "city", "in", "towns", "and", "in", "the", "woods"],
        ["dog"],
        ["the", "dog", "is", "a", "loyal", "animal"],
        ["dogs", "live", "with", "people"],
    ]
    assert result.counts["documents"] == 2
    assert result.counts["markup_lines"] == 4
    assert result.counts["lines"] == 10
    assert not {"doc", "id", "url", "https"} & set(open_text_dataset(tmp_path / "ds").vocab.tokens)
    assert result.manifest["inputs"][0]["format"] == "wikiextractor"


@pytest.mark.parametrize("fixture", ["ascii", "lower_nonascii.txt"])
def test_vocab_counts_equal_counter_of_split(tmp_path, cluster, fixture):
    if fixture == "ascii":
        rng = random.Random(5)
        words = ["".join(rng.choice("abcdef") for _ in range(rng.randint(1, 5))) for _ in range(80)]
        lines = [" ".join(rng.choice(words) for _ in range(rng.randint(0, 30))) for _ in range(300)]
        text = "\n".join(lines) + "\n"
        path = tmp_path / "lower.txt"
        path.write_text(text, encoding="utf-8")
    else:
        path = ASSETS / fixture
        text = path.read_text(encoding="utf-8")
    build([path], tmp_path / "ds", cluster, min_count=1, partition_bytes=512)
    vocab = open_text_dataset(tmp_path / "ds").vocab
    assert dict(zip(vocab.tokens, vocab.counts.tolist(), strict=True)) == Counter(text.split())
    expected_order = sorted(Counter(text.split()).items(), key=lambda kv: (-kv[1], kv[0]))
    assert vocab.tokens == [token for token, _ in expected_order]


def test_bad_inputs_are_counted_and_kept_aside(tmp_path, cluster):
    src = tmp_path / "src"
    src.mkdir()
    (src / "a_good.txt").write_bytes(
        b"Fine line one.\n"
        b"caf\xe9 latin-1 line\n"  # line 2: invalid UTF-8
        b"Fine line three.\n"
        b"bad \xff\xfe bytes\n"  # line 4: invalid UTF-8
        b"nul \x00 inside\n"  # line 5: NUL byte
        b"Fine line six.\n"
        b"Fine line seven.\n"
    )
    (src / "b_binary.bin").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" * 20)
    (src / "c_empty.txt").write_bytes(b"")
    (src / "d_blank.txt").write_bytes(b"\n  \n")
    good = gzip.compress(b"more text here\n" * 500)
    (src / "e_cut.gz").write_bytes(good[: len(good) // 2])
    (src / ".f_hidden.txt").write_bytes(b"hidden text\n")
    result = build([src], tmp_path / "ds", cluster, min_count=1)
    counts = result.counts
    assert counts["skipped_inputs"] == {"binary": 1, "empty": 2, "hidden": 1, "unreadable": 1}
    assert counts["rejected_lines"] == {"invalid-utf8": 2, "nul-byte": 1}
    assert counts["inputs"] == 1 and counts["lines"] == 7 and counts["sentences"] == 4
    rejected = pq.read_table(tmp_path / "ds" / "rejected").to_pylist()
    lines = [r for r in rejected if r["line"] is not None]
    lines = sorted((Path(r["source"]).name, r["line"], r["raw"], r["reason"]) for r in lines)
    assert lines == [
        ("a_good.txt", 2, "caf\\xe9 latin-1 line", "invalid-utf8"),
        ("a_good.txt", 4, "bad \\xff\\xfe bytes", "invalid-utf8"),
        ("a_good.txt", 5, "nul \\x00 inside", "nul-byte"),
    ]
    whole = sorted((Path(r["source"]).name, r["reason"]) for r in rejected if r["line"] is None)
    assert whole == [
        (".f_hidden.txt", "hidden"),
        ("b_binary.bin", "binary"),
        ("c_empty.txt", "empty"),
        ("d_blank.txt", "empty"),
        ("e_cut.gz", "unreadable"),
    ]
    skipped_records = [i for i in result.manifest["inputs"] if "skipped" in i]
    assert len(skipped_records) == 5


def test_no_usable_input_is_an_error_and_writes_nothing(tmp_path, cluster):
    (tmp_path / "empty.txt").write_bytes(b"")
    (tmp_path / "bin").write_bytes(b"\x00" * 64)
    with pytest.raises(InputError, match="no usable text input"):
        build([tmp_path / "empty.txt", tmp_path / "bin"], tmp_path / "ds", cluster)
    assert not (tmp_path / "ds").exists()
    assert not list(tmp_path.glob(".ds.*"))  # no staging directory left behind


def test_no_token_reaching_min_count_is_an_error(tmp_path, cluster):
    (tmp_path / "t.txt").write_text("one two three\n")
    with pytest.raises(PipelineError, match="lower --min-count"):
        build([tmp_path / "t.txt"], tmp_path / "ds", cluster, min_count=2)


def test_out_of_vocabulary_tokens_and_empty_sentences_are_dropped_and_counted(tmp_path, cluster):
    (tmp_path / "t.txt").write_text("a a b. Rare word. A b c\nzzz\n")
    result = build([tmp_path / "t.txt"], tmp_path / "ds", cluster, min_count=2)
    assert rows(tmp_path / "ds") == [["a", "a", "b"], ["a", "b"]]
    counts = result.counts
    assert counts["oov_tokens"] == 4  # rare, word, c, zzz
    assert counts["empty_sentences"] == 2  # "Rare word." and "zzz"
    assert counts["corpus_tokens"] == 5 and counts["tokens"] == 9
    assert counts["text_sentences"] == 4 and counts["sentences"] == 2


def test_long_sentences_are_cut_into_rows(tmp_path, cluster):
    (tmp_path / "t.txt").write_text(" ".join(["w"] * 25) + "\nshort line\n")
    result = build(
        [tmp_path / "t.txt"], tmp_path / "ds", cluster, min_count=1, max_sentence_length=10
    )
    assert [len(r) for r in rows(tmp_path / "ds")] == [10, 10, 5, 2]
    assert result.counts["chunked_sentences"] == 1


def planted_corpus(seed: int, sentences: int = 300) -> str:
    rng = random.Random(seed)
    words = ["".join(rng.choice("klmnoprstu") for _ in range(5)) for _ in range(1500)]
    out = []
    for i in range(sentences):
        sentence = [rng.choice(words) for _ in range(rng.randint(3, 12))]
        if i % 7 == 0:
            sentence.insert(rng.randint(0, len(sentence)), "New York City")
        out.append(" ".join(sentence).capitalize() + ("." if i % 3 else "!"))
    # Several sentences per line, lines of uneven length.
    lines, start = [], 0
    while start < len(out):
        step = rng.randint(1, 4)
        lines.append(" ".join(out[start : start + step]))
        start += step
    return "\n".join(lines) + "\n"


def test_same_output_with_1_and_2_workers_and_any_partitioning(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    for i in range(3):
        (src / f"part{i}.txt").write_text(planted_corpus(seed=i), encoding="utf-8")
    with gzip.open(src / "part3.txt.gz", "wt", encoding="utf-8") as handle:
        handle.write(planted_corpus(seed=3))
    options = {"min_count": 3, "phrases": 2, "phrase_threshold": 20.0}
    one = ClusterConfig(processes=False, workers=1)
    two = ClusterConfig(processes=False, workers=2)
    first = run_text_pipeline(
        TextPipelineConfig(inputs=(str(src),), out=str(tmp_path / "a"), **options), one
    )
    second = run_text_pipeline(
        TextPipelineConfig(
            inputs=(str(src),), out=str(tmp_path / "b"), partition_bytes=4000, **options
        ),
        two,
    )
    assert first.counts["partitions"] == 1 and second.counts["partitions"] > 10
    assert first.counts["phrases"] >= 2 and first.counts["oov_tokens"] > 0
    for name in ["vocab.parquet", "phrases.parquet"]:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    assert rows(tmp_path / "a") == rows(tmp_path / "b")
    ignore = {"partitions"}
    assert {k: v for k, v in first.counts.items() if k not in ignore} == {
        k: v for k, v in second.counts.items() if k not in ignore
    }
    parts = sorted(p.name for p in (tmp_path / "b" / "corpus").iterdir())
    assert parts[0] == "part-000000.parquet" and len(parts) == second.counts["partitions"]


def test_overwrite_rule(tmp_path, cluster):
    build([ASSETS / "plain.txt"], tmp_path / "ds", cluster, min_count=1)
    with pytest.raises(OutputExistsError, match="already exists"):
        build([ASSETS / "wiki_00"], tmp_path / "ds", cluster, min_count=1)
    build([ASSETS / "wiki_00"], tmp_path / "ds", cluster, min_count=1, overwrite=True)
    assert open_text_dataset(tmp_path / "ds").manifest["counts"]["documents"] == 2


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("min_count", 0),
        ("max_vocab", 0),
        ("phrases", -1),
        ("max_sentence_length", 0),
        ("partition_bytes", 0),
        ("phrase_threshold", -1.0),
        ("phrase_delta", float("nan")),
    ],
)
def test_config_is_validated_with_the_key_named(option, value):
    with pytest.raises(ConfigError, match=option):
        TextPipelineConfig(inputs=("x",), out="y", **{option: value})


def test_missing_input_fails_before_any_work(tmp_path):
    with pytest.raises(InputError, match="no such file"):
        build([tmp_path / "nope.txt"], tmp_path / "ds", None)
    assert not (tmp_path / "ds").exists()
