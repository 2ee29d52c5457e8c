"""The ranker network: TorchRec embedding tables, a DLRM interaction and a two-tower dot.

For one example with groups g = 1..G (see `embedrec.engine.ranker.features`)::

    e_g        = pooled embedding of group g (dim d)   one EmbeddingBagCollection
    e_dense    = bottom_mlp(dense features)             only with dense features
    z          = [e_1, …, e_G, e_dense] ⊕ [e_i · e_j for i < j]        DLRM interaction
    q, v       = e_query,  e_doc + e_title              query tower, doc tower
    relevance  = top_mlp(z) + q · v                     logit of P(click | examined)
    examined   = sigmoid(position_logit[position])      training only, PAL-style
    P(click)   = examined × sigmoid(relevance)
    loss       = BCE(P(click), clicked) + w · in-batch softmax of q·v over the clicks

The q·v term is added outside the MLP, and an in-batch softmax over the clicked rows
(`retrieval_loss`, weight ``retrieval_weight``) trains it to rank a query's clicked docs
above the other docs of the batch, so the query vector and the exported doc vectors form a
retrieval score on their own (`embedrec.engine.ranker.export` writes v for every doc, FAISS
retrieves by inner product, the full model re-ranks the candidates).

The position factor models position bias the way the clicks were made (examination ×
relevance, cf. "PAL", Guo et al. 2019): it is learned in training and left out at serving,
where ``sigmoid(relevance)`` is P(click | examined). Rows without a position (AOL
negatives, Criteo) get no factor.

Build it on the meta device and hand it to `engine.runtime.distributed.shard_module` for training;
build it on the CPU and `load_state_dict` the exported state for inference.

>>> model = RankerModel(spec, dim=32, mlp=(128, 64), dense_mlp=(64,), max_position=20,
...                     device=torch.device("cpu"), seed=1)           # doctest: +SKIP
>>> out = model(batch.features, batch.dense, batch.position)        # doctest: +SKIP
>>> relevance, log_examined, q, v = out                              # doctest: +SKIP
>>> relevance.shape, log_examined.shape  # doctest: +SKIP
(torch.Size([2048]), torch.Size([2048]))
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from embedrec.engine.ranker.features import DENSE, DOC, QUERY, TITLE, TOKEN_TABLE, FeatureSpec

# Rows start at N(0, σ²) with σ = INIT_SCALE / sqrt(dim): dot products of two rows start
# around INIT_SCALE², small but not vanishing, so the q·v term learns from the first step.
INIT_SCALE = 0.5


def _normal_init(dim: int) -> Callable[[torch.Tensor], torch.Tensor]:
    std = INIT_SCALE / math.sqrt(dim)

    def init(weight: torch.Tensor) -> torch.Tensor:
        return torch.nn.init.normal_(weight, 0.0, std)

    return init


def build_tables(spec: FeatureSpec, dim: int, device: torch.device) -> nn.Module:
    """One EmbeddingBagCollection: the token table (mean-pooled query and title bags),
    the doc table and one table per sparse feature, each ``dim`` wide."""
    from torchrec import EmbeddingBagCollection, EmbeddingBagConfig
    from torchrec.modules.embedding_configs import PoolingType

    tables = []
    for table in spec.tables:
        features = list(spec.bag_groups) if table == TOKEN_TABLE else [table]
        tables.append(
            EmbeddingBagConfig(
                name=table,
                embedding_dim=dim,
                num_embeddings=spec.table_rows[table],
                feature_names=features,
                pooling=PoolingType.MEAN if table == TOKEN_TABLE else PoolingType.SUM,
                init_fn=_normal_init(dim),
            )
        )
    return EmbeddingBagCollection(tables=tables, device=device)


def mlp_layers(sizes: list[int], *, last_activation: bool) -> nn.Sequential:
    """Linear layers between ``sizes`` with ReLU after each (after the last when asked)."""
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(itertools.pairwise(sizes)):
        layers.append(nn.Linear(a, b))
        if i < len(sizes) - 2 or last_activation:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


class RankerModel(nn.Module):
    """See the module docstring. ``forward`` returns ``(relevance, log_examined)`` (B,).

    ``relevance``: logit of P(click | examined); ``log_examined``: log P(examined) at each
    row's position (0 where the position is unknown or the model has no position term).
    """

    def __init__(
        self,
        spec: FeatureSpec,
        *,
        dim: int,
        mlp: tuple[int, ...],
        dense_mlp: tuple[int, ...],
        max_position: int,
        device: torch.device,
        seed: int | None,
        position_init: Any = None,
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        self.spec = spec
        self.dropout = dropout  # on the top MLP's input, training only
        self.dim = dim
        self.max_position = max_position
        dense_device = torch.device("cpu") if device.type == "meta" else device
        if seed is not None:  # init_fn and the MLPs draw from torch's global generator
            torch.manual_seed(seed)
        self.sparse = build_tables(spec, dim, device)
        self.groups = spec.groups
        n = len(self.groups)
        self.bottom: nn.Module | None = None
        if spec.dense:
            sizes = [2 * len(spec.dense), *dense_mlp, dim]
            self.bottom = mlp_layers(sizes, last_activation=True).to(dense_device)
        pairs = n * (n - 1) // 2
        self.top = mlp_layers([n * dim + pairs, *mlp, 1], last_activation=False).to(dense_device)
        left, right = torch.triu_indices(n, n, offset=1)
        self.pair_left: torch.Tensor
        self.pair_right: torch.Tensor
        self.register_buffer("pair_left", left.to(dense_device), persistent=False)
        self.register_buffer("pair_right", right.to(dense_device), persistent=False)
        self.position_logit: nn.Embedding | None = None
        if spec.position:
            # Row p is position p (1-based); row 0 is unused (unknown positions get no factor).
            self.position_logit = nn.Embedding(max_position + 1, 1).to(dense_device)
            with torch.no_grad():
                if position_init is None:
                    self.position_logit.weight.fill_(1.0)
                else:  # (max_position + 1,) logits, e.g. `ranker_batches.position_prior`
                    start = torch.as_tensor(position_init, dtype=torch.float32)
                    self.position_logit.weight.copy_(start.reshape(-1, 1))

    def embeddings(self, features: Any, dense: torch.Tensor | None) -> dict[str, torch.Tensor]:
        """Pooled embedding of every group: name → (B, dim)."""
        pooled = self.sparse(features).to_dict() if self.spec.sparse_groups else {}
        out = {group: pooled[group] for group in self.spec.sparse_groups}
        if self.bottom is not None:
            if dense is None:
                raise ValueError("this model has dense features: pass their (B, 2·D) input")
            out[DENSE] = self.bottom(dense)
        return out

    def relevance(self, vectors: dict[str, torch.Tensor]) -> torch.Tensor:
        """Logit of P(click | examined), (B,), from the group embeddings."""
        stacked = torch.stack([vectors[g] for g in self.groups], dim=1)  # (B, n, d)
        # Pairwise dots by gathering both sides: on a CPU this beats a batched matmul of
        # B tiny (n, d) × (d, n) products several times over.
        dots = (stacked[:, self.pair_left] * stacked[:, self.pair_right]).sum(-1)  # (B, n(n-1)/2)
        z = torch.cat([stacked.flatten(1), dots], dim=1)
        if self.dropout > 0:
            z = F.dropout(z, self.dropout, self.training)
        logit = self.top(z).squeeze(-1)
        if self.spec.can_retrieve:
            logit = logit + (query_tower(vectors) * doc_tower(vectors)).sum(-1)
        return logit

    def log_examined(self, position: torch.Tensor) -> torch.Tensor:
        """log P(examined | position), (B,); 0 for unknown positions (0) or no position term."""
        if self.position_logit is None:
            return torch.zeros(position.shape, device=position.device)
        row = position.clamp(0, self.max_position)
        log_p = F.logsigmoid(self.position_logit(row).squeeze(-1))
        return torch.where(position > 0, log_p, torch.zeros_like(log_p))

    def forward(
        self, features: Any, dense: torch.Tensor | None, position: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """``(relevance, log_examined, q, v)``: logits (B,), log P(examined) (B,) and the
        query and doc towers (B, dim) — (B, 0) when the model has no towers."""
        vectors = self.embeddings(features, dense)
        relevance, log_examined = self.relevance(vectors), self.log_examined(position)
        if self.spec.can_retrieve:
            return relevance, log_examined, query_tower(vectors), doc_tower(vectors)
        empty = relevance.new_zeros((relevance.shape[0], 0))
        return relevance, log_examined, empty, empty


def query_tower(vectors: dict[str, torch.Tensor]) -> torch.Tensor:
    """The query representation q (B, dim): the mean of the query's token rows."""
    return vectors[QUERY]


