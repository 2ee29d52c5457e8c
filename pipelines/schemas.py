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
