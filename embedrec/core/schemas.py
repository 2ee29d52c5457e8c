"""The record schemas every stage agrees on (the Parquet contract between stages).

Defined once here; readers and writers in every package import them instead of restating
column names and types.

Text dataset directory::

    vocab.parquet            id int32, token string, count int64  (id: rank by count, then token)
    corpus/part-*.parquet    tokens list<int32>                    (one row per sentence)
    phrases.parquet          phrase string, count int64, score float64, pass int32   (optional)
    manifest.json
"""

from __future__ import annotations

import pyarrow as pa

VOCAB_FILE = "vocab.parquet"
CORPUS_DIR = "corpus"
PHRASES_FILE = "phrases.parquet"
REJECTED_DIR = "rejected"

VOCAB_SCHEMA = pa.schema(
    [
        pa.field("id", pa.int32(), nullable=False),
        pa.field("token", pa.string(), nullable=False),
        pa.field("count", pa.int64(), nullable=False),
    ]
)

CORPUS_SCHEMA = pa.schema([pa.field("tokens", pa.list_(pa.int32()), nullable=False)])

PHRASES_SCHEMA = pa.schema(
    [
        pa.field("phrase", pa.string(), nullable=False),
        pa.field("count", pa.int64(), nullable=False),
        pa.field("score", pa.float64(), nullable=False),
        pa.field("pass", pa.int32(), nullable=False),
    ]
)

# Rows (or whole inputs) that could not be used, kept aside with the reason.
REJECTED_SCHEMA = pa.schema(
    [
        pa.field("source", pa.string(), nullable=False),
        pa.field("line", pa.int64(), nullable=True),
        pa.field("raw", pa.string(), nullable=True),
        pa.field("reason", pa.string(), nullable=False),
    ]
)

TEXT_DATASET_KIND = "text-dataset"

# --- click dataset (owner: clicks pipeline) ------------------------------------------------
#
# Click dataset directory::
#
#     examples/part-*.parquet   one row per (impression, result); see click_examples_schema
#     vocabs/<name>.parquet     id int32, value string, count int64; id 0 = "<unk>" (OOV/missing)
#     rejected/part-*.parquet   REJECTED_SCHEMA: malformed input lines with the reason
#     manifest.json             kind "click-dataset"

CLICK_DATASET_KIND = "click-dataset"
EXAMPLES_DIR = "examples"
VOCABS_DIR = "vocabs"
UNK_VALUE = "<unk>"  # the value shown for id 0 of every click vocabulary
QUERY_TOKEN_VOCAB = "query_token"  # shared by query_tokens and title_tokens
DOC_VOCAB = "doc"

CLICK_VOCAB_SCHEMA = pa.schema(
    [
        pa.field("id", pa.int32(), nullable=False),
        pa.field("value", pa.string(), nullable=False),
        pa.field("count", pa.int64(), nullable=False),
    ]
)

_CLICK_FIXED_FIELDS = [
    pa.field("impression", pa.string(), nullable=False),
    pa.field("source", pa.string(), nullable=False),  # input file as given
    pa.field("line", pa.int64(), nullable=False),  # 1-based line in that file
    pa.field("split", pa.string(), nullable=False),  # "train" | "validation"
    pa.field("user", pa.string(), nullable=True),
    pa.field("time", pa.timestamp("us", tz="UTC"), nullable=True),
    pa.field("query", pa.string(), nullable=True),
    pa.field("query_tokens", pa.list_(pa.int32()), nullable=False),
    pa.field("title", pa.string(), nullable=True),
    pa.field("title_tokens", pa.list_(pa.int32()), nullable=False),
    pa.field("doc", pa.string(), nullable=True),
    pa.field("doc_id", pa.int32(), nullable=False),
    pa.field("position", pa.int32(), nullable=True),  # 1-based rank on the result page
    pa.field("label", pa.int8(), nullable=False),  # 1 clicked, 0 not
]

# Names a sparse or dense feature may not take (they would collide with the columns above).
CLICK_RESERVED_NAMES = frozenset(
    [f.name for f in _CLICK_FIXED_FIELDS]
    + [f"{f.name}_id" for f in _CLICK_FIXED_FIELDS]
    + [QUERY_TOKEN_VOCAB]
)


def click_examples_schema(
    sparse: list[str] | tuple[str, ...], dense: list[str] | tuple[str, ...]
) -> pa.Schema:
    """Schema of ``examples/part-*.parquet`` for the given feature names.

    Each sparse feature ``f`` adds ``f`` (raw string, null = missing) and ``f_id`` (int32,
    0 = missing or out of vocabulary); each dense feature ``d`` adds ``d`` (raw int64, null =
    missing). ``click_examples_schema(["device"], [])`` ends with ``device, device_id``.
    """
    fields = list(_CLICK_FIXED_FIELDS)
    for name in sparse:
        fields.append(pa.field(name, pa.string(), nullable=True))
        fields.append(pa.field(f"{name}_id", pa.int32(), nullable=False))
    for name in dense:
        fields.append(pa.field(name, pa.int64(), nullable=True))
    return pa.schema(fields)


# --- end click dataset -----------------------------------------------------------------------

# --- synthetic click logs (owner: click-log generator) ---------------------------------------
#
# Generated log directory (`embedrec generate clicks`)::
#
#     impressions.jsonl  aol.tsv  criteo.tsv   the same simulated sessions in three formats
#     truth.parquet      CLICK_TRUTH_SCHEMA: the true click model of every shown result
#     oracle.json        oracle and baseline metrics; bad_lines.json: planted bad lines
#     manifest.json      kind "synthetic-clicks"

SYNTHETIC_CLICKS_KIND = "synthetic-clicks"

CLICK_TRUTH_SCHEMA = pa.schema(
    [
        pa.field("impression_id", pa.string(), nullable=False),  # the JSONL "id"
        pa.field("jsonl_line", pa.int64(), nullable=False),  # 1-based, in impressions.jsonl
        pa.field("result_index", pa.int32(), nullable=False),  # 0-based, into "results"
        pa.field("aol_line", pa.int64(), nullable=False),  # the impression's first AOL row
        pa.field("aol_click_line", pa.int64(), nullable=True),  # this result's click row
        pa.field("criteo_line", pa.int64(), nullable=True),  # set on the result Criteo shows
        pa.field("time", pa.timestamp("s", tz="UTC"), nullable=False),
        pa.field("split", pa.string(), nullable=False),  # "train" | "validation" (time-last)
        pa.field("user", pa.string(), nullable=False),
        pa.field("query", pa.string(), nullable=False),
        pa.field("doc", pa.string(), nullable=False),
        pa.field("position", pa.int32(), nullable=False),  # 1-based
        pa.field("clicked", pa.bool_(), nullable=False),  # the sampled click
        pa.field("examination", pa.float64(), nullable=False),  # P(examined | position)
        pa.field("relevance", pa.float64(), nullable=False),  # P(click | examined)
        pa.field("p_click", pa.float64(), nullable=False),  # examination × relevance
    ]
)

# --- end synthetic click logs ----------------------------------------------------------------
