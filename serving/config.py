"""`ServeConfig`: how ``embedrec serve`` runs, validated in one place.

Safe defaults: loopback only, no CORS, admin endpoints refused until a token is set, bounded
request bodies, batches and k. With ``workers`` > 1 the config travels to each worker
process as JSON in the ``EMBEDREC_SERVE_CONFIG`` environment variable.

>>> config = ServeConfig(index="indexes/wiki", port=8000, token="s3cret")
>>> config.host, config.max_batch
('127.0.0.1', 1024)
"""

from __future__ import annotations

import dataclasses
import json
import os
from dataclasses import dataclass, field
from typing import Any

from embedrec.core.errors import ConfigError
from embedrec.serving.index_names import check_index_name, name_from_path

TOKEN_ENV = "EMBEDREC_TOKEN"
HTTP_PARSERS = ("auto", "h11", "httptools")
EVENT_LOOPS = ("auto", "asyncio", "uvloop")
CONFIG_ENV = "EMBEDREC_SERVE_CONFIG"
MAX_WORKERS = 64


@dataclass(frozen=True, kw_only=True)
class ServeConfig:
    """Settings of one service. Every field has a command-line flag of the same name.

    ``index``: index (or model) directory served at start. ``host``/``port``: where to
    listen (``127.0.0.1`` unless told otherwise). ``workers``: uvicorn worker processes,
    each holding the index. ``search_threads``: searches one worker runs at once in its
    thread pool (FAISS releases the GIL while searching); 0 runs them on the event loop.
    ``token``: bearer token required by every endpoint when set; admin endpoints
    (``/admin/...``) are refused while it is unset. ``max_body_bytes``/``max_batch``/
    ``max_k``: request limits (413 / 422 beyond them). ``cors_origins``: origins allowed
    to call from a browser page elsewhere (none by default). ``ranker``: click-ranker model
    for ``/v1/rank`` and ``/v1/recommend``. ``control_dir``: set by the server for
    several workers (reload broadcast, metrics files). ``omp_threads``: OpenMP threads one
    FAISS search may use (None: FAISS's default). ``http``/``loop``: uvicorn's HTTP parser
    and event loop (``auto``: httptools and uvloop when installed, else h11 and asyncio).
    ``index_name``: the name of ``index`` (default: its folder's name, see
    `embedrec.serving.index_names`); ``more_indexes``: further ``(name, directory)`` pairs served
    beside it; ``default_index``: the name requests without ``index=`` use (default: the
    first). ``proxy_headers``/``forwarded_allow_ips``: trust ``X-Forwarded-For`` and
    ``-Proto`` from these addresses (uvicorn's options); ``root_path``: the path prefix a
    reverse proxy serves this service under (``/embedrec``). ``coalesce_ms``: concurrent
    ``GET /v1/neighbors`` requests for the same index and k arriving within this many
    milliseconds (at most 1) are answered by one FAISS search (0: each searches alone; see
    `embedrec.serving.coalescer`). ``hot_path``: answer ``GET /v1/neighbors`` and words
    ``POST /v1/neighbors`` below FastAPI (`embedrec.serving.routes.hot_path`; same answers,
    less work per request); False sends every request through FastAPI's routes.
    """

    index: str
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 1
    search_threads: int = 4
    token: str | None = field(default=None, repr=False)
    max_body_bytes: int = 4 * 1024 * 1024
    max_batch: int = 1024
    max_k: int = 1000
    cors_origins: tuple[str, ...] = ()
    ranker: str | None = None
    access_log: bool = True
    control_dir: str | None = None
    reload_timeout: float = 60.0
    graceful_shutdown_seconds: float = 10.0
    omp_threads: int | None = 1
    http: str = "auto"
    loop: str = "auto"
    index_name: str | None = None
    more_indexes: tuple[tuple[str, str], ...] = ()
    default_index: str | None = None
    proxy_headers: bool = False
    forwarded_allow_ips: str | None = None
    root_path: str = ""
    coalesce_ms: float = 0.5
    hot_path: bool = True

    def __post_init__(self) -> None:
        if not isinstance(self.index, str) or not self.index:
            raise ConfigError("index", self.index, "an index or model directory")
        _check_indexes(self)
        _check_proxy(self)
        if not isinstance(self.host, str) or not self.host.strip():
            raise ConfigError("host", self.host, "an address such as 127.0.0.1 or 0.0.0.0")
        _check_int("port", self.port, 0, 65_535)
        _check_int("workers", self.workers, 1, MAX_WORKERS)
        _check_int("search_threads", self.search_threads, 0, 256)
        _check_int("max_body_bytes", self.max_body_bytes, 1024, 1 << 31)
        _check_int("max_batch", self.max_batch, 1, 1_000_000)
        _check_int("max_k", self.max_k, 1, 1_000_000)
        if self.omp_threads is not None:
            _check_int("omp_threads", self.omp_threads, 1, 1024)
        if self.token is not None and (
            not isinstance(self.token, str)
            or not self.token
            or any(c.isspace() for c in self.token)
        ):
            raise ConfigError("token", "<hidden>", "a non-empty string without spaces")
        if not isinstance(self.cors_origins, tuple) or not all(
            isinstance(o, str) and o for o in self.cors_origins
        ):
            raise ConfigError("cors_origins", self.cors_origins, "origins like https://a.example")
        if self.http not in HTTP_PARSERS:
            raise ConfigError("http", self.http, "one of " + ", ".join(HTTP_PARSERS))
        if self.loop not in EVENT_LOOPS:
            raise ConfigError("loop", self.loop, "one of " + ", ".join(EVENT_LOOPS))
        coalesce = self.coalesce_ms
        if (
            isinstance(coalesce, bool)
            or not isinstance(coalesce, int | float)
            or not 0 <= coalesce <= 1
        ):
            raise ConfigError("coalesce_ms", coalesce, "milliseconds from 0 to 1")
        if not isinstance(self.hot_path, bool):
            raise ConfigError("hot_path", self.hot_path, "true or false")
        for key in ("reload_timeout", "graceful_shutdown_seconds"):
            value = getattr(self, key)
            if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
                raise ConfigError(key, value, "a number of seconds > 0")

    def named_indexes(self) -> dict[str, str]:
        """Every served index, name → directory, in the order given (``index`` first)."""
        first = self.index_name or name_from_path(self.index)
        return {first: self.index, **dict(self.more_indexes)}

    @property
    def default_name(self) -> str:
        """The index that requests without ``index=`` use (``default_index`` or the first)."""
        return self.default_index or next(iter(self.named_indexes()))

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def public_dict(self) -> dict[str, Any]:
        """The settings without the token (for /healthz and logs)."""
        values = dataclasses.asdict(self)
        values["token"] = None if self.token is None else "<set>"
        values["cors_origins"] = list(self.cors_origins)
        values["more_indexes"] = [list(pair) for pair in self.more_indexes]
        return values

    def to_json(self) -> str:
        """Everything, the token included: only for handing to this service's own workers."""
        values = dataclasses.asdict(self)
        values["cors_origins"] = list(self.cors_origins)
        return json.dumps(values)

    @classmethod
    def from_json(cls, text: str) -> ServeConfig:
        values = json.loads(text)
        values["cors_origins"] = tuple(values.get("cors_origins") or ())
        values["more_indexes"] = tuple(tuple(pair) for pair in values.get("more_indexes") or ())
        return cls(**values)

    @classmethod
    def from_environment(cls) -> ServeConfig:
        """The config a worker process was handed in ``EMBEDREC_SERVE_CONFIG``."""
        text = os.environ.get(CONFIG_ENV)
        if not text:
            raise ConfigError(CONFIG_ENV, None, "the JSON ServeConfig set by `embedrec serve`")
        return cls.from_json(text)


