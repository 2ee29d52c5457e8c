"""``POST /v1/rank`` and ``GET /v1/recommend``: the click ranker behind the HTTP service.

``embedrec serve INDEX --ranker MODEL`` loads the ranker (CPU, unsharded) and its doc
index when the app starts (`build_ranking_router`); a broken model stops the service
before it binds.

* ``POST /v1/rank {"query": "cheap flights", "docs": ["d17", "d3"], "features": {...}}``
  scores the given docs: P(click | examined), position-free, highest first. Docs the model
  does not know are listed in ``unknown_docs`` (not scored), even when none is known (200,
  no results: the batch is answered doc by doc). ``?explain=true`` adds each feature
  group's contribution to every logit (`embedrec.engine.ranker.explain`: logit − logit with that
  group unknown) and the q·v retrieval term.
* ``GET /v1/recommend?query=cheap+flights&k=10`` retrieves ``candidates`` docs (default
  100) by inner product of the query vector with the exported doc vectors (FAISS), then
  orders them with the full ranker and returns the top ``k``. Any other query parameter
  that names one of the model's features is context: ``&device=mobile&region=fr``.

Unknown query words are treated as the training data treated rare words: each becomes the
``<unk>`` token (a row trained on ids dropped at ``--oov-rate``), and they are listed in
``unknown_words``. A query with no known word has no meaningful query vector, so
``/v1/recommend`` then takes the most clicked docs of the train split as candidates
(``"retrieval": "popular"``) and the ranker still orders them by doc, title and context.

The doc index is ``MODEL/doc_index`` when it matches ``MODEL/doc_embeddings``; otherwise it
is built there (``indexes.build_index``, kind auto, inner product) — or in memory when the
model directory is read-only.
"""

# No `from __future__ import annotations`: FastAPI reads these annotations at runtime.
import fcntl
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field

from embedrec.core.artifacts import fingerprint, read_manifest
from embedrec.core.errors import ArtifactError, ConfigError, EmbedrecError
from embedrec.engine.errors import EngineError
from embedrec.engine.ranker.export import export_doc_embeddings
from embedrec.engine.ranker.files import DOC_EMBEDDINGS_DIR, DOC_INDEX_DIR
from embedrec.engine.ranker.inference import Ranker, RankResult, UnknownDocsError
from embedrec.engine.skipgram.files import EMBEDDINGS_FILE
from embedrec.indexes.word_index import WordIndex
from embedrec.serving.errors import PayloadTooLargeError
from embedrec.serving.routes.api_models import ERRORS

log = logging.getLogger(__name__)

MAX_QUERY_LENGTH = 1024
DEFAULT_CANDIDATES = 100
LOCK_FILE = ".doc_index.lock"
_RESERVED_PARAMS = {"query", "k", "candidates", "explain"}


class RankRequest(BaseModel):
    query: str = Field(min_length=1, max_length=MAX_QUERY_LENGTH, description="Query text.")
    docs: list[str] = Field(min_length=1, description="Doc ids to score.")
    features: dict[str, str | float | int | None] = Field(
        default_factory=dict, description="Context features, e.g. {'device': 'mobile'}."
    )


class RankedDocAnswer(BaseModel):
    doc: str
    score: float = Field(description="P(click | examined): position-free click probability")
    logit: float
    retrieval_score: float | None = Field(default=None, description="q·v, with explain")
    contributions: dict[str, float] | None = Field(
        default=None, description="per feature group: logit − logit with the group unknown"
    )


class RankAnswer(BaseModel):
    query: str
    results: list[RankedDocAnswer]
    unknown_words: list[str]
    unknown_docs: list[str]


class RecommendAnswer(RankAnswer):
    k: int
    retrieval: str = Field(description="'ann' (query vector · doc vectors) or 'popular'")
    candidates: int


class RankingService:
    """A loaded ranker with its doc index; every method is blocking (run it in a pool)."""

    def __init__(self, ranker: Ranker, doc_index: WordIndex | None) -> None:
        self.ranker = ranker
        self.doc_index = doc_index

    @classmethod
    def open(cls, model_dir: str | Path) -> "RankingService":
        ranker = Ranker.load(model_dir)
        doc_index = open_doc_index(Path(model_dir)) if ranker.spec.can_retrieve else None
        return cls(ranker, doc_index)

    def rank(self, request: RankRequest, explain: bool) -> dict[str, Any]:
        """Scores of the known docs; unknown ones listed. A batch answered doc by doc: when
        no doc is known, the answer lists them all (200), as for a words batch."""
        try:
            result = self.ranker.rank(
                request.query, request.docs, request.features, explain=explain
            )
        except UnknownDocsError as exc:
            unknown_words = self.ranker.encode_query(request.query).unknown
            return {
                "query": request.query,
                "results": [],
                "unknown_words": unknown_words,
                "unknown_docs": exc.docs,
            }
        return _answer(result, explain)

    def recommend(
        self, query: str, k: int, candidates: int, features: dict[str, Any], explain: bool
    ) -> dict[str, Any]:
        if self.doc_index is None:
            raise EngineError(
                f"the ranker {self.ranker.path} has no query and doc towers to retrieve with"
            )
        encoding = self.ranker.encode_query(query)
        wanted = min(max(k, candidates), len(self.doc_index))
        if encoding.known == 0:
            ids = self.ranker.catalog.popular(wanted)
            how = "popular"
        else:
            vector = self.ranker.query_vector(encoding)
            _, rows = self.doc_index.search(vector[None, :], wanted)
            names = [self.doc_index.token(int(r)) for r in rows[0] if r >= 0]
            ids = self.ranker.doc_ids(names)
            ids = ids[ids > 0]
            how = "ann"
        result = self.ranker.rank_ids(encoding, ids, features, explain=explain)
        result.results = result.results[:k]
        return {**_answer(result, explain), "k": k, "retrieval": how, "candidates": len(ids)}


