"""Errors of the HTTP service, shared by the server (raise → JSON) and the client (JSON → raise).

Every error answer has the body ``{"error": CODE, "detail": TEXT, "request_id": ID}`` plus
fields that let the client rebuild the library's own exception:

=====  ===================  ==========================================================
 404   ``unknown_word``     `indexes.UnknownWordError` (``word``, ``suggestion``)
 422   ``invalid_value``    `embedrec.core.errors.ConfigError` (``key``, ``value``, ``expected``)
 422   ``invalid_request``  a malformed query or body (FastAPI's validation)
 400   ``bad_request``      a body that is not JSON, a bad header
 401   ``unauthorized``     missing or wrong bearer token
 403   ``forbidden``        admin endpoint while the service has no token
 404   ``not_found``        no such route
 404   ``unknown_index``    ``index=`` names no index of this service
 413   ``payload_too_large`` body over ``--max-body-bytes`` or batch over ``--max-batch``
 422   ``invalid_index``    ``/admin/reload`` refused a broken index (the old one serves on)
 503   ``unavailable``      the service cannot answer (connection refused, timed out)
=====  ===================  ==========================================================

>>> raise PayloadTooLargeError("batch of 5000 queries; the limit is 1024")
Traceback (most recent call last):
...
embedrec.serving.errors.PayloadTooLargeError: batch of 5000 queries; the limit is 1024 (HTTP 413)
"""

from __future__ import annotations

from typing import Any, ClassVar

from embedrec.core.errors import ConfigError, EmbedrecError


class ServiceError(EmbedrecError):
    """An error answer of the service (or no answer at all). ``status``: HTTP status,
    ``code``: the JSON ``error`` field, ``detail``: the human message."""

    status: ClassVar[int] = 500
    code: ClassVar[str] = "internal_error"

    def __init__(
        self,
        detail: str,
        *,
        status: int | None = None,
        code: str | None = None,
        request_id: str | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        self.detail = detail
        self.http_status = status if status is not None else type(self).status
        self.error_code = code if code is not None else type(self).code
        self.request_id = request_id
        self.extra = dict(extra or {})
        suffix = f"HTTP {self.http_status}" if self.http_status else "no HTTP answer"
        if request_id:
            suffix += f", request {request_id}"
        super().__init__(f"{detail} ({suffix})")

    def body(self) -> dict[str, Any]:
        return {"error": self.error_code, "detail": self.detail, **self.extra}


class BadRequestError(ServiceError):
    status = 400
    code = "bad_request"


class AuthenticationError(ServiceError):
    """401: the request carried no token or a wrong one."""

    status = 401
    code = "unauthorized"


class ForbiddenError(ServiceError):
    """403: admin endpoints are refused (the service runs without a token)."""

    status = 403
    code = "forbidden"


class NotFoundError(ServiceError):
    status = 404
    code = "not_found"


class UnknownIndexError(NotFoundError):
    """404: a request named an index (``index=``) that this service does not serve."""

    code = "unknown_index"


class PayloadTooLargeError(ServiceError):
    status = 413
    code = "payload_too_large"


class InvalidRequestError(ServiceError):
    status = 422
    code = "invalid_request"


class InvalidIndexError(ServiceError):
    """422 from ``/admin/reload``: the new index does not load; the old one keeps serving."""

    status = 422
    code = "invalid_index"


class ServiceUnavailableError(ServiceError):
    """No usable answer: connection refused or reset, timeout, or a 5xx status."""

    status = 503
    code = "unavailable"


_BY_STATUS: dict[int, type[ServiceError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: ForbiddenError,
    404: NotFoundError,
    413: PayloadTooLargeError,
    422: InvalidRequestError,
}


def error_body(exc: EmbedrecError) -> tuple[int, dict[str, Any]]:
    """HTTP status and JSON body for a library or service error (the server's one mapping).

    Other packages' errors may carry ``http_status`` and ``error_code`` class attributes
    (e.g. a ranker's ``UnknownDocError`` with 404 / ``unknown_doc``); any other
    `EmbedrecError` is the caller's mistake, 400.
    """
    from embedrec.indexes.errors import UnknownWordError

    if isinstance(exc, ServiceError):
        return exc.http_status, exc.body()
    if isinstance(exc, UnknownWordError):
        return 404, {
            "error": "unknown_word",
            "detail": str(exc),
            "word": exc.word,
            "suggestion": exc.suggestion,
            "vocab_size": exc.vocab_size,
        }
    if isinstance(exc, ConfigError):
        value = exc.value if isinstance(exc.value, int | float | str | None) else repr(exc.value)
        return 422, {
            "error": "invalid_value",
            "detail": str(exc),
            "key": exc.key,
            "value": value,
            "expected": exc.expected,
        }
    status = getattr(exc, "http_status", 400)
    code = getattr(exc, "error_code", "bad_request")
    if not isinstance(status, int) or not 400 <= status <= 499:
        status = 400
    return status, {"error": str(code), "detail": str(exc)}


def error_from_answer(status: int, body: Any, request_id: str | None = None) -> EmbedrecError:
    """The exception a client raises for an error answer (inverse of `error_body`)."""
    from embedrec.indexes.errors import UnknownWordError

    if not isinstance(body, dict):
        body = {}
    code = str(body.get("error") or "")
    detail = str(body.get("detail") or f"HTTP {status} without an error body")
    if code == "unknown_word" and isinstance(body.get("word"), str):
        return UnknownWordError(
            body["word"],
            vocab_size=int(body.get("vocab_size") or 0),
            suggestion=body.get("suggestion"),
        )
    if code == "invalid_value" and isinstance(body.get("key"), str):
        return ConfigError(body["key"], body.get("value"), str(body.get("expected")))
    if code == "unknown_index":
        return UnknownIndexError(detail, status=status, request_id=request_id)
    if code == "invalid_index":
        return InvalidIndexError(detail, status=status, request_id=request_id)
    if status >= 500:
        return ServiceUnavailableError(
            detail, status=status, code=code or "unavailable", request_id=request_id
        )
    cls = _BY_STATUS.get(status, ServiceError)
    return cls(detail, status=status, code=code or None, request_id=request_id)
