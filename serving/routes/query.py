"""``/v1/neighbors`` (GET one word, POST a batch of words or vectors), ``/v1/analogy``,
``/v1/vector`` and ``/v1/map`` (2-D PCA of a word and its neighbours, for the explorer).

Each handler takes the current index snapshot once, runs the search in the state's thread
pool, and turns library errors into JSON through the app's exception handlers (unknown word
404, bad k 422, ...).
"""

# No `from __future__ import annotations` here: FastAPI reads the parameter annotations at
# runtime, and the limits in them (max_k) are local to `build_query_router`.
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, Literal

import numpy as np
from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse, Response

from embedrec.core.errors import ConfigError
from embedrec.indexes.word_index import ScoredWord, WordIndex
from embedrec.serving.batch_items import Neighbors, search_word, words_item_by_item
from embedrec.serving.coalescer import Coalescer
from embedrec.serving.errors import PayloadTooLargeError
from embedrec.serving.metrics import ServiceMetrics
from embedrec.serving.projection import pca_2d
from embedrec.serving.routes.api_models import (
    ERRORS,
    AnalogyAnswer,
    MapAnswer,
    NeighborsAnswer,
    NeighborsBatchAnswer,
    NeighborsBatchRequest,
    VectorAnswer,
)
from embedrec.serving.routes.hot_path import neighbors_body
from embedrec.serving.state import IndexSnapshot, ServiceState

MAX_WORD_LENGTH = 256
MAP_MAX_K = 200

Word = Annotated[str, Query(min_length=1, max_length=MAX_WORD_LENGTH, description="A word.")]
IndexName = Annotated[
    str | None,
    Query(min_length=1, max_length=64, description="The index to ask (default: the default)."),
]


def build_query_router(
    state: ServiceState, metrics: ServiceMetrics, coalescer: Coalescer | None = None
) -> APIRouter:
    """The word-query endpoints over ``state``'s current index; ``GET /v1/neighbors``
    searches through ``coalescer`` when given (see `single_search`)."""
    router = APIRouter(prefix="/v1", tags=["queries"], responses=ERRORS)
    max_k = state.config.max_k
    max_batch = state.config.max_batch
    count = metrics.queries

    search = single_search(state, coalescer)
    counted = metrics.query_counter("neighbors")

    # The hot route: answered with prebuilt JSON bytes (the same body FastAPI would make
    # from NeighborsAnswer, which stays the documented schema) instead of validating and
    # serialising the answer through the response model on every request. Most requests
    # of this route are answered before FastAPI by embedrec.serving.routes.hot_path.
    @router.get(
        "/neighbors",
        response_model=None,
        response_class=JSONResponse,
        responses={200: {"model": NeighborsAnswer, "description": "Successful Response"}},
    )
    async def neighbors(
        word: Word,
        k: Annotated[int, Query(ge=1, le=max_k, description="How many neighbours.")] = 10,
        index: IndexName = None,
    ) -> Response:
        """The ``k`` nearest words to ``word`` (the word itself excluded)."""
        snapshot = state.current(index)
        found = await search(snapshot, word, k)
        counted(snapshot.name).inc()
        return _PrebuiltJSON(neighbors_body(word, k, snapshot, found))

    @router.post("/neighbors", response_model=NeighborsBatchAnswer)
    async def neighbors_batch(request: NeighborsBatchRequest) -> dict[str, Any]:
        """Neighbours of many words, or of raw vectors, in one FAISS search. Each item is
        answered on its own: an unknown word's item is an ``unknown_word`` error."""
        size = _check_batch(request, max_batch=max_batch, max_k=max_k)
        snapshot = state.current(request.index)
        answer = await state.run(_batch, snapshot.index, request)
        count.labels("neighbors", snapshot.name).inc(size)
        return {**answer, "index": snapshot.name}

    @router.get("/analogy", response_model=AnalogyAnswer)
    async def analogy(
        a: Word,
        b: Word,
        c: Word,
        k: Annotated[int, Query(ge=1, le=max_k, description="How many answers.")] = 5,
        method: Literal["3cosadd", "3cosmul"] = "3cosadd",
        index: IndexName = None,
    ) -> dict[str, Any]:
        """``a`` is to ``b`` as ``c`` is to ? (nearest to b − a + c; inputs excluded)."""
        snapshot = state.current(index)
        found = await state.run(snapshot.index.analogy, a, b, c, k, method)
        count.labels("analogy", snapshot.name).inc()
        return {
            "a": a,
            "b": b,
            "c": c,
            "k": k,
            "method": method,
            "metric": snapshot.index.metric,
            "index": snapshot.name,
            "answers": _scored(found),
        }

    _add_vector_routes(router, state, metrics)
    return router