def doc_tower(vectors: dict[str, torch.Tensor]) -> torch.Tensor:
    """The doc representation v (B, dim): the doc's row plus the mean of its title tokens."""
    doc = vectors[DOC]
    return doc + vectors[TITLE] if TITLE in vectors else doc


def click_loss(relevance: torch.Tensor, log_examined: torch.Tensor, labels: torch.Tensor) -> Any:
    """Summed binary cross-entropy of P(click) = examined × sigmoid(relevance), (scalar).

    Computed in log space: log p = log_examined + logsigmoid(relevance) and
    log(1 − p) = log1mexp(log p), stable for p near 0 and 1.
    """
    log_p = log_examined + F.logsigmoid(relevance)
    log_not = _log1mexp(log_p)
    return -(labels * log_p + (1.0 - labels) * log_not).sum()


def retrieval_loss(
    query: torch.Tensor,
    doc: torch.Tensor,
    doc_ids: torch.Tensor,
    log_q: torch.Tensor,
    labels: torch.Tensor,
) -> Any:
    """Summed in-batch softmax loss of the towers over the clicked rows, (scalar).

    Each clicked row i scores its doc against every doc of the batch: softmax over j of
    q_i · v_j − log Q(doc_j), target j = i; rows showing the same doc as i are not
    negatives. Q(doc) is the doc's share of the train rows, the rate at which batches
    sample it: subtracting log Q ("logQ correction", Yi et al. 2019) keeps popular docs
    from being pushed down merely for appearing in many batches, so q · v ranks docs by
    how likely the query is to click them — what retrieval needs.
    """
    clicked = torch.nonzero(labels > 0.5, as_tuple=True)[0]
    if len(clicked) == 0 or query.shape[1] == 0:
        return query.sum() * 0.0
    logits = query[clicked] @ doc.T - log_q[None, :]  # (C, B)
    same = doc_ids[clicked][:, None] == doc_ids[None, :]
    same[torch.arange(len(clicked)), clicked] = False
    logits = logits.masked_fill(same, float("-inf"))
    return F.cross_entropy(logits, clicked, reduction="sum")


def click_probability(relevance: torch.Tensor, log_examined: torch.Tensor) -> torch.Tensor:
    """P(click) at the logged position: exp(log_examined) · sigmoid(relevance)."""
    return torch.exp(log_examined + F.logsigmoid(relevance))


def _log1mexp(x: torch.Tensor) -> torch.Tensor:
    """log(1 − exp(x)) for x <= 0 (Mächler 2012: two branches around −log 2)."""
    x = x.clamp(max=-1e-7)
    return torch.where(x > -0.6931, torch.log(-torch.expm1(x)), torch.log1p(-torch.exp(x)))


__all__ = [
    "RankerModel",
    "build_tables",
    "click_loss",
    "click_probability",
    "doc_tower",
    "query_tower",
    "retrieval_loss",
]
