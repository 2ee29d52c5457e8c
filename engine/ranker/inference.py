"""A trained ranker on the CPU: score docs for a query, explain scores, embed queries and docs.

No process group and no sharding: the exported state (``model.pt``) is loaded into a plain
`RankerModel` whose tables are ordinary ``EmbeddingBagCollection`` bags.

Inputs are mapped the way `remap_ids` maps newer logs: a word, doc or feature value the
model never saw becomes id 0 (``<unk>``), whose row learned "a value this model did not
know" (training drops ids to 0 at ``oov_rate``). Unknown *docs* are not scored — nothing
is known about them — but reported back.

>>> ranker = Ranker.load("models/ranker")                             # doctest: +SKIP
>>> result = ranker.rank("flights", ["d17", "d3", "d999"], {"device": "mobile"})  # doctest: +SKIP
>>> [(r.doc, round(r.score, 3)) for r in result.results], result.unknown_docs  # doctest: +SKIP
([('d3', 0.412), ('d17', 0.087)], ['d999'])
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import torch

from embedrec.core.artifacts import read_manifest
from embedrec.core.errors import ArtifactError, ConfigError
from embedrec.engine.errors import EngineError
from embedrec.engine.ranker.batches import Examples, iter_score_batches, make_batch
from embedrec.engine.ranker.config import RankerConfig
from embedrec.engine.ranker.explain import explain_rows
from embedrec.engine.ranker.features import (
    DOC,
    QUERY,
    TITLE,
    TOKEN_TABLE,
    FeatureSpec,
    read_model_vocabs,
)
from embedrec.engine.ranker.files import load_model_state, read_doc_catalog, read_ranker_config
from embedrec.engine.ranker.model import RankerModel
from embedrec.pipelines.clicks.dataset import ClickVocab
from embedrec.pipelines.clicks.tokens import tokenize_array, tokenize_query

log = logging.getLogger(__name__)

SCORE_BATCH = 8192


class UnknownDocsError(EngineError, LookupError):
    """None of the docs given to rank is known to the model (HTTP 404 ``unknown_doc``)."""

    http_status = 404
    error_code = "unknown_doc"

    def __init__(self, docs: Sequence[str]) -> None:
        self.docs = list(docs)
        shown = ", ".join(self.docs[:5]) + (" …" if len(self.docs) > 5 else "")
        super().__init__(f"no doc given is known to this ranker ({shown})")

    def __reduce__(self) -> tuple[type, tuple[list[str]]]:
        return (type(self), (self.docs,))


@dataclass(frozen=True)
class QueryEncoding:
    """A query cut into tokens: their ids (0 = unknown word) and the unknown words."""

    text: str
    tokens: list[str]
    ids: np.ndarray
    unknown: list[str]

    @property
    def known(self) -> int:
        return int(np.count_nonzero(self.ids))


@dataclass(frozen=True)
class DocCatalog:
    """The model's docs (``docs.parquet``) with their title token bags by doc id.

    ``ids`` int32 (N,), ``docs``, ``titles``, ``shown``/``clicks`` int64 (N,) per catalog
    row; ``title_values``/``title_offsets``: the title bag of doc id i is
    ``title_values[title_offsets[i]:title_offsets[i + 1]]`` (for every id of the vocab).
    """

    ids: np.ndarray
    docs: list[str]
    titles: list[str | None]
    shown: np.ndarray
    clicks: np.ndarray
    title_values: np.ndarray
    title_offsets: np.ndarray

    def __len__(self) -> int:
        return len(self.ids)

    def popular(self, k: int) -> np.ndarray:
        """Doc ids of the ``k`` most clicked docs in the train split (ties: most shown)."""
        order = np.lexsort((-self.shown, -self.clicks))
        return self.ids[order[:k]]


@dataclass
class RankedDoc:
    """One scored doc: ``score`` = P(click | examined), its logit, and when asked, the
    q·v retrieval term and each group's contribution to the logit (`engine.ranker.explain`)."""

    doc: str
    score: float
    logit: float
    retrieval: float | None = None
    contributions: dict[str, float] | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"doc": self.doc, "score": self.score, "logit": self.logit}
        if self.retrieval is not None:
            out["retrieval_score"] = self.retrieval
        if self.contributions is not None:
            out["contributions"] = self.contributions
        return out


