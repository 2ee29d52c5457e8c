"""Every caller mistake is a JSON 4xx {"error", "detail"}; never a 500."""

from __future__ import annotations

import json

import httpx
from fastapi import APIRouter
from serving_fixtures import live_server

from embedrec.core.errors import ArtifactError, EmbedrecError
from embedrec.serving.errors import error_body, error_from_answer


def _error(answer: httpx.Response, status: int, code: str) -> dict:
    assert answer.status_code == status, answer.text
    body = answer.json()
    assert body["error"] == code, body
    assert isinstance(body["detail"], str) and body["detail"]
    assert body["request_id"] == answer.headers["x-request-id"]
    return body


def test_unknown_word_is_404_naming_it(http):
    body = _error(http.get("/v1/neighbors", params={"word": "capitl1"}), 404, "unknown_word")
    assert body["word"] == "capitl1" and body["suggestion"] == "capital1"
    assert "unknown word 'capitl1'" in body["detail"]
    # A batch is answered item by item (tests/serving/test_serving_batch_items.py).
    batch = http.post("/v1/neighbors", json={"words": ["capital1", "zzzz"]})
    assert batch.status_code == 200 and batch.json()["results"][1]["error"] == "unknown_word"
    analogy = http.get("/v1/analogy", params={"a": "country1", "b": "xyz", "c": "country2"})
    assert _error(analogy, 404, "unknown_word")["word"] == "xyz"
    for path in ("/v1/vector", "/v1/map"):
        assert _error(http.get(path, params={"word": "qqq"}), 404, "unknown_word")["word"] == "qqq"


def test_bad_k_is_422(http):
    for k in ("0", "-1", "1001", "ten", "2.5", ""):
        answer = http.get("/v1/neighbors", params={"word": "capital1", "k": k})
        _error(answer, 422, "invalid_request")
    # Within --max-k but more than the vocabulary holds: the library's own check, named.
    body = _error(
        http.get("/v1/neighbors", params={"word": "capital1", "k": 500}), 422, "invalid_value"
    )
    assert body["key"] == "k" and body["value"] == 500 and "131" in body["expected"]
    for k, code in ((0, "invalid_request"), (5000, "invalid_value")):
        _error(http.post("/v1/neighbors", json={"words": ["capital1"], "k": k}), 422, code)
    analogy = {"a": "country1", "b": "capital1", "c": "country2", "method": "3cosfoo"}
    _error(http.get("/v1/analogy", params=analogy), 422, "invalid_request")
    _error(http.get("/v1/map", params={"word": "capital1", "k": 201}), 422, "invalid_request")


def test_missing_and_malformed_parameters(http):
    body = _error(http.get("/v1/neighbors"), 422, "invalid_request")
    assert "word" in body["detail"]
    _error(http.get("/v1/neighbors", params={"word": ""}), 422, "invalid_request")
    _error(http.get("/v1/neighbors", params={"word": "x" * 300}), 422, "invalid_request")
    _error(http.get("/v1/analogy", params={"a": "country1"}), 422, "invalid_request")


def test_malformed_bodies(http):
    post = http.post
    _error(post("/v1/neighbors", content=b'{"words": [', headers=_json), 400, "bad_request")
    _error(post("/v1/neighbors", content=b"\xff\xfe", headers=_json), 400, "bad_request")
    cases = [
        {},
        {"words": []},
        {"words": ["capital1"], "vectors": [[0.0] * 32]},
        {"words": "capital1"},
        {"words": [1, 2]},
        {"words": ["capital1"], "extra": 1},
        {"vectors": [[1.0, 2.0]]},
        {"vectors": [[0.0] * 32, [1.0] * 31]},
        {"vectors": [["a"] * 32]},
        [1, 2, 3],
        "text",
        None,
    ]
    for case in cases:
        answer = post("/v1/neighbors", content=json.dumps(case).encode(), headers=_json)
        assert answer.status_code in (400, 422), (case, answer.text)
        assert answer.json()["error"] in ("invalid_request", "invalid_value", "bad_request")
    # Vectors that cannot be searched: wrong length, zero for cosine, NaN (a JSON extension).
    body = _error(post("/v1/neighbors", json={"vectors": [[1.0] * 31]}), 422, "invalid_value")
    assert body["key"] == "vectors[0]" and "32 numbers" in body["expected"]
    _error(post("/v1/neighbors", json={"vectors": [[0.0] * 32]}), 422, "invalid_value")
    nan = ("[" + ", ".join(["NaN"] * 32) + "]").encode()
    answer = post("/v1/neighbors", content=b'{"vectors": [' + nan + b"]}", headers=_json)
    assert answer.status_code in (400, 422)


