"""ASGI middleware around every route (the ranker's included): request ids, metrics and the
access log, bearer-token auth, request-size limits.

Plain ASGI classes rather than Starlette's ``BaseHTTPMiddleware``: they add microseconds,
not a task per request. Order, outermost first (see `embedrec.serving.app.create_app`)::

    Observe (request id, metrics, access log) → CORS (only when configured) → Auth
      → BodyLimit → FastAPI's exception handling and routes
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hmac
import json
import logging
import re
import time
import uuid
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from embedrec.serving.metrics import ServiceMetrics, observe_request

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

access_log = logging.getLogger("embedrec.serving.access")

REQUEST_ID_HEADER = b"x-request-id"
_GOOD_REQUEST_ID = re.compile(rb"^[A-Za-z0-9._:-]{1,128}$")
# Pages a person opens in a browser: a 401 there asks the browser for the token (HTTP Basic,
# token as password), and the browser then sends it with the page's own API calls.
BROWSER_PATHS = ("/", "/static/", "/docs")
# Probes a load balancer or orchestrator calls without credentials: they answer without the
# token, and then say nothing sensitive (see embedrec.serving.routes.probes).
PROBE_PATHS = ("/healthz", "/readyz")
TRUSTED = "trusted"  # scope["state"][TRUSTED]: the request may see paths and versions


def route_path(scope: Scope) -> str:
    """The path below the service's root path (``--root-path /embedrec``: a request for
    ``/embedrec/admin/reload`` is ``/admin/reload``), whether or not a proxy stripped it."""
    path = str(scope["path"])
    root = str(scope.get("root_path") or "")
    if root and (path == root or path.startswith(root + "/")):
        return path[len(root) :] or "/"
    return path


def is_trusted(scope: Scope) -> bool:
    """True when the request carried the service's token, or the service has none."""
    return bool(scope.get("state", {}).get(TRUSTED))


async def send_json(
    send: Send,
    status: int,
    body: dict[str, Any],
    headers: list[tuple[bytes, bytes]] | None = None,
) -> None:
    """Answer with a JSON body (used for errors raised before the routes)."""
    payload = json.dumps(body).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(payload)).encode()),
                *(headers or []),
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload})


def request_id_of(scope: Scope) -> str | None:
    value = scope.get("state", {}).get("request_id")
    return value if isinstance(value, str) else None


class ObserveMiddleware:
    """Request id (kept from ``X-Request-ID`` when sane, else new), metrics, access log."""

    def __init__(self, app: ASGIApp, metrics: ServiceMetrics, *, log_requests: bool) -> None:
        self.app = app
        self.metrics = metrics
        self.log_requests = log_requests

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        request_id = _incoming_request_id(scope) or uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        status = 500
        header = (REQUEST_ID_HEADER, request_id.encode())

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                message["headers"] = [*message.get("headers", []), header]
            await send(message)

        self.metrics.in_progress.inc()
        try:
            await self.app(scope, receive, send_with_id)
        finally:
            self.metrics.in_progress.dec()
            seconds = time.perf_counter() - started
            route = getattr(scope.get("route"), "path", None) or "unmatched"
            observe_request(self.metrics, scope["method"], route, status, seconds)
            if self.log_requests:
                client = scope.get("client") or ("-", 0)
                query = scope.get("query_string", b"").decode("latin-1")
                path = scope["path"] + (f"?{query}" if query else "")
                access_log.info(
                    '%s:%s "%s %s" %d %.2fms id=%s',
                    client[0],
                    client[1],
                    scope["method"],
                    path,
                    status,
                    seconds * 1000,
                    request_id,
                )


def _incoming_request_id(scope: Scope) -> str | None:
    for name, value in scope.get("headers", []):
        if name == REQUEST_ID_HEADER and _GOOD_REQUEST_ID.match(value):
            return str(value.decode("ascii"))
    return None