@dataclass
class RankResult:
    """Docs in score order (highest first) and what could not be used."""

    query: str
    results: list[RankedDoc]
    unknown_words: list[str] = field(default_factory=list)
    unknown_docs: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "query": self.query,
            "results": [r.to_dict() for r in self.results],
            "unknown_words": self.unknown_words,
            "unknown_docs": self.unknown_docs,
        }


class Ranker:
    """A loaded ranker model directory (see `embedrec.engine.ranker.files`)."""

    def __init__(
        self,
        path: Path,
        model: RankerModel,
        config: RankerConfig,
        spec: FeatureSpec,
        vocabs: dict[str, ClickVocab],
        catalog: DocCatalog | None,
        manifest: dict[str, Any],
    ) -> None:
        self.path = path
        self.model = model
        self.config = config
        self.spec = spec
        self.vocabs = vocabs
        self._catalog = catalog
        self.manifest = manifest

    @classmethod
    def load(cls, model_dir: str | Path) -> Ranker:
        """Open a ranker directory; raises `ArtifactError` when it is not a whole one."""
        path = Path(model_dir)
        config, spec, _ = read_ranker_config(path)
        manifest = read_manifest(path)
        model = RankerModel(
            spec,
            dim=config.dim,
            mlp=config.mlp,
            dense_mlp=config.dense_mlp,
            max_position=config.max_position,
            device=torch.device("cpu"),
            seed=None,  # the weights come from model.pt; leave torch's global RNG alone
        )
        state = load_model_state(path)
        try:
            model.load_state_dict(state)
        except RuntimeError as exc:
            raise ArtifactError(path, f"model.pt does not fit its config.json ({exc})") from None
        model.eval()
        vocabs = read_model_vocabs(path, spec)
        catalog = _load_catalog(path, vocabs) if spec.doc else None
        return cls(path, model, config, spec, vocabs, catalog, manifest)

    @property
    def catalog(self) -> DocCatalog:
        if self._catalog is None:
            raise EngineError(f"the ranker {self.path} has no docs (trained without a doc id)")
        return self._catalog

    # --- inputs ---------------------------------------------------------------------------

    def encode_query(self, text: str) -> QueryEncoding:
        """Tokens of ``text`` (the pipeline's tokeniser) and their ids; unknown words → 0."""
        tokens = tokenize_query(text)
        if TOKEN_TABLE in self.vocabs:
            ids = self.vocabs[TOKEN_TABLE].lookup(pa.array(tokens, type=pa.string())).to_numpy()
        else:
            ids = np.zeros(len(tokens), dtype=np.int32)
        ids = np.asarray(ids, dtype=np.int32)
        unknown = [t for t, i in zip(tokens, ids.tolist(), strict=True) if i == 0]
        return QueryEncoding(text=text, tokens=tokens, ids=ids, unknown=unknown)

    def doc_ids(self, docs: Sequence[str]) -> np.ndarray:
        """Model doc ids of raw doc ids (0 where unknown), int32 (n,)."""
        if DOC not in self.vocabs:
            raise EngineError(f"the ranker {self.path} has no doc feature to score docs by")
        return np.asarray(self.vocabs[DOC].lookup(list(docs)).to_numpy(), dtype=np.int32)

    def examples(
        self,
        query: QueryEncoding,
        doc_ids: np.ndarray,
        features: Mapping[str, Any] | None = None,
    ) -> Examples:
        """One example per doc id: the query, the doc, its catalog title and ``features``."""
        n = len(doc_ids)
        features = dict(features or {})
        unknown = sorted(set(features) - set(self.spec.sparse) - set(self.spec.dense))
        if unknown:
            expected = ", ".join(self.spec.sparse + self.spec.dense) or "none"
            raise ConfigError("features", unknown[0], f"one of this ranker's features ({expected})")
        bags: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        if self.spec.query:
            bags[QUERY] = (
                np.tile(query.ids, n),
                np.arange(n + 1, dtype=np.int64) * len(query.ids),
            )
        if self.spec.title:
            catalog = self.catalog
            starts = catalog.title_offsets[doc_ids]
            lengths = catalog.title_offsets[doc_ids + 1] - starts
            offsets = np.zeros(n + 1, dtype=np.int64)
            np.cumsum(lengths, out=offsets[1:])
            within = np.arange(int(offsets[-1])) - np.repeat(offsets[:-1], lengths)
            bags[TITLE] = (catalog.title_values[np.repeat(starts, lengths) + within], offsets)
        ids: dict[str, np.ndarray] = {}
        if self.spec.doc:
            ids[DOC] = doc_ids.astype(np.int32)
        for name in self.spec.sparse:
            value = features.get(name)
            vocab_id = (
                0 if value is None else int(self.vocabs[name].lookup([str(value)])[0].as_py())
            )
            ids[name] = np.full(n, vocab_id, dtype=np.int32)
        dense = None
        if self.spec.dense:
            row = np.zeros(2 * len(self.spec.dense), dtype=np.float32)
            for j, name in enumerate(self.spec.dense):
                value = features.get(name)
                if value is None:
                    continue
                try:
                    x = float(value)
                except (TypeError, ValueError):
                    raise ConfigError(name, value, "a number (a dense feature)") from None
                row[j] = np.sign(x) * np.log1p(abs(x))
                row[len(self.spec.dense) + j] = 1.0
            dense = np.tile(row, (n, 1))
        return Examples(
            labels=np.zeros(n, dtype=np.float32),
            position=np.zeros(n, dtype=np.int32),
            bags=bags,
            ids=ids,
            dense=dense,
        )

    # --- scores ---------------------------------------------------------------------------

    @torch.no_grad()
    def score(
        self, examples: Examples, batch_size: int = SCORE_BATCH
    ) -> tuple[np.ndarray, np.ndarray]:
        """``(relevance logits, log P(examined))``, float64 (n,) each, for every example.

        P(click | examined) = sigmoid(relevance); at the logged position P(click) =
        exp(log_examined) · sigmoid(relevance).
        """
        n = len(examples)
        relevance = np.zeros(n, dtype=np.float64)
        log_examined = np.zeros(n, dtype=np.float64)
        for _, rows in iter_score_batches(n, batch_size):
            if len(rows) == 0:
                continue
            batch = make_batch(examples, rows, self.spec)
            r, e, _, _ = self.model(batch.features, batch.dense, batch.position)
            relevance[rows] = r.double().numpy()
            log_examined[rows] = e.double().numpy()
        return relevance, log_examined

    def rank(
        self,
        query: str,
        docs: Sequence[str],
        features: Mapping[str, Any] | None = None,
        *,
        explain: bool = False,
    ) -> RankResult:
        """Score ``docs`` for ``query`` (position-free) and order them, highest first.

        Unknown docs are left out and listed in ``unknown_docs``; when no doc is known,
        `UnknownDocsError`. ``explain`` adds each group's contribution to every logit.
        """
        encoding = self.encode_query(query)
        ids = self.doc_ids(docs)
        unknown_docs = [d for d, i in zip(docs, ids.tolist(), strict=True) if i == 0]
        known = np.flatnonzero(ids)
        if len(known) == 0:
            raise UnknownDocsError(list(docs))
        names = [docs[i] for i in known.tolist()]
        return self._ranked(encoding, names, ids[known], features, explain, unknown_docs)

    def rank_ids(
        self,
        encoding: QueryEncoding,
        doc_ids: np.ndarray,
        features: Mapping[str, Any] | None = None,
        *,
        explain: bool = False,
    ) -> RankResult:
        """`rank` for known model doc ids (retrieved candidates)."""
        names = [self.vocabs[DOC].values[i] for i in doc_ids.tolist()]
        return self._ranked(encoding, names, doc_ids, features, explain, [])

    def _ranked(
        self,
        encoding: QueryEncoding,
        names: list[str],
        doc_ids: np.ndarray,
        features: Mapping[str, Any] | None,
        explain: bool,
        unknown_docs: list[str],
    ) -> RankResult:
        examples = self.examples(encoding, doc_ids, features)
        relevance, _ = self.score(examples)
        probability = 1.0 / (1.0 + np.exp(-relevance))
        retrieval = None
        if self.spec.can_retrieve and self.spec.query:
            retrieval = self.doc_vectors(doc_ids) @ self.query_vector(encoding)
        contributions = explain_rows(self.model, examples, self.spec) if explain else None
        order = np.argsort(-relevance, kind="stable")
        results = []
        for i in order.tolist():
            results.append(
                RankedDoc(
                    doc=names[i],
                    score=float(probability[i]),
                    logit=float(relevance[i]),
                    retrieval=None if retrieval is None else float(retrieval[i]),
                    contributions=None
                    if contributions is None
                    else {g: float(v[i]) for g, v in contributions.items()},
                )
            )
        return RankResult(
            query=encoding.text,
            results=results,
            unknown_words=encoding.unknown,
            unknown_docs=unknown_docs,
        )

    # --- towers ---------------------------------------------------------------------------

    def _table(self, name: str) -> np.ndarray:
        bags: Any = self.model.sparse.embedding_bags
        return bags[name].weight.detach().numpy()

    def query_vector(self, encoding: QueryEncoding) -> np.ndarray:
        """q (dim,): the mean of the query's token rows (unknown words: the ``<unk>`` row);
        zeros for a query without tokens."""
        if not self.spec.query:
            raise EngineError(f"the ranker {self.path} has no query tokens")
        if len(encoding.ids) == 0:
            return np.zeros(self.config.dim, dtype=np.float32)
        return self._table(TOKEN_TABLE)[encoding.ids].mean(axis=0).astype(np.float32)

    def doc_vectors(self, doc_ids: np.ndarray) -> np.ndarray:
        """v (n, dim) of model doc ids: the doc row plus the mean of its title token rows."""
        vectors = self._table(DOC)[doc_ids].astype(np.float32, copy=True)
        if self.spec.title:
            offsets = self.catalog.title_offsets
            starts = offsets[doc_ids]
            lengths = offsets[doc_ids + 1] - starts
            within = np.arange(int(lengths.sum())) - np.repeat(
                np.cumsum(lengths) - lengths, lengths
            )
            rows = self._table(TOKEN_TABLE)[
                self.catalog.title_values[np.repeat(starts, lengths) + within]
            ]
            sums = np.zeros_like(vectors)
            np.add.at(sums, np.repeat(np.arange(len(doc_ids)), lengths), rows)
            vectors += sums / np.maximum(lengths, 1)[:, None].astype(np.float32)
        return vectors


