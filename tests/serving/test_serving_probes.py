"""``/healthz`` and ``/readyz`` over real HTTP: without the token they answer and say only the
status; with it (or on a service without one) they say what is served."""

from __future__ import annotations

import httpx
import pytest

TOKEN = "probe-token"
AUTH = {"authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def guarded(start_server, planted):
    return start_server(planted.index_a, token=TOKEN)


def test_probes_answer_without_the_token_and_reveal_nothing(guarded, planted):
    with httpx.Client(base_url=guarded.url, timeout=10) as client:
        for headers in ({}, {"authorization": "Bearer wrong"}, {"authorization": "Basic eDp5"}):
            health = client.get("/healthz", headers=headers)
            assert health.status_code == 200 and health.json() == {"status": "ok"}
            ready = client.get("/readyz", headers=headers)
            assert ready.status_code == 200 and ready.json() == {"status": "ready"}
            for answer in (health, ready):
                assert str(planted.index_a) not in answer.text and "version" not in answer.text
        print("without the token:", health.json(), ready.json())
        assert client.head("/healthz").status_code == 200
        assert client.head("/readyz").status_code == 200
        # Everything else still needs it.
        assert client.get("/v1/indexes").status_code == 401
        assert client.get("/metrics").status_code == 401
        assert client.post("/healthz").status_code == 401  # only GET is a probe
        # With the token: the full description, as before.
        full = client.get("/healthz", headers=AUTH).json()
        assert full["index"]["path"] == str(planted.index_a.resolve())
        assert full["version"] and full["settings"]["token"] == "<set>"
        ready = client.get("/readyz", headers=AUTH).json()
        assert ready["status"] == "ready" and ready["indexes"]["index-a"]["search_ms"] >= 0
        print("with the token:", ready)


def test_readyz_runs_a_search_and_fails_when_it_cannot(start_server, planted):
    server = start_server(planted.index_a)
    state = server.app.state.embedrec
    with httpx.Client(base_url=server.url, timeout=10) as client:
        assert client.get("/readyz").json()["status"] == "ready"
        index = state.current().index

        def broken(*_args, **_kwargs):
            raise RuntimeError("the index cannot search")

        original = index.search
        index.search = broken  # the probe's search now fails: not ready, and the log says why
        try:
            answer = client.get("/readyz")
        finally:
            index.search = original
        assert answer.status_code == 503
        body = answer.json()
        assert body["status"] == "not_ready" and body["error"] == "not_ready"
        assert "index-a" in body["detail"]  # no token configured: the caller is trusted
        assert client.get("/healthz").status_code == 200  # alive, just not ready
        assert client.get("/readyz").status_code == 200
