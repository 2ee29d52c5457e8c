"""Click examples in memory and the batches the ranker trains and scores on.

`load_examples` reads one split of a click dataset into flat numpy columns, mapping ids
through the *model's* vocabularies: a dataset built with the same vocabularies is read as
it is; one built later from newer logs is remapped from its raw columns (`remap_ids`), so
an unseen value becomes id 0 (``<unk>``), never another value's row.

`make_batch` turns row indices into a `RankerBatch`: one KeyedJaggedTensor with a key per
sparse group, e.g. two examples (query "cheap flights" = [5, 9], doc 17, device 2 and
query "hotels" = [3], doc 4, device 1)::

    keys     query          doc       device
    values   [5, 9 | 3]     [17 | 4]  [2 | 1]
    lengths  [2, 1]         [1, 1]    [1, 1]

Training order is seeded by (seed, epoch); with N ranks, rank k takes global batches k,
k + N, k + 2N, … (`rank_batches`), and out-of-vocabulary dropout draws from (seed, epoch,
batch), so a resumed run sees exactly the batches the interrupted one would have.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import torch

from embedrec.core.schemas import DOC_VOCAB
from embedrec.engine.ranker.features import DOC, QUERY, TITLE, TOKEN_TABLE, FeatureSpec
from embedrec.pipelines.clicks.dataset import ClickDataset, ClickVocab, list_column, remap_ids

log = logging.getLogger(__name__)

_READ_ROWS = 65_536
_BAG_COLUMNS = {QUERY: "query_tokens", TITLE: "title_tokens"}


@dataclass
class Examples:
    """One split of a click dataset as flat columns (n rows).

    ``labels`` float32 (n,); ``position`` int32 (n,), 0 = unknown; ``bags``: group →
    (token ids int32 (T,), offsets int64 (n + 1,)); ``ids``: group → int32 (n,); ``dense``:
    float32 (n, 2·D), sign(x)·log(1 + |x|) of each dense feature then its presence flag, or
    None; ``impressions``: int64 (n,) impression codes (for NDCG/MRR) when asked for;
    ``unknown_share``: per group, the share of ids that are 0 (``<unk>``) after mapping.
    """

    labels: np.ndarray
    position: np.ndarray
    bags: dict[str, tuple[np.ndarray, np.ndarray]]
    ids: dict[str, np.ndarray]
    dense: np.ndarray | None
    impressions: np.ndarray | None = None
    unknown_share: dict[str, float] = field(default_factory=dict)
    remapped: bool = False

    def __len__(self) -> int:
        return len(self.labels)


@dataclass
class RankerBatch:
    """Model inputs of B examples: ``features`` (KJT), ``dense`` float32 (B, 2·D) or None,
    ``position`` int64 (B,) with 0 = unknown, ``labels`` float32 (B,)."""

    features: object  # torchrec KeyedJaggedTensor (typed loosely: torchrec loads lazily)
    dense: torch.Tensor | None
    position: torch.Tensor
    labels: torch.Tensor
    doc_ids: torch.Tensor | None = None  # (B,) before OOV dropout, for the retrieval loss
    log_q: torch.Tensor | None = None  # (B,) log of each doc's share of the train rows

    def to(self, device: torch.device) -> RankerBatch:
        if device.type == "cpu":
            return self
        return RankerBatch(
            features=self.features.to(device),  # type: ignore[attr-defined]
            dense=None if self.dense is None else self.dense.to(device),
            position=self.position.to(device),
            labels=self.labels.to(device),
            doc_ids=None if self.doc_ids is None else self.doc_ids.to(device),
            log_q=None if self.log_q is None else self.log_q.to(device),
        )


def vocabs_differ(dataset: ClickDataset, vocabs: Mapping[str, ClickVocab]) -> list[str]:
    """Tables whose ids in ``dataset`` do not mean what they mean to the model."""
    differ = []
    for table, vocab in vocabs.items():
        own = dataset.vocabs.get(table)
        if own is None or own.values != vocab.values:
            differ.append(table)
    return differ


def load_examples(
    dataset: ClickDataset,
    spec: FeatureSpec,
    vocabs: Mapping[str, ClickVocab],
    split: str | None,
    *,
    with_impressions: bool = False,
) -> Examples:
    """Read ``split`` (None: every row) of ``dataset`` with ids in the model's vocabularies."""
    remap = {t: vocabs[t] for t in vocabs_differ(dataset, vocabs)}
    if remap:
        log.info("remapping %s through the model's vocabularies", ", ".join(sorted(remap)))
    available = set(dataset.schema.names)
    columns = ["label", "position"] + [_BAG_COLUMNS[g] for g in spec.bag_groups]
    columns += [_id_column(g) for g in spec.id_groups if _id_column(g) in available]
    columns += [name for name in spec.dense if name in available]
    if with_impressions:
        columns.append("impression")
    if remap:
        raw = {"query", "title"} if TOKEN_TABLE in remap else set()
        raw |= {_raw_column(t) for t in remap if t != TOKEN_TABLE}
        columns += sorted(c for c in raw & available if c not in columns)

    pieces: list[pa.Table] = []
    for batch in dataset.iter_batches(rows=_READ_ROWS, split=split, columns=columns):
        table = pa.Table.from_batches([batch])
        if remap:
            table = remap_ids(table, remap)
        pieces.append(table)
    table = pa.concat_tables(pieces) if pieces else None
    return _to_examples(table, spec, with_impressions, remapped=bool(remap))