def _add_vector_routes(router: APIRouter, state: ServiceState, metrics: ServiceMetrics) -> None:
    """``/v1/vector`` and ``/v1/map`` (what the explorer draws)."""
    max_k = state.config.max_k
    count = metrics.queries

    @router.get("/vector", response_model=VectorAnswer)
    async def vector(word: Word, index: IndexName = None) -> dict[str, Any]:
        """The stored vector of ``word`` (unit length for the cosine metric)."""
        snapshot = state.current(index)
        values = snapshot.index.vector(word)
        count.labels("vector", snapshot.name).inc()
        return {
            "word": word,
            "dim": snapshot.index.dim,
            "index": snapshot.name,
            "vector": values.tolist(),
        }

    @router.get("/map", response_model=MapAnswer)
    async def word_map(
        word: Word,
        k: Annotated[int, Query(ge=1, le=min(max_k, MAP_MAX_K), description="Neighbours.")] = 20,
        index: IndexName = None,
    ) -> dict[str, Any]:
        """2-D PCA coordinates of ``word`` and its ``k`` nearest neighbours."""
        snapshot = state.current(index)
        answer = await state.run(_map, snapshot.index, word, k)
        count.labels("map", snapshot.name).inc()
        return {**answer, "index": snapshot.name}


SingleSearch = Callable[[IndexSnapshot, str, int], Awaitable[Neighbors]]


def make_coalescer(state: ServiceState) -> Coalescer | None:
    """The `Coalescer` for ``state.config.coalesce_ms`` (None when it is 0)."""
    window = state.config.coalesce_ms / 1000
    if window <= 0:
        return None
    return Coalescer(state.run, window=window, max_size=min(state.config.max_batch, 256))


def single_search(state: ServiceState, coalescer: Coalescer | None) -> SingleSearch:
    """How ``GET /v1/neighbors`` searches: through ``coalescer`` when given, else one
    search per request in the pool."""
    if coalescer is not None:
        return coalescer.neighbors

    async def alone(snapshot: IndexSnapshot, word: str, k: int) -> Neighbors:
        return await state.run(search_word, snapshot.index, word, k)

    return alone


class _PrebuiltJSON(Response):
    media_type = "application/json"


def _scored(items: list[ScoredWord]) -> list[dict[str, Any]]:
    return [{"token": item.token, "score": item.score} for item in items]


def _check_batch(request: NeighborsBatchRequest, *, max_batch: int, max_k: int) -> int:
    """The batch's size, after the checks that fail the whole request."""
    size = len(request.words or request.vectors or [])
    if size > max_batch:
        raise PayloadTooLargeError(
            f"batch of {size} queries; the limit is {max_batch} (--max-batch)"
        )
    if request.k > max_k:
        raise ConfigError("k", request.k, f"an integer from 1 to {max_k}")
    for word in request.words or []:
        if not word or len(word) > MAX_WORD_LENGTH:
            raise ConfigError("words", word, f"words of 1 to {MAX_WORD_LENGTH} characters")
    return size


def _batch(index: WordIndex, request: NeighborsBatchRequest) -> dict[str, Any]:
    """The answer of ``POST /v1/neighbors`` (blocking: runs in the search pool)."""
    if request.words is not None:
        return words_item_by_item(index, list(request.words), request.k)
    found = index.neighbors_batch(_vectors(request.vectors or [], index.dim), request.k)
    return {
        "k": request.k,
        "metric": index.metric,
        "results": [{"query": i, "neighbors": _scored(row)} for i, row in enumerate(found)],
    }


def _vectors(rows: list[list[float]], dim: int) -> np.ndarray:
    bad = next((i for i, row in enumerate(rows) if len(row) != dim), None)
    if bad is not None:
        raise ConfigError(f"vectors[{bad}]", f"{len(rows[bad])} numbers", f"{dim} numbers")
    return np.asarray(rows, dtype=np.float32).reshape(len(rows), dim)


def _map(index: WordIndex, word: str, k: int) -> dict[str, Any]:
    found = index.neighbors(word, k)
    ids = [index.id(word), *(index.id(item.token) for item in found)]
    coords, explained = pca_2d(index.rows(ids))
    x0, y0 = coords[0].tolist()
    points = [{"token": index.token(ids[0]), "x": x0, "y": y0, "role": "query"}]
    points += [
        {"token": item.token, "x": x, "y": y, "role": "neighbor", "score": item.score}
        for item, (x, y) in zip(found, coords[1:].tolist(), strict=True)
    ]
    return {
        "word": word,
        "k": k,
        "metric": index.metric,
        "explained_variance": explained.tolist(),
        "points": points,
    }
