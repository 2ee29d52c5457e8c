"""Operations endpoints: ``/metrics`` (Prometheus), ``/admin/reload`` (one index, by name)
and ``/admin/reload-ranker``. The probes (``/healthz``, ``/readyz``) are in
`embedrec.serving.routes.probes`."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Response

from embedrec.serving.metrics import ServiceMetrics
from embedrec.serving.reloader import Reloader
from embedrec.serving.routes.api_models import (
    ERRORS,
    ErrorAnswer,
    RankerReloadAnswer,
    RankerReloadRequest,
    ReloadAnswer,
    ReloadRequest,
)
from embedrec.serving.state import ServiceState

OptionalReload = Annotated[ReloadRequest | None, Body()]
OptionalRankerReload = Annotated[RankerReloadRequest | None, Body()]
ADMIN_ERRORS: dict[int | str, dict[str, Any]] = {
    **ERRORS,
    403: {"model": ErrorAnswer, "description": "The service runs without a token"},
    422: {"model": ErrorAnswer, "description": "The new index or ranker does not load"},
}


def build_ops_router(state: ServiceState, metrics: ServiceMetrics, reloader: Reloader) -> APIRouter:
    router = APIRouter()

    @router.get(
        "/metrics",
        tags=["operations"],
        response_class=Response,
        responses={200: {"content": {"text/plain": {}}, "description": "Prometheus text format"}},
    )
    async def prometheus_metrics() -> Response:
        """Request counts and latency histograms per endpoint, index size and build info."""
        return Response(metrics.render(), media_type=metrics.content_type)

    @router.post(
        "/admin/reload", response_model=ReloadAnswer, tags=["admin"], responses=ADMIN_ERRORS
    )
    async def reload(request: OptionalReload = None) -> dict[str, Any]:
        """Serve another index directory as index ``name`` (default: the default index), or
        reload its current one, without dropping a request: the new index loads beside the
        old, then replaces it in every worker. A broken index is refused (422) and the old one
        keeps serving; the other indexes are untouched."""
        if request is None:
            return await reloader.reload(None)
        return await reloader.reload(request.index, request.name)

    @router.post(
        "/admin/reload-ranker",
        response_model=RankerReloadAnswer,
        tags=["admin"],
        responses=ADMIN_ERRORS,
    )
    async def reload_ranker(request: OptionalRankerReload = None) -> dict[str, Any]:
        """Load the click ranker from another model directory (or its current one again)
        beside the old one and swap it in every worker; a broken one is refused (422)."""
        return await reloader.reload_ranker(None if request is None else request.ranker)

    return router
