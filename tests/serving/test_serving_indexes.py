"""Several named indexes in one service, over real HTTP: ``/v1/indexes``, ``index=`` on every
query route, the default, reloads of one index at a time, metrics by index."""

from __future__ import annotations

import httpx
import pytest

from embedrec.indexes import load_index

TOKEN = "indexes-token"
AUTH = {"authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def two(start_server, planted):
    """``a`` (planted.index_a, the default) and ``b`` (planted.index_b), with a token."""
    return start_server(
        planted.index_a,
        index_name="a",
        more_indexes=(("b", str(planted.index_b)),),
        token=TOKEN,
    )


def _tokens(answer: httpx.Response, key: str = "neighbors") -> list[str]:
    assert answer.status_code == 200, answer.text
    return [n["token"] for n in answer.json()[key]]


def test_index_parameter_on_every_query_route(two, planted):
    a, b = load_index(planted.index_a), load_index(planted.index_b)
    with httpx.Client(base_url=two.url, headers=AUTH, timeout=10) as client:
        listed = client.get("/v1/indexes").json()
        assert listed["default"] == "a"
        assert [(i["name"], i["dim"], i["vectors"], i["kind"]) for i in listed["indexes"]] == [
            ("a", 32, 132, "flat"),
            ("b", 32, 132, "flat"),
        ]
        assert listed["indexes"][1]["path"] == str(planted.index_b.resolve())  # with the token
        print("indexes:", listed)

        word = {"word": "capital1", "k": 4}
        assert _tokens(client.get("/v1/neighbors", params=word)) == [
            n.token for n in a.neighbors("capital1", 4)
        ]
        for name, library in (("a", a), ("b", b)):
            answer = client.get("/v1/neighbors", params={**word, "index": name})
            assert _tokens(answer) == [n.token for n in library.neighbors("capital1", 4)]
            assert answer.json()["index"] == name
            batch = client.post("/v1/neighbors", json={"words": ["noise3"], "k": 3, "index": name})
            assert batch.json()["index"] == name
            assert [n["token"] for n in batch.json()["results"][0]["neighbors"]] == [
                n.token for n in library.neighbors("noise3", 3)
            ]
            analogy = {"a": "country1", "b": "capital1", "c": "country3", "index": name}
            assert _tokens(client.get("/v1/analogy", params=analogy), "answers") == [
                n.token for n in library.analogy("country1", "capital1", "country3", 5)
            ]
            vector = client.get("/v1/vector", params={"word": "noise1", "index": name}).json()
            assert vector["vector"] == pytest.approx(library.vector("noise1").tolist(), abs=1e-6)
            word_map = client.get("/v1/map", params={"word": "noise1", "k": 3, "index": name})
            assert word_map.json()["index"] == name
        assert _tokens(client.get("/v1/neighbors", params=word)) != _tokens(
            client.get("/v1/neighbors", params={**word, "index": "b"})
        )
        unknown = client.get("/v1/neighbors", params={**word, "index": "c"})
        assert unknown.status_code == 404 and unknown.json()["error"] == "unknown_index"
        assert unknown.json()["indexes"] == ["a", "b"]
        post = client.post("/v1/neighbors", json={"words": ["noise1"], "index": "c"})
        assert post.status_code == 404 and post.json()["error"] == "unknown_index"
        metrics = client.get("/metrics").text
        assert 'embedrec_queries_total{endpoint="neighbors",index="b"}' in metrics
        assert 'embedrec_index_vectors{index="b"} 132.0' in metrics


def test_paths_only_with_the_token(start_server, planted):
    open_service = start_server(planted.index_a, more_indexes=(("b", str(planted.index_b)),))
    guarded = start_server(planted.index_a, token=TOKEN, cors_origins=("https://a.example",))
    # A service without a token trusts whoever reaches it (loopback by default).
    listed = httpx.get(open_service.url + "/v1/indexes").json()
    assert [i["name"] for i in listed["indexes"]] == ["index-a", "b"]
    assert listed["indexes"][0]["path"] == str(planted.index_a.resolve())
    # With a token, the listing needs it, and only then shows paths.
    assert httpx.get(guarded.url + "/v1/indexes").status_code == 401
    assert "path" in httpx.get(guarded.url + "/v1/indexes", headers=AUTH).json()["indexes"][0]


def test_default_index_and_reloading_one_index(start_server, planted):
    server = start_server(
        planted.index_a,
        index_name="a",
        more_indexes=(("b", str(planted.index_b)),),
        default_index="b",
        token=TOKEN,
    )
    b = load_index(planted.index_b)
    with httpx.Client(base_url=server.url, headers=AUTH, timeout=30) as client:
        assert client.get("/v1/indexes").json()["default"] == "b"
        word = {"word": "capital2", "k": 3}
        assert _tokens(client.get("/v1/neighbors", params=word)) == [
            n.token for n in b.neighbors("capital2", 3)
        ]
        # Reload index "a" from b's directory: only "a" changes.
        answer = client.post("/admin/reload", json={"name": "a", "index": str(planted.index_b)})
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert body["name"] == "a" and body["index"]["generation"] == 1
        health = client.get("/healthz").json()["indexes"]
        assert health["a"]["generation"] == 1 and health["b"]["generation"] == 0
        assert health["a"]["path"] == str(planted.index_b.resolve())
        assert _tokens(client.get("/v1/neighbors", params={**word, "index": "a"})) == [
            n.token for n in b.neighbors("capital2", 3)
        ]
        # A broken directory is refused for that index; it keeps serving.
        refused = client.post("/admin/reload", json={"name": "b", "index": str(planted.broken)})
        assert refused.status_code == 422 and refused.json()["error"] == "invalid_index"
        assert "as index 'b'" in refused.json()["detail"]
        missing = client.post("/admin/reload", json={"name": "zz"})
        assert missing.status_code == 404 and missing.json()["error"] == "unknown_index"
        # An empty body reloads the default index.
        again = client.post("/admin/reload").json()
        assert again["name"] == "b" and again["index"]["generation"] == 1
        metrics = client.get("/metrics").text
        assert 'embedrec_index_generation{index="a"} 1.0' in metrics
        assert 'embedrec_index_generation{index="b"} 1.0' in metrics


def test_ranker_reload_without_a_ranker_is_refused(two):
    answer = httpx.post(two.url + "/admin/reload-ranker", headers=AUTH, json={})
    assert answer.status_code == 422 and answer.json()["key"] == "ranker"
    assert httpx.post(two.url + "/admin/reload-ranker", json={}).status_code == 401
