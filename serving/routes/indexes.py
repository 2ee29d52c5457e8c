"""``GET /v1/indexes``: the indexes one service serves, by name.

Each entry gives the name, dimension, size, kind, factory, metric, recall@10 and reload
generation; the directory (``path``) only to a request carrying the token (or on a service
without one), since a server path tells a stranger about the machine. Every query route
takes ``index=NAME`` (``"index"`` in POST bodies); without it the default index answers.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from embedrec.serving.middleware import is_trusted
from embedrec.serving.routes.api_models import ERRORS
from embedrec.serving.state import ServiceState

PUBLIC_FIELDS = (
    "name",
    "kind",
    "factory",
    "metric",
    "exact",
    "recall_at_10",
    "vectors",
    "dim",
    "shards",
    "generation",
)


class IndexSummary(BaseModel):
    name: str
    kind: str
    factory: str
    metric: str
    exact: bool
    recall_at_10: float | None
    vectors: int
    dim: int
    shards: int
    generation: int
    default: bool
    path: str | None = Field(default=None, description="Only with the token.")


class IndexesAnswer(BaseModel):
    default: str = Field(description="The index requests without index= use.")
    indexes: list[IndexSummary]


def summaries(state: ServiceState, *, with_paths: bool) -> dict[str, Any]:
    """The body of ``/v1/indexes`` (``with_paths``: add each index's directory)."""
    entries = []
    for name, snapshot in state.snapshots().items():
        described = snapshot.describe()
        entry = {key: described[key] for key in PUBLIC_FIELDS}
        entry["default"] = name == state.default_name
        if with_paths:
            entry["path"] = described["path"]
        entries.append(entry)
    return {"default": state.default_name, "indexes": entries}


def build_index_router(state: ServiceState) -> APIRouter:
    router = APIRouter(prefix="/v1", tags=["queries"], responses=ERRORS)

    @router.get("/indexes", response_model=IndexesAnswer, response_model_exclude_none=True)
    async def indexes(request: Request) -> dict[str, Any]:
        """The served indexes: names, dimensions, sizes, kinds (paths only with the token)."""
        return summaries(state, with_paths=is_trusted(request.scope))

    return router
