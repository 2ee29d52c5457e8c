"""Request and answer bodies of the HTTP API (they make the OpenAPI schema at /docs)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class Scored(BaseModel):
    token: str
    score: float = Field(description="cosine / inner product (higher is nearer) or squared L2")


class NeighborsAnswer(BaseModel):
    word: str
    k: int
    metric: str
    neighbors: list[Scored]


class NeighborsBatchRequest(BaseModel):
    """Exactly one of ``words`` and ``vectors``."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"words": ["car", "river"], "k": 5}]},
    )

    words: list[str] | None = Field(default=None, description="Words of the vocabulary.")
    vectors: list[list[float]] | None = Field(
        default=None, description="Raw query vectors, each of the index's dimension."
    )
    k: int = Field(default=10, ge=1, description="Neighbours per query.")

    @model_validator(mode="after")
    def _one_kind(self) -> NeighborsBatchRequest:
        if (self.words is None) == (self.vectors is None):
            raise ValueError("give exactly one of 'words' and 'vectors'")
        if not (self.words or self.vectors):
            raise ValueError("'words' or 'vectors' must not be empty")
        return self


class QueryNeighbors(BaseModel):
    query: str | int = Field(description="The word, or the vector's position in the request.")
    neighbors: list[Scored]


class NeighborsBatchAnswer(BaseModel):
    k: int
    metric: str
    results: list[QueryNeighbors]


class AnalogyAnswer(BaseModel):
    a: str
    b: str
    c: str
    k: int
    method: str
    metric: str
    answers: list[Scored]


class VectorAnswer(BaseModel):
    word: str
    dim: int
    vector: list[float]


class MapPoint(BaseModel):
    token: str
    x: float
    y: float
    role: Literal["query", "neighbor"]
    score: float | None = None


class MapAnswer(BaseModel):
    word: str
    k: int
    metric: str
    explained_variance: list[float] = Field(description="Share of variance of PC1 and PC2.")
    points: list[MapPoint]


class IndexInfo(BaseModel):
    model_config = ConfigDict(extra="allow")

    path: str
    kind: str
    factory: str
    metric: str
    exact: bool
    recall_at_10: float | None
    vectors: int
    dim: int
    shards: int
    generation: int
    loaded_at: str


class HealthAnswer(BaseModel):
    status: Literal["ok"]
    version: str
    pid: int
    uptime_seconds: float
    index: IndexInfo
    settings: dict[str, Any]


class ReloadRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    index: str | None = Field(
        default=None, description="Index directory to serve; default: reload the current one."
    )


class ReloadAnswer(BaseModel):
    status: Literal["reloaded"]
    index: IndexInfo
    previous: IndexInfo
    workers: dict[str, Any]
    seconds: float


class ErrorAnswer(BaseModel):
    model_config = ConfigDict(extra="allow")

    error: str
    detail: str
    request_id: str | None = None


ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorAnswer, "description": description}
    for status, description in (
        (401, "Missing or wrong token"),
        (404, "Unknown word"),
        (413, "Request too large"),
        (422, "Invalid parameter or body"),
    )
}
