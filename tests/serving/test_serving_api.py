"""Every endpoint through real HTTP against a running uvicorn server, checked against the
library's own answers on the same index."""

from __future__ import annotations

import numpy as np
import pytest

from embedrec.indexes import load_index
from embedrec.serving.projection import pca_2d


@pytest.fixture(scope="module")
def library(planted):
    return load_index(planted.index_a)


def test_neighbors_get_equals_library(http, library):
    answer = http.get("/v1/neighbors", params={"word": "capital2", "k": 4})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    expected = library.neighbors("capital2", k=4)
    assert body["word"] == "capital2" and body["k"] == 4 and body["metric"] == "cosine"
    assert [n["token"] for n in body["neighbors"]] == [e.token for e in expected]
    assert [n["score"] for n in body["neighbors"]] == pytest.approx([e.score for e in expected])
    assert body["neighbors"][0]["token"] == "country2"  # planted: its own country is nearest
    assert answer.headers["content-type"] == "application/json"
    assert len(answer.headers["x-request-id"]) == 32


def test_neighbors_post_words_and_vectors(http, library):
    words = ["country1", "noise7", "capital5"]
    answer = http.post("/v1/neighbors", json={"words": words, "k": 3})
    assert answer.status_code == 200, answer.text
    results = answer.json()["results"]
    assert [r["query"] for r in results] == words
    expected = library.neighbors_batch(words, k=3)
    assert [[n["token"] for n in r["neighbors"]] for r in results] == [
        [e.token for e in row] for row in expected
    ]
    # Raw vectors: the stored vector of a word finds that word first (itself not excluded).
    vectors = library.rows([library.id("noise7"), library.id("capital3")]) * 3.0
    answer = http.post("/v1/neighbors", json={"vectors": vectors.tolist(), "k": 2})
    assert answer.status_code == 200, answer.text
    results = answer.json()["results"]
    assert [r["query"] for r in results] == [0, 1]
    assert [r["neighbors"][0]["token"] for r in results] == ["noise7", "capital3"]
    assert results[0]["neighbors"][0]["score"] == pytest.approx(1.0, abs=1e-5)


