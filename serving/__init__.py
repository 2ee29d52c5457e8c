"""embedrec serving: the HTTP service over an index, its Python client, the explorer page.

>>> from embedrec.serving import Client
>>> Client("http://localhost:8000").neighbors("shark", k=10)         # doctest: +SKIP
>>> from embedrec.serving import ServeConfig, create_app
>>> app = create_app(ServeConfig(index="indexes/wiki"))              # doctest: +SKIP

Run it with ``embedrec serve INDEX`` (see ``docs/serving.md``). Names are imported on first
use, so ``import embedrec.serving`` loads neither FastAPI nor FAISS.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from embedrec.core.lazy import lazy_exports

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
    "create_app",
    "serve",
]


__getattr__, __dir__ = lazy_exports(__name__, _PUBLIC)
