"""Operations endpoints: ``/healthz``, ``/metrics`` (Prometheus) and ``/admin/reload``."""

from __future__ import annotations

import importlib.metadata
import os
import time
from typing import Annotated, Any

from fastapi import APIRouter, Body, Response

from embedrec.serving.metrics import ServiceMetrics
from embedrec.serving.reloader import Reloader
from embedrec.serving.routes.api_models import (
    ERRORS,
    ErrorAnswer,
    HealthAnswer,
    ReloadAnswer,
    ReloadRequest,
)
from embedrec.serving.state import ServiceState

OptionalReload = Annotated[ReloadRequest | None, Body()]


def build_ops_router(state: ServiceState, metrics: ServiceMetrics, reloader: Reloader) -> APIRouter:
    router = APIRouter()
    try:
        version = importlib.metadata.version("embedrec")
    except importlib.metadata.PackageNotFoundError:
        version = "unknown"

    @router.get("/healthz", response_model=HealthAnswer, tags=["operations"])
    async def healthz() -> dict[str, Any]:
        """Liveness and what is served: the index (kind, size, recall@10, generation)."""
        settings = state.config.public_dict()
        settings.pop("control_dir", None)
        return {
            "status": "ok",
            "version": version,
            "pid": os.getpid(),
            "uptime_seconds": round(time.time() - state.started_at, 3),
            "index": state.current().describe(),
            "settings": settings,
        }

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
        "/admin/reload",
        response_model=ReloadAnswer,
        tags=["admin"],
        responses={
            **ERRORS,
            403: {"model": ErrorAnswer, "description": "The service runs without a token"},
            422: {"model": ErrorAnswer, "description": "The new index does not load"},
        },
    )
    async def reload(request: OptionalReload = None) -> dict[str, Any]:
        """Serve another index directory (or reload the current one) without dropping a
        request: the new index loads beside the old, then replaces it in every worker. A
        broken index is refused (422) and the old one keeps serving."""
        return await reloader.reload(None if request is None else request.index)

    return router