def _answer(result: RankResult, explain: bool) -> dict[str, Any]:
    answer = result.to_dict()
    if not explain:
        for item in answer["results"]:
            item.pop("retrieval_score", None)
            item.pop("contributions", None)
    return answer


def open_doc_index(model_dir: Path) -> WordIndex:
    """The doc index of a ranker directory: loaded, or built (and saved when possible).

    Several workers of one service may start at once: a lock file in the model directory
    lets the first build the index while the others wait and then load it.
    """
    lock_path = model_dir / LOCK_FILE
    try:
        handle = open(lock_path, "a+b")  # noqa: SIM115 - held until the index is ready
    except OSError:  # a read-only model directory: nothing will be written there either
        return _open_doc_index(model_dir)
    with handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            return _open_doc_index(model_dir)
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def _open_doc_index(model_dir: Path) -> WordIndex:
    from embedrec.indexes import IndexConfig, build_index, exact_index_from_model, load_index

    embeddings = model_dir / DOC_EMBEDDINGS_DIR
    if not (embeddings / EMBEDDINGS_FILE).exists():
        log.info("exporting the doc vectors of %s", model_dir)
        export_doc_embeddings(model_dir)
    expected = fingerprint(embeddings / EMBEDDINGS_FILE)["sha256"]
    index_dir = model_dir / DOC_INDEX_DIR
    if index_dir.exists():
        try:
            built_from = read_manifest(index_dir).get("source_model", {})
            if built_from.get("embeddings_sha256") == expected:
                return load_index(index_dir)
            log.info("%s is stale (built from other doc vectors): rebuilding it", index_dir)
        except EmbedrecError as exc:
            log.warning("%s is unusable (%s): rebuilding it", index_dir, exc)
    try:
        build_index(embeddings, index_dir, IndexConfig(kind="auto", metric="ip"), overwrite=True)
    except (OSError, ArtifactError) as exc:
        log.warning("cannot write %s (%s): using an exact in-memory doc index", index_dir, exc)
        return exact_index_from_model(embeddings, metric="ip")
    return load_index(index_dir)


def build_ranking_router(state: Any, slot: Any = None) -> APIRouter:
    """The ranking endpoints for ``state.config.ranker`` (see `embedrec.serving.app`), or over
    ``slot`` (a `embedrec.serving.ranker_slot.RankerSlot`, which ``/admin/reload-ranker`` swaps)."""
    path = state.config.ranker
    if not path:
        raise ConfigError("ranker", path, "a ranker model directory (embedrec train ranker)")
    source = slot.current if slot is not None else RankingService.open(path)
    return ranking_router(
        source, run=state.run, max_k=state.config.max_k, max_batch=state.config.max_batch
    )


def ranking_router(
    service: "RankingService | Callable[[], RankingService]",
    *,
    run: Any,
    max_k: int,
    max_batch: int,
) -> APIRouter:
    """The routes over a loaded `RankingService`, or a callable giving the current one (read
    once per request); ``run(func, *args)`` awaits blocking work."""
    router = APIRouter(prefix="/v1", tags=["ranking"], responses=ERRORS)
    current = service if callable(service) else (lambda: service)

    @router.post("/rank", response_model=RankAnswer, response_model_exclude_none=True)
    async def rank(
        body: RankRequest,
        explain: Annotated[bool, Query(description="Add per-group contributions.")] = False,
    ) -> dict[str, Any]:
        """Score the given docs for a query: P(click | examined), highest first."""
        if len(body.docs) > max_batch:
            raise PayloadTooLargeError(
                f"{len(body.docs)} docs to rank; the limit is {max_batch} (--max-batch)"
            )
        answer: dict[str, Any] = await run(current().rank, body, explain)
        return answer

    @router.get("/recommend", response_model=RecommendAnswer, response_model_exclude_none=True)
    async def recommend(
        request: Request,
        query: Annotated[str, Query(min_length=1, max_length=MAX_QUERY_LENGTH)],
        k: Annotated[int, Query(ge=1, le=max_k, description="How many docs.")] = 10,
        candidates: Annotated[
            int, Query(ge=1, le=max(max_k, DEFAULT_CANDIDATES), description="ANN candidates.")
        ] = DEFAULT_CANDIDATES,
        explain: Annotated[bool, Query(description="Add per-group contributions.")] = False,
    ) -> dict[str, Any]:
        """Retrieve candidates by ANN for the query and order them with the ranker.

        Other query parameters naming a model feature are context (``&device=mobile``).
        """
        ranking = current()
        features = set(ranking.ranker.spec.sparse) | set(ranking.ranker.spec.dense)
        context: dict[str, Any] = {}
        for name, value in request.query_params.items():
            if name in _RESERVED_PARAMS:
                continue
            if name not in features:
                expected = ", ".join(sorted(features)) or "none for this ranker"
                raise ConfigError(name, value, f"a feature of this ranker ({expected})")
            context[name] = value
        answer: dict[str, Any] = await run(
            ranking.recommend, query, k, candidates, context, explain
        )
        return answer

    return router


__all__ = [
    "RankRequest",
    "RankingService",
    "build_ranking_router",
    "open_doc_index",
    "ranking_router",
]
