"""Which feature groups a ranker has, decided from what its training dataset holds.

A *group* is one input of the model and one pooled embedding of the interaction::

    group    KJT key   table         rows (ids)            pooling
    query    query     query_token   the token vocabulary  mean of the query's tokens
    title    title     query_token   (shared with query)   mean of the title's tokens
    doc      doc       doc           the doc vocabulary    the doc id
    <f>      <f>       <f>           f's vocabulary        the value's id (device, c1, …)
    dense    —         —             bottom MLP            dense features (Criteo i1..i13)

A JSONL dataset from the generator has query, title, doc, device and region; AOL has query
and doc; Criteo has c1..c26 and dense. Groups whose vocabulary holds nothing but ``<unk>``
(Criteo's query tokens and docs) are left out, so the table set is what the data has.
Query and title share one token table: a query word and the same word in a title are one
row, which is what lets a model score (query, doc) pairs it never saw together.

>>> spec = FeatureSpec(query=True, title=True, doc=True, sparse=("device",), dense=(),
...     position=True, table_rows={"query_token": 1480, "doc": 14740, "device": 4})
>>> spec.groups, spec.tables
(('query', 'title', 'doc', 'device'), ('query_token', 'doc', 'device'))
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.compute as pc

from embedrec.core.schemas import DOC_VOCAB, QUERY_TOKEN_VOCAB
from embedrec.engine.errors import EngineError
from embedrec.pipelines.clicks.dataset import ClickDataset, ClickVocab, read_click_vocab
from embedrec.pipelines.clicks.vocab import write_click_vocab

log = logging.getLogger(__name__)

QUERY, TITLE, DOC, DENSE = "query", "title", "doc", "dense"
TOKEN_TABLE = QUERY_TOKEN_VOCAB
TOKEN_GROUPS = (QUERY, TITLE)
VOCABS_DIR = "vocabs"


@dataclass(frozen=True)
class FeatureSpec:
    """The groups of one model and the row count of each table (see the module doc)."""

    query: bool
    title: bool
    doc: bool
    sparse: tuple[str, ...]
    dense: tuple[str, ...]
    position: bool
    table_rows: dict[str, int] = field(default_factory=dict)
    notes: tuple[str, ...] = ()

    @property
    def id_groups(self) -> tuple[str, ...]:
        """Groups that are one id per example (doc and the sparse features)."""
        return ((DOC,) if self.doc else ()) + self.sparse

    @property
    def bag_groups(self) -> tuple[str, ...]:
        """Groups that are a bag of token ids per example."""
        return tuple(g for g, on in ((QUERY, self.query), (TITLE, self.title)) if on)

    @property
    def sparse_groups(self) -> tuple[str, ...]:
        """Every group looked up in a table, in KJT key order."""
        return self.bag_groups + self.id_groups

    @property
    def groups(self) -> tuple[str, ...]:
        """Every group in interaction order (``dense`` last when present)."""
        return self.sparse_groups + ((DENSE,) if self.dense else ())

    @property
    def tables(self) -> tuple[str, ...]:
        """Embedding tables, each once (query and title share ``query_token``)."""
        return ((TOKEN_TABLE,) if self.bag_groups else ()) + self.id_groups

    def table_of(self, group: str) -> str:
        return TOKEN_TABLE if group in TOKEN_GROUPS else group

    @property
    def can_retrieve(self) -> bool:
        """A query tower and a doc tower exist, so q·d can retrieve docs for a query."""
        return self.query and self.doc

    def to_dict(self) -> dict[str, Any]:
        return {
            "query": self.query,
            "title": self.title,
            "doc": self.doc,
            "sparse": list(self.sparse),
            "dense": list(self.dense),
            "position": self.position,
            "table_rows": dict(self.table_rows),
            "notes": list(self.notes),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FeatureSpec:
        return cls(
            query=bool(data["query"]),
            title=bool(data["title"]),
            doc=bool(data["doc"]),
            sparse=tuple(data["sparse"]),
            dense=tuple(data["dense"]),
            position=bool(data["position"]),
            table_rows={str(k): int(v) for k, v in data["table_rows"].items()},
            notes=tuple(data.get("notes", ())),
        )


def discover_features(dataset: ClickDataset, position_mode: str) -> FeatureSpec:
    """The groups a model of ``dataset`` gets (its train split decides what is present).

    ``position_mode``: ``on``, ``off`` or ``auto`` (see `engine.ranker.config.RankerConfig`).
    """
    notes: list[str] = []
    stats = _train_presence(dataset)
    has_tokens = len(dataset.vocabs[QUERY_TOKEN_VOCAB]) > 1
    query = has_tokens and stats["query_rows"] > 0
    title = has_tokens and stats["title_rows"] > 0
    doc = len(dataset.vocabs[DOC_VOCAB]) > 1
    for name, present in (("query", query), ("title", title), ("doc", doc)):
        if not present:
            notes.append(f"no {name} in the train split: no {name} group")
    sparse = []
    for name in dataset.sparse_features:
        if len(dataset.vocabs[name]) > 1:
            sparse.append(name)
        else:
            notes.append(f"sparse feature {name} has no value besides <unk>: left out")
    position = _use_position(position_mode, stats, notes)
    spec = FeatureSpec(
        query=query,
        title=title,
        doc=doc,
        sparse=tuple(sparse),
        dense=tuple(dataset.dense_features),
        position=position,
        notes=tuple(notes),
    )
    rows = {table: len(dataset.vocabs[table]) for table in spec.tables}
    spec = FeatureSpec(**{**spec.__dict__, "table_rows": rows})
    if not spec.groups:
        raise EngineError(
            f"{dataset.path} has no feature the ranker can use (no query, doc, sparse or "
            "dense feature in its train split)"
        )
    for note in notes:
        log.info("%s", note)
    return spec


def _use_position(mode: str, stats: dict[str, int], notes: list[str]) -> bool:
    if mode == "off":
        notes.append("position term off (--position off)")
        return False
    if stats["positioned_rows"] == 0:
        if mode == "on":
            raise EngineError("--position on was given but no train row has a position")
        notes.append("no train row has a position: no position term")
        return False
    if mode == "auto" and stats["unclicked_positioned_rows"] == 0:
        # AOL: only clicks carry a rank, sampled negatives have none; a position term would
        # learn "has a position = clicked" instead of position bias.
        notes.append("only clicked rows have positions: no position term (it would leak labels)")
        return False
    return True


def _train_presence(dataset: ClickDataset) -> dict[str, int]:
    """Counts over the train split: rows with query/title tokens and with positions."""
    stats = {"query_rows": 0, "title_rows": 0, "positioned_rows": 0, "unclicked_positioned_rows": 0}
    columns = ["query_tokens", "title_tokens", "position", "label"]
    for batch in dataset.iter_batches(rows=65536, split="train", columns=columns):
        stats["query_rows"] += _non_empty(batch.column("query_tokens"))
        stats["title_rows"] += _non_empty(batch.column("title_tokens"))
        positioned = pc.is_valid(batch.column("position")).to_numpy(zero_copy_only=False)
        unclicked = batch.column("label").to_numpy(zero_copy_only=False) == 0
        stats["positioned_rows"] += int(positioned.sum())
        stats["unclicked_positioned_rows"] += int((positioned & unclicked).sum())
    return stats


def _non_empty(column: Any) -> int:
    lengths = pc.fill_null(pc.list_value_length(column), 0).to_numpy(zero_copy_only=False)
    return int(np.count_nonzero(lengths))


def write_model_vocabs(directory: Path, spec: FeatureSpec, vocabs: dict[str, ClickVocab]) -> None:
    """Copy the vocabularies of the model's tables into ``directory/vocabs/``."""
    for table in spec.tables:
        vocab = vocabs[table]
        write_click_vocab(directory / VOCABS_DIR / f"{table}.parquet", vocab.values, vocab.counts)


def read_model_vocabs(directory: Path, spec: FeatureSpec) -> dict[str, ClickVocab]:
    """The vocabularies a model carries, one per table, checked against its table sizes."""
    vocabs = {}
    for table in spec.tables:
        vocab = read_click_vocab(directory / VOCABS_DIR / f"{table}.parquet", table)
        if len(vocab) != spec.table_rows[table]:
            raise EngineError(
                f"{directory}: vocabulary {table} has {len(vocab)} values but the model's "
                f"table has {spec.table_rows[table]} rows"
            )
        vocabs[table] = vocab
    return vocabs
