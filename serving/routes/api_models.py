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
    index: str | None = Field(default=None, description="The name of the index that answered.")
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
    index: str | None = Field(
        default=None, min_length=1, max_length=64, description="The index to ask (by name)."
    )

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


class QueryUnknownWord(BaseModel):
    """One item of a batch whose word is not in the vocabulary: the same fields as the 404
    of ``GET /v1/neighbors``, and no neighbours. The other items are answered."""

    query: str
    error: Literal["unknown_word"]
    detail: str
    word: str
    suggestion: str | None
    vocab_size: int
    neighbors: list[Scored] = Field(default_factory=list, description="Always empty.")


class NeighborsBatchAnswer(BaseModel):
    k: int
    metric: str
    index: str | None = Field(default=None, description="The name of the index that answered.")
    results: list[QueryUnknownWord | QueryNeighbors]


class AnalogyAnswer(BaseModel):
    a: str
    b: str
    c: str
    k: int
    method: str
    metric: str
    index: str | None = Field(default=None, description="The name of the index that answered.")
    answers: list[Scored]


class VectorAnswer(BaseModel):
    word: str
    dim: int
    index: str | None = Field(default=None, description="The name of the index that answered.")
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
    index: str | None = Field(default=None, description="The name of the index that answered.")
    points: list[MapPoint]


class IndexInfo(BaseModel):
    model_config = ConfigDict(extra="allow")

    name: str
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
    index: IndexInfo = Field(description="The default index.")
    default_index: str
    indexes: dict[str, IndexInfo] = Field(description="Every served index, by name.")
    settings: dict[str, Any]


class ProbeAnswer(BaseModel):
    """What a probe without the token learns: the status alone."""

    status: Literal["ok"]


class ReadyAnswer(BaseModel):
    status: Literal["ready", "not_ready"]
    indexes: dict[str, dict[str, float]] | None = Field(
        default=None, description="With the token: each index's probe search time (ms)."
    )
    error: str | None = None
    detail: str | None = None


class ReloadRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(
        default=None, min_length=1, max_length=64, description="Which index (default: default)."
    )
    index: str | None = Field(
        default=None, description="Index directory to serve; default: reload the current one."
    )


class RankerReloadRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ranker: str | None = Field(
        default=None, description="Ranker model directory; default: reload the current one."
    )


class RankerReloadAnswer(BaseModel):
    status: Literal["reloaded"]
    ranker: dict[str, Any]
    previous: dict[str, Any]
    workers: dict[str, Any]
    seconds: float


class ReloadAnswer(BaseModel):
    status: Literal["reloaded"]
    name: str
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