def _load_catalog(path: Path, vocabs: Mapping[str, ClickVocab]) -> DocCatalog:
    table = read_doc_catalog(path)
    ids = table.column("id").to_numpy().astype(np.int32)
    n_ids = len(vocabs[DOC])
    if len(ids) and (ids.min() < 1 or ids.max() >= n_ids):
        raise ArtifactError(path, f"docs.parquet has ids outside 1..{n_ids - 1}")
    titles = table.column("title")
    lengths = np.zeros(n_ids, dtype=np.int64)
    values = np.zeros(0, dtype=np.int32)
    if TOKEN_TABLE in vocabs:
        token_lists = vocabs[TOKEN_TABLE].lookup_lists(tokenize_array(titles))
        per_row = np.diff(token_lists.offsets.to_numpy())
        order = np.argsort(ids, kind="stable")
        lengths[ids[order]] = per_row[order]
        flat = token_lists.values.to_numpy().astype(np.int32)
        starts = token_lists.offsets.to_numpy()[:-1]
        pieces = [flat[starts[i] : starts[i] + per_row[i]] for i in order.tolist()]
        values = np.concatenate(pieces) if pieces else values
        # Docs of the vocab missing from the catalog (none normally) have empty bags; the
        # concatenation above follows id order, as the offsets do.
    offsets = np.zeros(n_ids + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    return DocCatalog(
        ids=ids,
        docs=table.column("doc").to_pylist(),
        titles=titles.to_pylist(),
        shown=table.column("shown").to_numpy(),
        clicks=table.column("clicks").to_numpy(),
        title_values=values,
        title_offsets=offsets,
    )
