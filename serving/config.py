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

    def __post_init__(self) -> None:
        if not isinstance(self.index, str) or not self.index:
            raise ConfigError("index", self.index, "an index or model directory")
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
        for key in ("reload_timeout", "graceful_shutdown_seconds"):
            value = getattr(self, key)
            if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
                raise ConfigError(key, value, "a number of seconds > 0")

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def public_dict(self) -> dict[str, Any]:
        """The settings without the token (for /healthz and logs)."""
        values = dataclasses.asdict(self)
        values["token"] = None if self.token is None else "<set>"
        values["cors_origins"] = list(self.cors_origins)
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
        return cls(**values)

    @classmethod
    def from_environment(cls) -> ServeConfig:
        """The config a worker process was handed in ``EMBEDREC_SERVE_CONFIG``."""
        text = os.environ.get(CONFIG_ENV)
        if not text:
            raise ConfigError(CONFIG_ENV, None, "the JSON ServeConfig set by `embedrec serve`")
        return cls.from_json(text)


def _check_int(key: str, value: Any, low: int, high: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ConfigError(key, value, f"an integer from {low} to {high}")
