"""Probes: ``/healthz`` (liveness) and ``/readyz`` (every index loaded and searchable).

Both answer without the token, so a load balancer's or Kubernetes' probe works on a service
that requires one; a request without the token then learns only the status — no paths, no
versions, no settings. With the token (or on a service without one) ``/healthz`` says what
it always said: version, pid, uptime, the indexes (paths included) and the settings.

``/readyz`` runs a real one-row search on every served index in the search pool, so it
fails (503 ``not_ready``) when an index cannot answer or the pool cannot take work.

>>> # curl localhost:8000/readyz  →  {"status": "ready"}
"""

from __future__ import annotations

import importlib.metadata
import logging
import os
import time
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from embedrec.indexes.word_index import WordIndex
from embedrec.serving.middleware import is_trusted
from embedrec.serving.routes.api_models import HealthAnswer, ProbeAnswer, ReadyAnswer
from embedrec.serving.state import ServiceState

log = logging.getLogger(__name__)


def search_once(index: WordIndex) -> float:
    """One k=1 search of the index's first row; the seconds it took (raises if it fails)."""
    started = time.perf_counter()
    index.search(index.rows([0]), 1)
    return time.perf_counter() - started


def build_probe_router(state: ServiceState) -> APIRouter:
    router = APIRouter(tags=["operations"])
    try:
        version = importlib.metadata.version("embedrec")
    except importlib.metadata.PackageNotFoundError:
        version = "unknown"

    # HEAD too: some load balancers probe with it.
    @router.api_route(
        "/healthz", methods=["GET", "HEAD"], response_model=HealthAnswer | ProbeAnswer
    )
    async def healthz(request: Request) -> dict[str, Any]:
        """Liveness. With the token (or without one configured): what is served — the
        default index and every index by name (kind, size, recall@10, generation, path)."""
        if not is_trusted(request.scope):
            return {"status": "ok"}
        settings = state.config.public_dict()
        settings.pop("control_dir", None)
        snapshots = state.snapshots()
        return {
            "status": "ok",
            "version": version,
            "pid": os.getpid(),
            "uptime_seconds": round(time.time() - state.started_at, 3),
            "index": state.current().describe(),
            "default_index": state.default_name,
            "indexes": {name: snapshot.describe() for name, snapshot in snapshots.items()},
            "settings": settings,
        }

    @router.api_route(
        "/readyz",
        methods=["GET", "HEAD"],
        response_model=ReadyAnswer,
        response_model_exclude_none=True,
        responses={503: {"model": ReadyAnswer, "description": "An index cannot search"}},
    )
    async def readyz(request: Request) -> Any:
        """Readiness: every served index answers a one-row search now (503 otherwise)."""
        trusted = is_trusted(request.scope)
        timings: dict[str, float] = {}
        for name, snapshot in state.snapshots().items():
            try:
                timings[name] = await state.run(search_once, snapshot.index)
            except Exception as exc:  # any failure means "not ready"; the log says why
                log.error("readiness: index %r cannot search: %s", name, exc)
                body: dict[str, Any] = {
                    "status": "not_ready",
                    "error": "not_ready",
                    "detail": f"index {name!r} cannot search" if trusted else "not ready",
                }
                return JSONResponse(body, status_code=503)
        if not trusted:
            return {"status": "ready"}
        return {
            "status": "ready",
            "indexes": {name: {"search_ms": round(s * 1000, 3)} for name, s in timings.items()},
        }

    return router