def _check_indexes(config: ServeConfig) -> None:
    if config.index_name is not None:
        check_index_name(config.index_name, "index_name")
    if not isinstance(config.more_indexes, tuple) or not all(
        isinstance(pair, tuple) and len(pair) == 2 and isinstance(pair[1], str) and pair[1]
        for pair in config.more_indexes
    ):
        raise ConfigError("more_indexes", config.more_indexes, "(name, directory) pairs")
    first = config.index_name or name_from_path(config.index)
    names = [first, *(check_index_name(name) for name, _ in config.more_indexes)]
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise ConfigError("indexes", ", ".join(repeated), "each index name once (NAME=DIR)")
    if config.default_index is not None and config.default_index not in names:
        raise ConfigError("default_index", config.default_index, "one of " + ", ".join(names))


def _check_proxy(config: ServeConfig) -> None:
    root = config.root_path
    if not isinstance(root, str) or (root and (not root.startswith("/") or root.endswith("/"))):
        raise ConfigError("root_path", root, "'' or a path prefix such as /embedrec (no final /)")
    allowed = config.forwarded_allow_ips
    if allowed is not None and (not isinstance(allowed, str) or not allowed.strip()):
        raise ConfigError(
            "forwarded_allow_ips", allowed, "addresses such as 10.0.0.1,10.0.0.2 or *"
        )


def _check_int(key: str, value: Any, low: int, high: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ConfigError(key, value, f"an integer from {low} to {high}")
