"""The FastAPI application: `create_app(config)` → an ASGI app serving one or more indexes.

Loads the index now, so not run as a doctest:

>>> app = create_app(ServeConfig(index="indexes/wiki"))       # doctest: +SKIP
>>> # uvicorn.run(app, host="127.0.0.1", port=8000)  — or `embedrec serve indexes/wiki`

Routes: ``/v1/neighbors`` (GET, POST), ``/v1/analogy``, ``/v1/vector``, ``/v1/map`` (each
with ``index=NAME``), ``/v1/indexes``, ``/healthz``, ``/readyz``, ``/metrics``,
``/admin/reload``, ``/admin/reload-ranker``, the explorer at ``/``, OpenAPI at ``/docs``.

Ranker hook (``embedrec serve INDEX --ranker MODEL``)
------------------------------------------------------
Only when ``config.ranker`` is set, `create_app` imports ``embedrec.serving.routes.ranking``,
loads a `embedrec.serving.ranker_slot.RankerSlot` and calls
``app.include_router(build_ranking_router(state, slot))``. ``state`` is the app's
`embedrec.serving.state.ServiceState`:

* ``state.current()`` → `IndexSnapshot` of the default index (``.index``: the
  `indexes.WordIndex`, ``.name``, ``.path``, ``.generation``; ``state.current(name)`` for
  another served index): one lock-free read; take it once per request and use it to the
  end, so a hot reload never changes the index under a running request. ``state.index`` is
  ``state.current().index``.
* ``state.config`` → `ServeConfig` (``.ranker``: the MODEL path given; ``.max_k``,
  ``.max_batch``, ``.max_body_bytes``: limits to honour).
* ``await state.run(func, *args)`` runs blocking work (FAISS, torch) in the service's
  search thread pool, keeping the event loop free.

``build_ranking_router(state, slot)`` reads the ranker from ``slot`` once per request
(``/admin/reload-ranker`` swaps it; a model that does not load at start stops the service
before it binds) and returns a FastAPI ``APIRouter`` with ``/v1/rank`` and
``/v1/recommend``. Everything registered here applies to it: the bearer token, the body
limit, request ids, metrics per route, and the JSON error mapping — raise `EmbedrecError`
subclasses (`indexes.UnknownWordError` → 404 ``unknown_word``, `ConfigError` → 422
``invalid_value``, or give your class ``http_status = 404`` and ``error_code =
"unknown_doc"``); any other exception becomes a 500 ``internal_error`` and is logged.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import signal
import threading
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException as StarletteHTTPException

from embedrec.core.errors import EmbedrecError
from embedrec.serving.config import ServeConfig
from embedrec.serving.errors import error_body
from embedrec.serving.metrics import ServiceMetrics
from embedrec.serving.middleware import AuthMiddleware, BodyLimitMiddleware, ObserveMiddleware
from embedrec.serving.reload_sync import ReloadBroadcast
from embedrec.serving.reloader import Reloader
from embedrec.serving.routes.api_docs import mount_api_docs
from embedrec.serving.routes.explorer import build_explorer_router
from embedrec.serving.routes.hot_path import NEIGHBORS_PATH, HotPath
from embedrec.serving.routes.indexes import build_index_router
from embedrec.serving.routes.ops import build_ops_router
from embedrec.serving.routes.probes import build_probe_router
from embedrec.serving.routes.query import build_query_router, make_coalescer, single_search
from embedrec.serving.state import ServiceState
from embedrec.serving.worker import configure_worker

log = logging.getLogger(__name__)

DESCRIPTION = """Nearest words, analogies and a 2-D map over a FAISS index of word vectors.