def test_curl_style_form_content_type_is_read_as_json(http):
    # `curl -X POST URL -d '{...}'` labels the body application/x-www-form-urlencoded.
    answer = http.post(
        "/v1/neighbors",
        content=b'{"words": ["capital1"], "k": 1}',
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["results"][0]["neighbors"][0]["token"] == "country1"


def test_analogy_both_methods(http, library):
    for method in ("3cosadd", "3cosmul"):
        params = {"a": "country1", "b": "capital1", "c": "country4", "k": 3, "method": method}
        answer = http.get("/v1/analogy", params=params)
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert body["method"] == method and body["answers"][0]["token"] == "capital4"
        expected = library.analogy("country1", "capital1", "country4", k=3, method=method)
        assert [a["token"] for a in body["answers"]] == [e.token for e in expected]
    default = http.get("/v1/analogy", params={"a": "country0", "b": "capital0", "c": "country2"})
    assert default.json()["k"] == 5 and default.json()["method"] == "3cosadd"


def test_vector_and_map(http, library):
    answer = http.get("/v1/vector", params={"word": "noise3"})
    assert answer.status_code == 200
    vector = np.array(answer.json()["vector"])
    np.testing.assert_allclose(vector, library.vector("noise3"), rtol=1e-6)
    assert answer.json()["dim"] == library.dim == len(vector)

    answer = http.get("/v1/map", params={"word": "capital3", "k": 6})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    points = body["points"]
    assert points[0] == {**points[0], "token": "capital3", "role": "query"}
    assert [p["token"] for p in points[1:]] == [n.token for n in library.neighbors("capital3", 6)]
    ids = [library.id(p["token"]) for p in points]
    coords, explained = pca_2d(library.rows(ids))
    np.testing.assert_allclose([[p["x"], p["y"]] for p in points], coords, atol=1e-6)
    np.testing.assert_allclose(body["explained_variance"], explained)
    assert 0 < sum(body["explained_variance"]) <= 1 + 1e-9


def test_healthz_reports_index_kind_and_recall(http, planted):
    body = http.get("/healthz").json()
    assert body["status"] == "ok"
    index = body["index"]
    assert index["path"] == str(planted.index_a.resolve()) and index["name"] == "index-a"
    assert body["default_index"] == "index-a" and list(body["indexes"]) == ["index-a"]
    assert index["kind"] == "flat" and index["exact"] is True and index["recall_at_10"] == 1.0
    assert index["vectors"] == 132 and index["dim"] == 32 and index["generation"] == 0
    assert body["settings"]["host"] == "127.0.0.1" and body["settings"]["token"] is None


def test_metrics_count_requests_and_describe_the_index(http):
    for _ in range(3):
        http.get("/v1/neighbors", params={"word": "capital1", "k": 2})
    http.get("/v1/neighbors", params={"word": "nosuchword"})
    http.post("/v1/neighbors", json={"words": ["capital1", "capital2"], "k": 1})
    answer = http.get("/metrics")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain")
    samples = _samples(answer.text)
    key = 'embedrec_http_requests_total{method="GET",route="/v1/neighbors",status="200"}'
    assert samples[key] >= 3
    assert samples['embedrec_http_requests_total{method="GET",route="/v1/neighbors",status="404"}']
    bucket = 'embedrec_http_request_duration_seconds_count{method="GET",route="/v1/neighbors"}'
    assert samples[bucket] >= 4
    # Labelled by index: a bare directory is named after its folder.
    assert samples['embedrec_queries_total{endpoint="neighbors",index="index-a"}'] >= 5
    assert samples['embedrec_index_vectors{index="index-a"}'] == 132
    assert samples['embedrec_index_dim{index="index-a"}'] == 32
    assert samples['embedrec_index_recall_at_10{index="index-a"}'] == 1.0
    assert any(k.startswith("embedrec_index_info{") and 'kind="flat"' in k for k in samples)
    assert any(k.startswith("embedrec_build_info{") for k in samples)
    # Unknown paths share one label instead of one per path.
    http.get("/no/such/path/123")
    assert 'route="unmatched"' in http.get("/metrics").text


def test_explorer_page_and_docs(http):
    page = http.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "default-src 'none'" in page.headers["content-security-policy"]
    assert 'id="search-form"' in page.text and "<canvas" in page.text
    assert "http" not in page.text.split("<footer>")[0].replace("http-equiv", "")
    script = http.get("/static/explorer.js")
    assert script.status_code == 200 and "v1/neighbors" in script.text
    assert "https://" not in script.text and "http://" not in script.text
    assert http.get("/static/explorer.css").status_code == 200
    assert http.get("/static/../app.py").status_code == 404
    assert http.get("/static/secret.txt").json()["error"] == "not_found"
    schema = http.get("/openapi.json").json()
    assert {"/v1/neighbors", "/v1/analogy", "/healthz", "/admin/reload"} <= set(schema["paths"])
    docs = http.get("/docs")
    assert docs.status_code == 200
    # Swagger UI comes from this server, not a CDN, so /docs works offline.
    assert "/docs/assets/swagger-ui-bundle.js" in docs.text
    assert "cdn" not in docs.text.lower()
    assert http.get("/docs/assets/swagger-ui-bundle.js").status_code == 200


def test_request_id_is_kept_when_sane(http):
    answer = http.get("/healthz", headers={"x-request-id": "trace-42"})
    assert answer.headers["x-request-id"] == "trace-42"
    answer = http.get("/healthz", headers={"x-request-id": "bad id\twith tab"})
    assert answer.headers["x-request-id"] != "bad id\twith tab"


def _samples(text: str) -> dict[str, float]:
    samples = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            samples[name] = float(value)
    return samples