def _id_column(group: str) -> str:
    return "doc_id" if group == DOC else f"{group}_id"


def _raw_column(table: str) -> str:
    return DOC_VOCAB if table == DOC else table


def _to_examples(
    table: pa.Table | None, spec: FeatureSpec, with_impressions: bool, *, remapped: bool
) -> Examples:
    if table is None or table.num_rows == 0:
        empty_offsets = np.zeros(1, dtype=np.int64)
        return Examples(
            labels=np.zeros(0, dtype=np.float32),
            position=np.zeros(0, dtype=np.int32),
            bags={g: (np.zeros(0, dtype=np.int32), empty_offsets) for g in spec.bag_groups},
            ids={g: np.zeros(0, dtype=np.int32) for g in spec.id_groups},
            dense=np.zeros((0, 2 * len(spec.dense)), dtype=np.float32) if spec.dense else None,
            impressions=np.zeros(0, dtype=np.int64) if with_impressions else None,
            remapped=remapped,
        )
    n = table.num_rows
    labels = table.column("label").to_numpy().astype(np.float32)
    position = pc.fill_null(table.column("position"), 0).to_numpy().astype(np.int32)
    np.maximum(position, 0, out=position)
    bags = {g: list_column(table, _BAG_COLUMNS[g]) for g in spec.bag_groups}
    ids = {}
    for group in spec.id_groups:
        name = _id_column(group)
        if name in table.column_names:
            ids[group] = table.column(name).to_numpy().astype(np.int32, copy=False)
        else:
            ids[group] = np.zeros(n, dtype=np.int32)
    dense = _dense(table, spec.dense) if spec.dense else None
    impressions = None
    if with_impressions:
        encoded = pc.dictionary_encode(table.column("impression").combine_chunks())
        impressions = encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64)
    unknown = {g: float(np.mean(v == 0)) for g, v in ids.items()}
    for group, (values, _) in bags.items():
        unknown[group] = float(np.mean(values == 0)) if len(values) else 0.0
    return Examples(labels, position, bags, ids, dense, impressions, unknown, remapped)


def _dense(table: pa.Table, names: tuple[str, ...]) -> np.ndarray:
    """(n, 2·D): signed log1p of each dense value (DLRM's transform), then presence."""
    n = table.num_rows
    out = np.zeros((n, 2 * len(names)), dtype=np.float32)
    for j, name in enumerate(names):
        if name not in table.column_names:
            continue  # a feature the newer data lacks: missing everywhere
        column = table.column(name)
        present = pc.is_valid(column).to_numpy(zero_copy_only=False)
        values = pc.fill_null(column, 0).to_numpy(zero_copy_only=False).astype(np.float64)
        out[:, j] = np.sign(values) * np.log1p(np.abs(values))
        out[:, len(names) + j] = present
    return out


def doc_log_share(examples: Examples, rows: int) -> np.ndarray | None:
    """log(share of rows) per doc id, float64 (rows,); None without docs.

    Docs never seen get the share of one row (they can still be drawn after OOV dropout).
    """
    if DOC not in examples.ids or len(examples) == 0:
        return None
    counts = np.bincount(examples.ids[DOC], minlength=rows).astype(np.float64)
    return np.log(np.maximum(counts, 1.0) / len(examples))


def position_prior(examples: Examples, max_position: int) -> np.ndarray:
    """Starting logits of P(examined | position), float32 (max_position + 1,).

    Each position's click rate relative to the best position's, scaled to at most 0.9 —
    the examination curve the clicks show before any relevance is learned (row 0, unknown
    positions, is unused). Starting there saves the dense optimizer from walking every
    position's logit from a flat start, which takes thousands of steps.
    """
    position = np.minimum(examples.position, max_position)
    seen = position > 0
    shown = np.bincount(position[seen], minlength=max_position + 1).astype(np.float64)
    clicks = np.bincount(position[seen], weights=examples.labels[seen], minlength=max_position + 1)
    overall = clicks.sum() / max(shown.sum(), 1.0)
    rate = (clicks + overall) / (shown + 1.0)  # smoothed: empty positions get the overall rate
    examined = np.clip(0.9 * rate / max(rate[1:].max(initial=0.0), 1e-12), 0.01, 0.9)
    prior = np.log(examined) - np.log1p(-examined)
    prior[0] = 0.0
    return prior.astype(np.float32)