def test_oversized_requests_are_413(http, start_server, planted):
    # The shared server allows batches of 50 queries.
    words = ["capital1"] * 51
    body = _error(http.post("/v1/neighbors", json={"words": words}), 413, "payload_too_large")
    assert "51" in body["detail"] and "50" in body["detail"]
    small = start_server(planted.index_a, max_body_bytes=2048)
    with httpx.Client(base_url=small.url) as client:
        big = {"vectors": [[0.5] * 32] * 20}
        _error(client.post("/v1/neighbors", json=big), 413, "payload_too_large")

        def chunks():  # no Content-Length: the limit applies while streaming
            yield b'{"vectors": ['
            for _ in range(40):
                yield b"[" + b", ".join([b"0.5"] * 32) + b"],"
            yield b"[0.5]]}"

        streamed = client.post("/v1/neighbors", content=chunks(), headers=_json)
        _error(streamed, 413, "payload_too_large")
        # The server still answers normally afterwards.
        assert client.get("/v1/neighbors", params={"word": "capital1"}).status_code == 200


def test_unknown_routes_and_methods(http):
    body = _error(http.get("/v2/neighbors"), 404, "not_found")
    assert "/v2/neighbors" in body["detail"]
    _error(http.delete("/v1/neighbors"), 405, "method_not_allowed")
    _error(http.put("/healthz"), 405, "method_not_allowed")


def test_no_500_for_garbage(http):
    """A sweep of odd requests: none may be answered with a 5xx."""
    odd = [
        ("GET", "/v1/neighbors?word=%00&k=1"),
        ("GET", "/v1/neighbors?word=capital1&word=capital2"),
        ("GET", "/v1/neighbors?word=%F0%9F%A6%88"),
        ("GET", "/v1/neighbors?word=capital1&k=99999999999999999999"),
        ("GET", "/v1/analogy?a=capital1&b=capital1&c=capital1&k=1"),
        ("GET", "/v1/map?word=capital1&k=1"),
        ("GET", "/v1/vector?word="),
        ("POST", "/v1/analogy"),
        ("POST", "/healthz"),
        ("GET", "/static/"),
        ("GET", "/admin/reload"),
        ("GET", "/%2e%2e/%2e%2e/etc/passwd"),
    ]
    for method, path in odd:
        answer = http.request(method, path)
        assert answer.status_code < 500, (method, path, answer.text)
        if answer.status_code >= 400:
            assert set(answer.json()) >= {"error", "detail"}
    for content_type in ("text/plain", "multipart/form-data; boundary=x", "application/xml"):
        body = b'{"words": ["capital1"]}'
        answer = http.post("/v1/neighbors", content=body, headers={"content-type": content_type})
        assert 400 <= answer.status_code < 500, (content_type, answer.text)
    # A broken Content-Length never reaches the app: uvicorn answers 400 itself.
    import socket

    host, port = http.base_url.host, http.base_url.port
    with socket.create_connection((host, port), timeout=5) as raw:
        raw.sendall(b"POST /v1/neighbors HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\nx")
        assert raw.recv(100).startswith(b"HTTP/1.1 400")


def test_other_routers_share_the_error_mapping(planted):
    """Routes added later (the ranker's) get the same JSON errors without their own handlers."""
    from embedrec.serving.app import create_app
    from embedrec.serving.config import ServeConfig

    class UnknownDocError(EmbedrecError):
        http_status = 404
        error_code = "unknown_doc"

    router = APIRouter()

    @router.get("/v1/doc")
    async def doc(which: str) -> dict:
        if which == "missing":
            raise UnknownDocError("unknown doc 'missing'")
        if which == "artifact":
            raise ArtifactError("/models/ranker", "is broken")
        raise RuntimeError("a bug")

    app = create_app(ServeConfig(index=str(planted.index_a), access_log=False))
    app.include_router(router)
    with live_server(app) as server, httpx.Client(base_url=server.url) as client:
        _error(client.get("/v1/doc", params={"which": "missing"}), 404, "unknown_doc")
        _error(client.get("/v1/doc", params={"which": "artifact"}), 400, "bad_request")
        bug = client.get("/v1/doc", params={"which": "bug"})
        assert bug.status_code == 500 and bug.json()["error"] == "internal_error"
        assert "a bug" not in bug.text  # internals stay in the log


def test_error_mapping_round_trips_to_library_exceptions():
    from embedrec.core.errors import ConfigError
    from embedrec.indexes import UnknownWordError

    for error in (
        UnknownWordError("xyzzy", vocab_size=10, suggestion="xyz"),
        ConfigError("k", 0, "an integer from 1 to 9"),
    ):
        status, body = error_body(error)
        again = error_from_answer(status, json.loads(json.dumps(body)))
        assert type(again) is type(error) and str(again) == str(error)


_json = {"content-type": "application/json"}
