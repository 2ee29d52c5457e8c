"""embedrec serving: the HTTP service over an index, its Python client, the explorer page.

>>> from serving import Client
>>> Client("http://localhost:8000").neighbors("shark", k=10)         # doctest: +SKIP
>>> from serving import ServeConfig, create_app
>>> app = create_app(ServeConfig(index="indexes/wiki"))              # doctest: +SKIP

Run it with ``embedrec serve INDEX`` (see ``docs/serving.md``). Names are imported on first
use, so ``import serving`` loads neither FastAPI nor FAISS.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from embedrec.serving.app import create_app
    from embedrec.serving.client import Client, ServiceTimeoutError
    from embedrec.serving.config import ServeConfig
    from embedrec.serving.errors import (
        AuthenticationError,
        BadRequestError,
        ForbiddenError,
        InvalidIndexError,
        InvalidRequestError,
        NotFoundError,
        PayloadTooLargeError,
        ServiceError,
        ServiceUnavailableError,
        UnknownIndexError,
    )
    from embedrec.serving.server import serve
    from embedrec.serving.state import IndexSnapshot, ServiceState

_PUBLIC = {
    "create_app": "embedrec.serving.app",
    "Client": "embedrec.serving.client",
    "ServiceTimeoutError": "embedrec.serving.client",
    "ServeConfig": "embedrec.serving.config",
    "AuthenticationError": "embedrec.serving.errors",
    "BadRequestError": "embedrec.serving.errors",
    "ForbiddenError": "embedrec.serving.errors",
    "InvalidIndexError": "embedrec.serving.errors",
    "InvalidRequestError": "embedrec.serving.errors",
    "NotFoundError": "embedrec.serving.errors",
    "PayloadTooLargeError": "embedrec.serving.errors",
    "ServiceError": "embedrec.serving.errors",
    "ServiceUnavailableError": "embedrec.serving.errors",
    "UnknownIndexError": "embedrec.serving.errors",
    "serve": "embedrec.serving.server",
    "IndexSnapshot": "embedrec.serving.state",
    "ServiceState": "embedrec.serving.state",
}

__all__ = [
    "AuthenticationError",
    "BadRequestError",
    "Client",
    "ForbiddenError",
    "IndexSnapshot",
    "InvalidIndexError",
    "InvalidRequestError",
    "NotFoundError",
    "PayloadTooLargeError",
    "ServeConfig",
    "ServiceError",
    "ServiceState",
    "ServiceTimeoutError",
    "ServiceUnavailableError",
    "UnknownIndexError",
    "create_app",
    "serve",
]


def __getattr__(name: str) -> Any:
    module = _PUBLIC.get(name)
    if module is None:
        raise AttributeError(f"module 'serving' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_PUBLIC))
