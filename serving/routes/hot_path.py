"""The hot routes answered below FastAPI: ``GET /v1/neighbors?word=W[&k=K][&index=NAME]`` and
``POST /v1/neighbors {"words": [...], "k": K, "index": NAME}``.

`HotPath` is a plain ASGI layer between the service's middlewares and FastAPI::

    Observe (request id, metrics, access log) → CORS → Auth → BodyLimit → HotPath → FastAPI

so the token, the body limit, request ids, the access log and the per-route metrics apply
to its answers as to every other. It answers only requests whose every parameter it can
check exactly as the FastAPI route would accept it: ``word`` of 1–256 characters, ``k``
written as plain digits from 1 to ``--max-k``, ``index`` of 1–64 characters, no other or
repeated parameter; for POST a JSON object (``application/json``, UTF-8) with ``words`` (a
non-empty list of 1–256-character strings, at most ``--max-batch``), an integer ``k`` and
an optional ``index``, nothing else. Everything else — a missing or malformed parameter,
``vectors``, another path or method — goes on to FastAPI unchanged (a POST body already read
is handed on), so every 400, 413 and 422 of request validation still comes from FastAPI's
own checks, and the OpenAPI schema still documents the FastAPI routes, which answer the same.

What it answers itself is what those routes answer: the same JSON keys in the same order
(`neighbors_body`, `batch_body`; floats as orjson spells them, e.g. ``1e-5`` where Python
writes ``1e-05``), the same error bodies for what the search raises (404 ``unknown_word``,
404 ``unknown_index``, 422 ``invalid_value``, through `embedrec.serving.errors.error_body`),
the same ``embedrec_queries_total`` counts and the same ``route`` label in the request
metrics. Single GETs search through the coalescer when it is on, as the route does.

Why: FastAPI's routing, parameter validation, response model and exception plumbing cost
several times one HNSW search per request (docs/serving.md, "The hot path").
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable
from typing import Any
from urllib.parse import parse_qsl

import orjson

from embedrec.core.errors import EmbedrecError
from embedrec.serving.batch_items import Neighbors, words_item_by_item
from embedrec.serving.errors import error_body
from embedrec.serving.metrics import ServiceMetrics
from embedrec.serving.middleware import (
    ASGIApp,
    Message,
    Receive,
    Scope,
    Send,
    request_id_of,
    route_path,
)
from embedrec.serving.state import IndexSnapshot, ServiceState

NEIGHBORS_PATH = "/v1/neighbors"
MAX_WORD_LENGTH = 256
MAX_INDEX_NAME = 64
DEFAULT_K = 10
_GET_KEYS = frozenset(("word", "k", "index"))
_POST_KEYS = frozenset(("words", "k", "index"))
# k as most clients write it; any other spelling FastAPI may accept ("010", " 10") goes to it.
_PLAIN_K = re.compile(r"[1-9][0-9]{0,8}")
_JSON_TYPE = b"application/json"


def neighbors_body(word: str, k: int, snapshot: IndexSnapshot, found: Neighbors) -> bytes:
    """The JSON of ``GET /v1/neighbors`` (the ``NeighborsAnswer`` schema, key for key)."""
    return orjson.dumps(
        {
            "word": word,
            "k": k,
            "metric": snapshot.index.metric,
            "index": snapshot.name,
            "neighbors": found,
        }
    )


def batch_body(answer: dict[str, Any], index_name: str) -> bytes:
    """The JSON of a words ``POST /v1/neighbors`` from `words_item_by_item`'s answer (the
    ``NeighborsBatchAnswer`` schema, key for key)."""
    return orjson.dumps(
        {
            "k": answer["k"],
            "metric": answer["metric"],
            "index": index_name,
            "results": answer["results"],
        }
    )


def error_json(scope: Scope, exc: EmbedrecError) -> tuple[int, bytes]:
    """Status and body of a library error, as the app's exception handler answers it."""
    status, body = error_body(exc)
    body.setdefault("request_id", request_id_of(scope))
    # What starlette's JSONResponse writes (the handler answers with one).
    text = json.dumps(body, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    return status, text.encode()


class HotPath:
    """Answers the hot requests of ``NEIGHBORS_PATH`` itself; passes all others to ``app``.

    ``routes``: the FastAPI routes of ``GET`` and ``POST /v1/neighbors`` (set as
    ``scope["route"]``, where the metrics read the route label); ``search``: how a single
    GET searches (`embedrec.serving.routes.query.single_search`).
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        state: ServiceState,
        metrics: ServiceMetrics,
        search: Any,
        routes: tuple[Any, Any],
    ) -> None:
        self.app = app
        self.state = state
        self.search = search
        self.counted = metrics.query_counter("neighbors")
        self.max_k = state.config.max_k
        self.max_batch = state.config.max_batch
        self.get_route, self.post_route = routes
        self.answered = 0  # requests answered here (for tests and the curious)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and route_path(scope) == NEIGHBORS_PATH:
            method = scope["method"]
            if method == "GET":
                params = self.get_params(scope["query_string"])
                if params is not None:
                    self.answered += 1
                    scope["route"] = self.get_route
                    await _answer(scope, send, self._neighbors(*params))
                    return
            elif method == "POST" and _is_json(scope):
                messages, body = await _read_body(receive)
                batch = None if body is None else self.post_params(body)
                if batch is not None:
                    self.answered += 1
                    scope["route"] = self.post_route
                    await _answer(scope, send, self._batch(*batch))
                    return
                receive = _replay(messages, receive)
        await self.app(scope, receive, send)

    def get_params(self, query_string: bytes) -> tuple[str, int, str | None] | None:
        """``(word, k, index)`` when the query string is one the route accepts as it is;
        None to leave the request to FastAPI."""
        pairs = parse_qsl(query_string.decode("latin-1"), keep_blank_values=True)
        params = dict(pairs)
        if len(params) != len(pairs) or not params.keys() <= _GET_KEYS:
            return None
        word = params.get("word")
        if word is None or not 1 <= len(word) <= MAX_WORD_LENGTH:
            return None
        k = _plain_k(params.get("k"), self.max_k)
        index = params.get("index")
        if k is None or (index is not None and not 1 <= len(index) <= MAX_INDEX_NAME):
            return None
        return word, k, index

    def post_params(self, body: bytes) -> tuple[list[str], int, str | None] | None:
        """``(words, k, index)`` when the body is a words batch the route accepts as it is
        (and within ``--max-batch`` and ``--max-k``); None to leave it to FastAPI."""
        try:
            request = orjson.loads(body)
        except orjson.JSONDecodeError:
            return None
        if type(request) is not dict or not request.keys() <= _POST_KEYS:
            return None
        words = request.get("words")
        k = request.get("k", DEFAULT_K)
        index = request.get("index")
        if (
            type(words) is not list
            or not 1 <= len(words) <= self.max_batch
            or type(k) is not int
            or not 1 <= k <= self.max_k
            or (
                index is not None
                and (type(index) is not str or not 1 <= len(index) <= MAX_INDEX_NAME)
            )
        ):
            return None
        for word in words:
            if type(word) is not str or not 1 <= len(word) <= MAX_WORD_LENGTH:
                return None
        return words, k, index

    async def _neighbors(self, word: str, k: int, index: str | None) -> bytes:
        snapshot = self.state.current(index)
        found = await self.search(snapshot, word, k)
        self.counted(snapshot.name).inc()
        return neighbors_body(word, k, snapshot, found)

    async def _batch(self, words: list[str], k: int, index: str | None) -> bytes:
        snapshot = self.state.current(index)
        answer = await self.state.run(words_item_by_item, snapshot.index, words, k)
        self.counted(snapshot.name).inc(len(words))
        return batch_body(answer, snapshot.name)


def _plain_k(text: str | None, max_k: int) -> int | None:
    if text is None:
        return DEFAULT_K
    if _PLAIN_K.fullmatch(text) is None:
        return None
    k = int(text)
    return k if k <= max_k else None


def _is_json(scope: Scope) -> bool:
    """True when the body is labelled plain JSON (BodyLimit labels unlabelled bodies so)."""
    for name, value in scope["headers"]:
        if name == b"content-type":
            return bool(value.split(b";", 1)[0].strip().lower() == _JSON_TYPE)
    return False


async def _read_body(receive: Receive) -> tuple[list[Message], bytes | None]:
    """Every message up to the body's end, and the body (None if the client went away)."""
    messages: list[Message] = []
    chunks: list[bytes] = []
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            return messages, None
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return messages, b"".join(chunks)


def _replay(messages: list[Message], receive: Receive) -> Receive:
    """A ``receive`` that gives ``messages`` again, then reads on."""
    pending = list(messages)

    async def replayed() -> Message:
        if pending:
            return pending.pop(0)
        return await receive()

    return replayed


async def _answer(scope: Scope, send: Send, answer: Awaitable[bytes]) -> None:
    try:
        status, payload = 200, await answer
    except EmbedrecError as exc:
        status, payload = error_json(scope, exc)
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-length", str(len(payload)).encode()),
                (b"content-type", _JSON_TYPE),
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload})