Errors are JSON `{"error": code, "detail": text, "request_id": id}`: unknown word 404,
invalid parameter 422, malformed body 400, oversized request 413, missing token 401."""


def create_app(
    config: ServeConfig | None = None,
    *,
    state: ServiceState | None = None,
    broadcast: ReloadBroadcast | None = None,
    ranker_generation: int = 0,
) -> FastAPI:
    """The service for ``config`` (its indexes are loaded now), or around an existing
    ``state``.

    ``broadcast``: the reload broadcast shared with the other workers (several workers);
    ``ranker_generation``: the generation of ``config.ranker`` (a restarted worker's).
    """
    if state is None:
        if config is None:
            raise TypeError("create_app needs a config or a state")
        state = ServiceState.open(config)
    config = state.config
    metrics = ServiceMetrics()
    for snapshot in state.snapshots().values():
        metrics.set_index(snapshot)
    state.on_swap.append(metrics.set_index)
    reloader = Reloader(
        state, broadcast, on_refused=lambda: metrics.reloads.labels("refused").inc()
    )

    app = FastAPI(
        title="embedrec",
        description=DESCRIPTION,
        version=_version(),
        lifespan=_lifespan(reloader),
        root_path=config.root_path,
        docs_url=None,  # see embedrec.serving.routes.api_docs: Swagger UI without a CDN
        redoc_url=None,
    )
    app.state.embedrec = state
    app.state.metrics = metrics
    app.state.reloader = reloader
    _register_error_handlers(app)
    mount_api_docs(app)
    app.include_router(build_probe_router(state))
    app.include_router(build_ops_router(state, metrics, reloader))
    coalescer = make_coalescer(state)
    app.state.coalescer = coalescer
    query_router = build_query_router(state, metrics, coalescer)
    app.include_router(query_router)
    app.include_router(build_index_router(state))
    app.include_router(build_explorer_router())
    if config.ranker:
        from embedrec.serving.ranker_slot import RankerSlot
        from embedrec.serving.routes.ranking import build_ranking_router

        reloader.ranker = RankerSlot.open(config.ranker, ranker_generation)
        app.include_router(build_ranking_router(state, reloader.ranker))

    # add_middleware wraps: the last added is the outermost.
    if config.hot_path:
        app.add_middleware(
            HotPath,
            state=state,
            metrics=metrics,
            search=single_search(state, coalescer),
            routes=_neighbors_routes(query_router),
        )
    app.add_middleware(BodyLimitMiddleware, limit=config.max_body_bytes)
    app.add_middleware(AuthMiddleware, token=config.token)
    if config.cors_origins:
        from starlette.middleware.cors import CORSMiddleware

        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(config.cors_origins),
            allow_methods=["GET", "POST"],
            allow_headers=["authorization", "content-type", "x-request-id"],
            expose_headers=["x-request-id"],
        )
    app.add_middleware(ObserveMiddleware, metrics=metrics, log_requests=config.access_log)
    return app


def app_from_environment() -> FastAPI:
    """uvicorn factory for worker processes (``--workers N``): config from the environment."""
    config = ServeConfig.from_environment()
    broadcast = configure_worker(config)
    if broadcast is None:
        return create_app(config)
    desired = broadcast.desired()
    if desired.indexes:
        state = ServiceState.open(config, served=desired.indexes)
    else:
        state = ServiceState.open(config, path=desired.index, generation=desired.generation)
    ranker_generation = 0
    if desired.ranker is not None and config.ranker:
        # A worker restarted after a ranker reload serves what the others serve.
        state.config = config = dataclasses.replace(config, ranker=desired.ranker[0])
        ranker_generation = desired.ranker[1]
    broadcast.ack(desired.generation, state.current().path)
    return create_app(state=state, broadcast=broadcast, ranker_generation=ranker_generation)


def _neighbors_routes(router: APIRouter) -> tuple[APIRoute, APIRoute]:
    """The FastAPI routes of ``GET`` and ``POST /v1/neighbors`` (what `HotPath` answers for;
    the metrics label its answers with their path)."""
    found = {
        method: route
        for route in router.routes
        if isinstance(route, APIRoute) and route.path == NEIGHBORS_PATH
        for method in route.methods or ()
    }
    return found["GET"], found["POST"]


def _lifespan(reloader: Reloader) -> Any:
    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        import asyncio

        loop = asyncio.get_running_loop()
        watch = None
        if reloader.broadcast is not None:
            watch = loop.create_task(reloader.watch())
        hup = threading.current_thread() is threading.main_thread() and hasattr(signal, "SIGHUP")
        if hup:
            loop.add_signal_handler(signal.SIGHUP, reloader.on_sighup)
        try:
            yield
        finally:
            if hup:
                loop.remove_signal_handler(signal.SIGHUP)
            if watch is not None:
                watch.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await watch
            if reloader.broadcast is not None:
                reloader.broadcast.forget()

    return lifespan


def _register_error_handlers(app: FastAPI) -> None:
    """One mapping from exceptions to JSON errors, for every route (the ranker's too)."""

    def answer(request: Request, status: int, body: dict[str, Any], **headers: str) -> JSONResponse:
        body.setdefault("request_id", request.scope.get("state", {}).get("request_id"))
        return JSONResponse(body, status_code=status, headers=headers or None)

    @app.exception_handler(EmbedrecError)
    async def library_error(request: Request, exc: EmbedrecError) -> JSONResponse:
        status, body = error_body(exc)
        return answer(request, status, body)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = exc.errors()
        if any(e.get("type") == "json_invalid" for e in errors):
            return answer(
                request, 400, {"error": "bad_request", "detail": "the body is not valid JSON"}
            )
        summary = "; ".join(_describe_validation(e) for e in errors[:5])
        return answer(
            request,
            422,
            {
                "error": "invalid_request",
                "detail": summary,
                "errors": [
                    {"loc": list(e.get("loc", ())), "msg": e.get("msg"), "type": e.get("type")}
                    for e in errors
                ],
            },
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        codes = {400: "bad_request", 404: "not_found", 405: "method_not_allowed"}
        code = codes.get(exc.status_code, f"http_{exc.status_code}")
        detail = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
        if exc.status_code == 404:
            detail = f"no route {request.method} {request.url.path}"
        return answer(
            request, exc.status_code, {"error": code, "detail": detail}, **(exc.headers or {})
        )

    @app.exception_handler(Exception)
    async def internal_error(request: Request, exc: Exception) -> JSONResponse:
        request_id = request.scope.get("state", {}).get("request_id")
        log.exception("internal error answering %s (request %s)", request.url.path, request_id)
        return answer(
            request,
            500,
            {"error": "internal_error", "detail": "internal error; see the service log"},
        )


def _describe_validation(error: dict[str, Any]) -> str:
    loc = [str(part) for part in error.get("loc", ()) if part not in ("query", "body")]
    where = ".".join(loc) or "body"
    return f"{where}: {error.get('msg', 'invalid')}"


def _version() -> str:
    import importlib.metadata

    try:
        return importlib.metadata.version("embedrec")
    except importlib.metadata.PackageNotFoundError:
        return "0"