class AuthMiddleware:
    """Bearer token on every request when ``token`` is set; ``/admin/`` always needs it.

    Accepts ``Authorization: Bearer TOKEN`` and, for browsers, HTTP Basic with the token as
    the password (any user name) — except on ``/admin/``, which takes only the bearer form:
    a browser resends cached Basic credentials on its own, even for a form another site
    submits, but never a bearer header. CORS preflight requests pass (no credentials).
    """

    def __init__(self, app: ASGIApp, token: str | None) -> None:
        self.app = app
        self.token = token.encode() if token else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] == "OPTIONS":
            await self.app(scope, receive, send)
            return
        path = route_path(scope)
        admin = path.startswith("/admin/") or path == "/admin"
        if self.token is None:
            scope.setdefault("state", {})[TRUSTED] = True
            if admin:
                await send_json(
                    send,
                    403,
                    {
                        "error": "forbidden",
                        "detail": "admin endpoints are disabled: start the service with "
                        "--token or EMBEDREC_TOKEN to enable them",
                        "request_id": request_id_of(scope),
                    },
                )
                return
            await self.app(scope, receive, send)
            return
        presented = _presented_token(scope, basic=not admin)
        if presented is not None and hmac.compare_digest(presented, self.token):
            scope.setdefault("state", {})[TRUSTED] = True
            await self.app(scope, receive, send)
            return
        if path in PROBE_PATHS and scope["method"] in ("GET", "HEAD"):
            scope.setdefault("state", {})[TRUSTED] = False
            await self.app(scope, receive, send)
            return
        browser = path == "/" or path.startswith(BROWSER_PATHS[1:])
        challenge = b'Basic realm="embedrec"' if browser else b'Bearer realm="embedrec"'
        detail = "missing bearer token" if presented is None else "wrong token"
        if admin:
            detail += " (admin endpoints take only the bearer form, not HTTP Basic)"
        await send_json(
            send,
            401,
            {
                "error": "unauthorized",
                "detail": f"{detail}: send 'Authorization: Bearer <token>'",
                "request_id": request_id_of(scope),
            },
            [(b"www-authenticate", challenge)],
        )


def _presented_token(scope: Scope, *, basic: bool) -> bytes | None:
    for name, value in scope.get("headers", []):
        if name != b"authorization":
            continue
        scheme, _, credentials = value.partition(b" ")
        scheme = scheme.lower()
        if scheme == b"bearer":
            return credentials.strip()
        if scheme == b"basic" and basic:
            try:
                decoded = base64.b64decode(credentials.strip(), validate=True)
            except (binascii.Error, ValueError):
                return b""
            return decoded.partition(b":")[2]
        return b""
    return None


class _BodyTooLarge(Exception):
    pass


# curl -d sends this type; the API's bodies are JSON whatever the label says.
_FORM_TYPE = b"application/x-www-form-urlencoded"


class BodyLimitMiddleware:
    """413 for bodies over ``limit`` bytes, by Content-Length or while streaming; bodies sent
    without a type or as curl's default form type are read as JSON (the only body format)."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = scope.get("headers", [])
        if scope["method"] == "POST":
            content_types = [v for n, v in headers if n == b"content-type"]
            if not content_types or content_types[0].split(b";")[0].strip().lower() == _FORM_TYPE:
                headers = [(n, v) for n, v in headers if n != b"content-type"]
                headers.append((b"content-type", b"application/json"))
                scope["headers"] = headers
        bodied = False
        for name, value in headers:
            if name == b"content-length":
                if not value.isdigit():
                    await send_json(send, 400, _error(scope, "bad_request", "bad Content-Length"))
                    return
                if int(value) > self.limit:
                    await self._too_large(scope, send)
                    return
                bodied = bodied or value != b"0"
            elif name == b"transfer-encoding":
                bodied = True
        if not bodied:
            # HTTP/1.1: a request with neither header has no body (most GETs): nothing to count.
            await self.app(scope, receive, send)
            return
        received = 0
        started = answered = False

        async def counting_receive() -> Message:
            # A streamed (chunked) body: answer 413 as soon as it passes the limit. The
            # route then fails reading its body; whatever it answers is dropped below.
            nonlocal received, answered
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    if not started and not answered:
                        answered = True
                        await self._too_large(scope, send)
                    raise _BodyTooLarge
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if answered:
                return
            started = started or message["type"] == "http.response.start"
            await send(message)

        with contextlib.suppress(_BodyTooLarge):
            await self.app(scope, counting_receive, tracking_send)

    async def _too_large(self, scope: Scope, send: Send) -> None:
        detail = f"request body over the {self.limit:,}-byte limit (--max-body-bytes)"
        await send_json(send, 413, _error(scope, "payload_too_large", detail))


def _error(scope: Scope, code: str, detail: str) -> dict[str, Any]:
    return {"error": code, "detail": detail, "request_id": request_id_of(scope)}