def epoch_order(n: int, seed: int, epoch: int) -> np.ndarray:
    """The seeded permutation of ``n`` rows for one epoch (the same on every rank)."""
    return np.random.default_rng([seed, epoch]).permutation(n)


def rank_batches(n: int, batch_size: int, world_size: int) -> int:
    """Rounds per epoch: each round gives one batch to every rank.

    The last round is filled with batches from the start of the epoch when the number of
    batches does not divide by the world size (every rank must step the same number of
    times: the embedding all-to-all and DDP's all-reduce are collective).
    """
    batches = max(1, math.ceil(n / batch_size))
    return math.ceil(batches / world_size)


def batch_rows(order: np.ndarray, batch_size: int, global_batch: int) -> np.ndarray:
    """Row indices of global batch ``global_batch`` of an epoch (wrapping past the end)."""
    batches = max(1, math.ceil(len(order) / batch_size))
    b = global_batch % batches
    return order[b * batch_size : (b + 1) * batch_size]


def make_batch(
    examples: Examples,
    rows: np.ndarray,
    spec: FeatureSpec,
    *,
    oov_rate: float = 0.0,
    rng: np.random.Generator | None = None,
    missing: frozenset[str] = frozenset(),
    doc_log_q: np.ndarray | None = None,
) -> RankerBatch:
    """The model inputs of ``rows`` (int (B,)); ids dropped to 0 at ``oov_rate``.

    ``doc_log_q`` (doc vocab size,): log share of the train rows per doc id; given, the
    batch carries the doc ids and their log Q for `embedrec.engine.ranker.model.retrieval_loss`.

    ``missing``: groups whose ids all become 0 (token bags keep their length) and, for
    ``dense``, whose values become absent — the "unknown" inputs explanations compare to.
    """
    from torchrec import KeyedJaggedTensor

    values: list[np.ndarray] = []
    lengths: list[np.ndarray] = []
    for group in spec.bag_groups:
        tokens, offsets = examples.bags[group]
        vals, lens = _gather_jagged(tokens, offsets, rows)
        values.append(vals)
        lengths.append(lens)
    for group in spec.id_groups:
        values.append(examples.ids[group][rows])
        lengths.append(np.ones(len(rows), dtype=np.int32))
    flat = np.concatenate(values).astype(np.int64) if values else np.zeros(0, np.int64)
    if oov_rate > 0 and rng is not None and len(flat):
        flat[rng.random(len(flat)) < oov_rate] = 0
    if missing:
        start = 0
        for group, group_values in zip(spec.sparse_groups, values, strict=True):
            if group in missing:
                flat[start : start + len(group_values)] = 0
            start += len(group_values)
    features = KeyedJaggedTensor.from_lengths_sync(
        keys=list(spec.sparse_groups),
        values=torch.from_numpy(flat),
        lengths=torch.from_numpy(np.concatenate(lengths).astype(np.int32))
        if lengths
        else torch.zeros(0, dtype=torch.int32),
    )
    dense = None
    if examples.dense is not None:
        block = examples.dense[rows]
        if "dense" in missing:
            block = np.zeros_like(block)
        dense = torch.from_numpy(np.ascontiguousarray(block))
    doc_ids = log_q = None
    if doc_log_q is not None and DOC in examples.ids:
        ids = examples.ids[DOC][rows]
        doc_ids = torch.from_numpy(ids.astype(np.int64))
        log_q = torch.from_numpy(doc_log_q[ids].astype(np.float32))
    return RankerBatch(
        features=features,
        dense=dense,
        position=torch.from_numpy(examples.position[rows].astype(np.int64)),
        labels=torch.from_numpy(examples.labels[rows]),
        doc_ids=doc_ids,
        log_q=log_q,
    )


def _gather_jagged(
    values: np.ndarray, offsets: np.ndarray, rows: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The jagged rows ``rows`` of (values, offsets) as (values, lengths int32)."""
    starts = offsets[rows]
    lengths = offsets[rows + 1] - starts
    total = int(lengths.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int32), lengths.astype(np.int32)
    within = np.arange(total) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    return values[np.repeat(starts, lengths) + within], lengths.astype(np.int32)


def iter_score_batches(
    n: int, batch_size: int, rank: int = 0, world_size: int = 1
) -> Iterator[tuple[int, np.ndarray]]:
    """``(batch number, rows)`` of sequential batches for scoring; rank k takes every N-th.

    Every rank yields the same number of batches (the last round repeats batch 0), so
    collective forward passes line up; callers drop repeated batch numbers.
    """
    batches = max(1, math.ceil(n / batch_size))
    rounds = math.ceil(batches / world_size)
    for r in range(rounds):
        b = r * world_size + rank
        b_eff = b if b < batches else 0
        yield b_eff, np.arange(b_eff * batch_size, min(n, (b_eff + 1) * batch_size))
