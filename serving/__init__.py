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
    from serving.app import create_app
    from serving.client import Client, ServiceTimeoutError
    from serving.config import ServeConfig
    from serving.errors import (
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
    from serving.server import serve
    from serving.state import IndexSnapshot, ServiceState

_PUBLIC = {
    "create_app": "serving.app",
    "Client": "serving.client",
    "ServiceTimeoutError": "serving.client",
    "ServeConfig": "serving.config",
    "AuthenticationError": "serving.errors",
    "BadRequestError": "serving.errors",
    "ForbiddenError": "serving.errors",
    "InvalidIndexError": "serving.errors",
    "InvalidRequestError": "serving.errors",
    "NotFoundError": "serving.errors",
    "PayloadTooLargeError": "serving.errors",
    "ServiceError": "serving.errors",
    "ServiceUnavailableError": "serving.errors",
    "UnknownIndexError": "serving.errors",
    "serve": "serving.server",
    "IndexSnapshot": "serving.state",
    "ServiceState": "serving.state",
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
