"""Bearer token: every endpoint when set; admin endpoints always; CORS off unless asked."""

from __future__ import annotations

import httpx
import pytest

TOKEN = "t0ken-for-tests"
# Every endpoint but the probes (/healthz, /readyz: tests/serving/test_serving_probes.py).
PATHS = [
    ("GET", "/metrics"),
    ("GET", "/v1/indexes"),
    ("GET", "/v1/neighbors?word=capital1"),
    ("POST", "/v1/neighbors"),
    ("GET", "/v1/analogy?a=country1&b=capital1&c=country2"),
    ("GET", "/v1/map?word=capital1"),
    ("GET", "/"),
    ("GET", "/static/explorer.js"),
    ("GET", "/docs"),
    ("GET", "/openapi.json"),
    ("POST", "/admin/reload"),
]


@pytest.fixture
def guarded(start_server, planted):
    return start_server(planted.index_a, token=TOKEN)


def _request(client: httpx.Client, method: str, path: str, **kwargs) -> httpx.Response:
    if method == "POST" and path == "/v1/neighbors":
        kwargs.setdefault("json", {"words": ["capital1"]})
    return client.request(method, path, **kwargs)


def test_token_protects_every_endpoint(guarded):
    with httpx.Client(base_url=guarded.url) as client:
        for method, path in PATHS:
            answer = _request(client, method, path)
            assert answer.status_code == 401, (method, path, answer.text)
            assert answer.json()["error"] == "unauthorized"
            assert "missing bearer token" in answer.json()["detail"]
            wrong = _request(client, method, path, headers={"authorization": "Bearer nope"})
            assert wrong.status_code == 401 and "wrong token" in wrong.json()["detail"]
        bearer = {"authorization": f"Bearer {TOKEN}"}
        for method, path in PATHS:
            answer = _request(client, method, path, headers=bearer)
            assert answer.status_code == 200, (method, path, answer.text)


def test_browser_pages_ask_for_basic_auth_and_accept_it(guarded):
    with httpx.Client(base_url=guarded.url) as client:
        page = client.get("/")
        assert page.headers["www-authenticate"] == 'Basic realm="embedrec"'
        api = client.get("/v1/neighbors", params={"word": "capital1"})
        assert api.headers["www-authenticate"] == 'Bearer realm="embedrec"'
        basic = httpx.BasicAuth("anyone", TOKEN)
        assert client.get("/", auth=basic).status_code == 200
        assert client.get("/v1/neighbors", params={"word": "capital1"}, auth=basic).is_success
        assert client.get("/", auth=httpx.BasicAuth("anyone", "wrong")).status_code == 401
        # Admin endpoints take only the bearer form: browsers resend Basic credentials on
        # their own, even for a form another site posts.
        refused = client.post("/admin/reload", auth=basic)
        assert refused.status_code == 401 and "bearer form" in refused.json()["detail"]


def test_without_a_token_admin_is_refused_and_the_rest_is_open(start_server, planted):
    server = start_server(planted.index_a)
    with httpx.Client(base_url=server.url) as client:
        answer = client.post("/admin/reload", json={"index": str(planted.index_b)})
        assert answer.status_code == 403 and answer.json()["error"] == "forbidden"
        assert "--token or EMBEDREC_TOKEN" in answer.json()["detail"]
        answer = client.post("/admin/reload", json={}, headers={"authorization": "Bearer anything"})
        assert answer.status_code == 403
        assert client.get("/healthz").json()["index"]["generation"] == 0
        assert client.get("/v1/neighbors", params={"word": "capital1"}).status_code == 200


def test_cors_is_off_by_default_and_on_for_named_origins(start_server, planted, http):
    origin = {"origin": "https://elsewhere.example"}
    answer = http.get("/healthz", headers=origin)
    assert "access-control-allow-origin" not in answer.headers
    preflight = http.options(
        "/v1/neighbors",
        headers={**origin, "access-control-request-method": "POST"},
    )
    assert "access-control-allow-origin" not in preflight.headers

    server = start_server(planted.index_a, cors_origins=("https://app.example",), token=TOKEN)
    with httpx.Client(base_url=server.url) as client:
        allowed = {"origin": "https://app.example"}
        preflight = client.options(
            "/v1/neighbors",
            headers={
                **allowed,
                "access-control-request-method": "POST",
                "access-control-request-headers": "authorization, content-type",
            },
        )
        assert preflight.status_code == 200
        assert preflight.headers["access-control-allow-origin"] == "https://app.example"
        answer = client.get("/healthz", headers={**allowed, "authorization": f"Bearer {TOKEN}"})
        assert answer.headers["access-control-allow-origin"] == "https://app.example"
        other = client.get("/healthz", headers={**origin, "authorization": f"Bearer {TOKEN}"})
        assert "access-control-allow-origin" not in other.headers


def test_token_is_never_shown(guarded):
    with httpx.Client(base_url=guarded.url) as client:
        health = client.get("/healthz", headers={"authorization": f"Bearer {TOKEN}"})
        assert health.json()["settings"]["token"] == "<set>"
        assert TOKEN not in health.text
    from embedrec.serving.config import ServeConfig

    config = ServeConfig(index="x", token=TOKEN)
    assert TOKEN not in repr(config) and TOKEN not in str(config.public_dict())
