"""The hot path (`embedrec.serving.routes.hot_path`) through real servers: each request goes to
a service with it and to one without it (``hot_path=False``: FastAPI's routes), and the two
answers must agree — status, content type and body (byte for byte for ``GET``; as JSON for
``POST``, whose floats pydantic and orjson may spell differently) — errors included. Requests
the hot path must leave to FastAPI are checked to reach it."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from serving_fixtures import LiveServer

from embedrec.serving.app import create_app
from embedrec.serving.config import ServeConfig
from embedrec.serving.routes.hot_path import HotPath

REQUEST_ID = "hot-path-test-1"


def _server(planted: Any, **settings: Any) -> LiveServer:
    config = ServeConfig(
        index=str(planted.index_a),
        index_name="a",
        more_indexes=(("b", str(planted.index_b)),),
        access_log=False,
        max_batch=50,
        **settings,
    )
    return LiveServer(create_app(config)).start()


@pytest.fixture(scope="module")
def pair(planted: Any) -> Iterator[tuple[LiveServer, LiveServer]]:
    """(service with the hot path, the same service without it)."""
    hot, plain = _server(planted), _server(planted, hot_path=False)
    yield hot, plain
    hot.stop()
    plain.stop()


def hot_path_of(server: LiveServer) -> HotPath:
    layer = server.app.middleware_stack
    while not isinstance(layer, HotPath):
        layer = layer.app
    return layer


def _both(pair: tuple[LiveServer, LiveServer], method: str, path: str, **kwargs: Any) -> Any:
    """The two answers, and whether the hot path answered the first itself."""
    counter = hot_path_of(pair[0])
    before = counter.answered
    headers = {"x-request-id": REQUEST_ID, **kwargs.pop("headers", {})}
    answers = [
        httpx.request(method, server.url + path, headers=headers, timeout=20, **kwargs)
        for server in pair
    ]
    return answers[0], answers[1], counter.answered - before


def _has_hot_path(server: LiveServer) -> bool:
    layer: Any = server.app.middleware_stack
    while layer is not None:
        if isinstance(layer, HotPath):
            return True
        layer = getattr(layer, "app", None)
    return False


ANSWERED_GETS = [
    "word=country1",
    "word=country1&k=3",
    "word=COUNTRY2&k=2",
    "k=4&word=capital2&index=b",
    "word=capital2&index=a",
    "word=noise+1",
    "word=qqzzxx",
    "word=countryy1",
    "word=%E2%82%AC",
    "word=country1&index=nope",
    "word=country1&k=500",  # within --max-k, beyond the index: 422 invalid_value
]
LEFT_GETS = [
    "",
    "word=",
    "word=" + "x" * 257,
    "word=country1&k=0",
    "word=country1&k=abc",
    "word=country1&k=010",
    "word=country1&k=2000",
    "word=country1&index=",
    "word=country1&word=capital1",
    "word=country1&extra=1",
    "index=" + "n" * 65 + "&word=country1",
]


@pytest.mark.parametrize("query", ANSWERED_GETS + LEFT_GETS)
def test_get_answers_equal_fastapis(pair, query):
    hot_answer, plain_answer, answered = _both(pair, "GET", f"/v1/neighbors?{query}")
    assert answered == (1 if query in ANSWERED_GETS else 0)
    assert hot_answer.status_code == plain_answer.status_code
    assert hot_answer.headers["content-type"] == plain_answer.headers["content-type"]
    assert hot_answer.headers["x-request-id"] == REQUEST_ID
    assert hot_answer.content == plain_answer.content
    if query in ANSWERED_GETS and hot_answer.status_code != 200:
        assert hot_answer.json()["request_id"] == REQUEST_ID


def test_the_plain_service_has_no_hot_path(pair):
    hot, plain = pair
    assert _has_hot_path(hot) and not _has_hot_path(plain)


def _chunks(body: bytes) -> Iterator[bytes]:
    yield body[:7]
    yield body[7:]


ANSWERED_POSTS: list[Any] = [
    {"words": ["country1", "qqzzxx", "capital3"], "k": 3},
    {"words": ["capital1", "noise 4"], "k": 2, "index": "b"},
    {"words": ["country1"]},
    {"words": ["country1"], "index": None},
    {"words": ["country1"] * 50, "k": 1},
    {"words": ["country1"], "k": 500},
    {"words": ["country1"], "index": "nope"},
]
LEFT_POSTS: list[Any] = [
    {"vectors": [[0.5] * 32], "k": 2},
    {"words": ["country1"], "k": 3.0},
    {"words": ["country1"], "k": True},
    {"words": ["country1"], "k": 2000},
    {"words": ["country1"] * 51},
    {"words": []},
    {"words": [1]},
    {"words": [""]},
    {"words": ["country1"], "vectors": [[0.5] * 32]},
    {"words": ["country1"], "extra": 1},
    {"words": ["country1"], "index": ""},
    {"words": None},
    ["country1"],
    "{not json",
]


@pytest.mark.parametrize("body", ANSWERED_POSTS + LEFT_POSTS, ids=repr)
def test_post_answers_equal_fastapis(pair, body):
    content = body.encode() if isinstance(body, str) else json.dumps(body).encode()
    headers = {"content-type": "application/json"}
    hot_answer, plain_answer, answered = _both(
        pair, "POST", "/v1/neighbors", content=content, headers=headers
    )
    assert answered == (1 if body in ANSWERED_POSTS else 0)
    assert hot_answer.status_code == plain_answer.status_code
    assert hot_answer.headers["content-type"] == plain_answer.headers["content-type"]
    assert hot_answer.json() == plain_answer.json()


@pytest.mark.parametrize(
    "headers, streamed, answered",
    [
        ({"content-type": "application/x-www-form-urlencoded"}, False, 1),  # curl -d
        ({}, False, 1),  # no type: read as JSON
        ({"content-type": "application/json; charset=utf-8"}, True, 1),  # chunked
        ({"content-type": "text/plain"}, False, 0),
    ],
)
def test_post_body_forms(pair, headers, streamed, answered):
    body = json.dumps({"words": ["country1", "qqzzxx"], "k": 2}).encode()
    headers = {**headers, "x-request-id": REQUEST_ID}
    content: Any = _chunks(body) if streamed else body
    hot, plain = pair
    counter = hot_path_of(hot)
    before = counter.answered
    hot_answer = httpx.post(hot.url + "/v1/neighbors", content=content, headers=headers)
    content = _chunks(body) if streamed else body
    plain_answer = httpx.post(plain.url + "/v1/neighbors", content=content, headers=headers)
    assert counter.answered - before == answered
    assert hot_answer.status_code == plain_answer.status_code
    assert hot_answer.json() == plain_answer.json()


def _metric_lines(text: str) -> list[str]:
    wanted = (
        'embedrec_http_requests_total{method="GET",route="/v1/neighbors"',
        'embedrec_http_requests_total{method="POST",route="/v1/neighbors"',
        'embedrec_http_request_duration_seconds_count{method="GET",route="/v1/neighbors"',
        'embedrec_http_request_duration_seconds_count{method="POST",route="/v1/neighbors"',
        "embedrec_queries_total{",
    )
    return sorted(line for line in text.splitlines() if line.startswith(wanted))


def test_metrics_count_hot_answers_as_fastapis(planted):
    lines = []
    for hot_path in (True, False):
        server = _server(planted, hot_path=hot_path)
        try:
            with httpx.Client(base_url=server.url) as client:
                for word in ("country1", "capital1", "qqzzxx"):
                    client.get("/v1/neighbors", params={"word": word, "k": 2})
                client.get("/v1/neighbors", params={"word": "capital1", "index": "b"})
                client.post("/v1/neighbors", json={"words": ["country1", "qqzzxx"], "k": 2})
                lines.append(_metric_lines(client.get("/metrics").text))
        finally:
            server.stop()
    assert lines[0] == lines[1]
    assert (
        'embedrec_http_requests_total{method="GET",route="/v1/neighbors",status="200"} 3.0'
        in (lines[0])
    )
    assert 'embedrec_queries_total{endpoint="neighbors",index="a"} 4.0' in lines[0]


def test_token_and_root_path(planted):
    server = _server(planted, token="s3cret", root_path="/embedrec")
    try:
        url = server.url + "/embedrec/v1/neighbors"
        refused = httpx.get(url, params={"word": "country1"})
        assert refused.status_code == 401
        assert refused.json()["error"] == "unauthorized"
        assert refused.headers["www-authenticate"] == 'Bearer realm="embedrec"'
        wrong = httpx.post(url, json={"words": ["country1"]}, headers={"authorization": "Bearer x"})
        assert wrong.status_code == 401
        assert hot_path_of(server).answered == 0
        auth = {"authorization": "Bearer s3cret"}
        answer = httpx.get(url, params={"word": "country1", "k": 2}, headers=auth)
        assert answer.status_code == 200 and len(answer.json()["neighbors"]) == 2
        posted = httpx.post(url, json={"words": ["country1"], "k": 2}, headers=auth)
        assert posted.status_code == 200 and posted.json()["index"] == "a"
        assert hot_path_of(server).answered == 2
    finally:
        server.stop()


def test_access_log_names_hot_requests(planted, caplog):
    server = _server_with_log(planted)
    try:
        with caplog.at_level(logging.INFO, logger="embedrec.serving.access"):
            answer = httpx.get(
                server.url + "/v1/neighbors",
                params={"word": "country1"},
                headers={"x-request-id": REQUEST_ID},
            )
    finally:
        server.stop()
    assert answer.status_code == 200 and hot_path_of(server).answered == 1
    lines = [r.getMessage() for r in caplog.records if r.name == "embedrec.serving.access"]
    assert any(
        '"GET /v1/neighbors?word=country1" 200' in line and f"id={REQUEST_ID}" in line
        for line in lines
    ), lines


def _server_with_log(planted: Any) -> LiveServer:
    config = ServeConfig(index=str(planted.index_a), index_name="a", access_log=True)
    return LiveServer(create_app(config)).start()


def test_concurrent_hot_gets_are_coalesced(planted):
    import asyncio

    server = _server(planted, coalesce_ms=1.0, search_threads=2)
    words = ["country1", "capital2", "noise3", "qqzzxx", "noise7", "country4"] * 4
    try:

        async def ask() -> list[httpx.Response]:
            limits = httpx.Limits(max_connections=len(words))
            async with httpx.AsyncClient(base_url=server.url, limits=limits) as client:
                return await asyncio.gather(
                    *(client.get("/v1/neighbors", params={"word": w, "k": 3}) for w in words)
                )

        answers = asyncio.run(ask())
        alone = [httpx.get(server.url + "/v1/neighbors", params={"word": w, "k": 3}) for w in words]
    finally:
        server.stop()
    coalescer = server.app.state.coalescer
    assert hot_path_of(server).answered == 2 * len(words)
    assert coalescer.queries == 2 * len(words)
    assert coalescer.batches < coalescer.queries
    for word, answer, single in zip(words, answers, alone, strict=True):
        assert answer.status_code == single.status_code == (404 if word == "qqzzxx" else 200)
        body, expected = answer.json(), single.json()
        body.pop("request_id", None), expected.pop("request_id", None)
        assert body == expected


@pytest.mark.parametrize("value", ["yes", 1, None])
def test_config_refuses_a_non_boolean_hot_path(value):
    from embedrec.core.errors import ConfigError

    with pytest.raises(ConfigError, match="hot_path"):
        ServeConfig(index="idx", hot_path=value)
