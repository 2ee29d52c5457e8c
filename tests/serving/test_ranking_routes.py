"""``/v1/rank`` and ``/v1/recommend`` through real HTTP, checked against the library."""

from __future__ import annotations

import httpx
import numpy as np
import pytest

from embedrec.core.artifacts import read_manifest
from embedrec.engine.ranker.inference import Ranker
from embedrec.pipelines.clicks.dataset import open_click_dataset
from tests.engine.ranker_fixtures import ranker_world


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    return ranker_world(tmp_path_factory)


@pytest.fixture(scope="module")
def ranker(world):
    return Ranker.load(world.model)


@pytest.fixture
def client(world, start_server):
    server = start_server(world.model / "doc_embeddings", ranker=str(world.model), max_batch=50)
    with httpx.Client(base_url=server.url, timeout=30) as session:
        yield session


@pytest.fixture(scope="module")
def query(world):
    """The most frequent query of the train split."""
    queries = open_click_dataset(world.old).read(split="train", columns=["query"])
    values, counts = np.unique(
        queries.column("query").to_numpy(zero_copy_only=False), return_counts=True
    )
    return str(values[np.argmax(counts)])


def test_rank_scores_equal_the_library_and_report_unknown_docs(client, ranker, query):
    docs = [*ranker.catalog.docs[:5], "nosuchdoc"]
    answer = client.post(
        "/v1/rank", json={"query": query, "docs": docs, "features": {"device": "mobile"}}
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    expected = ranker.rank(query, docs, {"device": "mobile"})
    assert [r["doc"] for r in body["results"]] == [r.doc for r in expected.results]
    assert [r["score"] for r in body["results"]] == pytest.approx(
        [r.score for r in expected.results], rel=1e-6
    )
    assert body["unknown_docs"] == ["nosuchdoc"] and body["unknown_words"] == []
    assert "contributions" not in body["results"][0]
    scores = [r["score"] for r in body["results"]]
    assert scores == sorted(scores, reverse=True) and all(0 < s < 1 for s in scores)


def test_rank_explain_returns_each_group_contribution(client, ranker, query):
    docs = ranker.catalog.docs[10:13]
    answer = client.post(
        "/v1/rank",
        params={"explain": "true"},
        json={"query": query, "docs": docs, "features": {"region": "fr"}},
    )
    assert answer.status_code == 200, answer.text
    expected = {r.doc: r for r in ranker.rank(query, docs, {"region": "fr"}, explain=True).results}
    for item in answer.json()["results"]:
        want = expected[item["doc"]]
        assert set(item["contributions"]) == {"query", "title", "doc", "device", "region"}
        assert item["contributions"] == pytest.approx(want.contributions, abs=1e-6)
        assert item["contributions"]["device"] == 0.0  # not given
        assert item["retrieval_score"] == pytest.approx(want.retrieval, abs=1e-5)


def test_rank_errors_are_json_not_500(client, ranker):
    # Answered doc by doc: no known doc is not an error of the request.
    unknown = client.post("/v1/rank", json={"query": "x", "docs": ["nope1", "nope2"]})
    assert unknown.status_code == 200, unknown.text
    assert unknown.json()["results"] == [] and unknown.json()["unknown_docs"] == ["nope1", "nope2"]
    bad = client.post(
        "/v1/rank",
        json={"query": "x", "docs": ranker.catalog.docs[:1], "features": {"colour": "red"}},
    )
    assert bad.status_code == 422 and bad.json()["key"] == "features"
    many = client.post("/v1/rank", json={"query": "x", "docs": ranker.catalog.docs[:51]})
    assert many.status_code == 413
    empty = client.post("/v1/rank", json={"query": "x", "docs": []})
    assert empty.status_code == 422


def test_recommend_retrieves_by_ann_and_orders_by_the_ranker(client, ranker, query):
    answer = client.get("/v1/recommend", params={"query": query, "k": 5, "candidates": 40})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["retrieval"] == "ann" and body["candidates"] == 40 and body["k"] == 5
    # The same by hand: exact inner-product top 40 of q·v, then the ranker's order.
    encoding = ranker.encode_query(query)
    scores = ranker.doc_vectors(ranker.catalog.ids) @ ranker.query_vector(encoding)
    top = ranker.catalog.ids[np.argsort(-scores, kind="stable")[:40]]
    expected = ranker.rank_ids(encoding, top).results[:5]
    assert [r["doc"] for r in body["results"]] == [r.doc for r in expected]
    assert [r["score"] for r in body["results"]] == pytest.approx([r.score for r in expected])


def test_recommend_finds_docs_the_query_was_clicked_on(client, world, query):
    table = open_click_dataset(world.old).read(split="train", columns=["query", "doc", "label"])
    rows = table.to_pylist()
    clicked = {r["doc"] for r in rows if r["query"] == query and r["label"] == 1}
    answer = client.get("/v1/recommend", params={"query": query, "k": 10}).json()
    found = [r["doc"] for r in answer["results"]]
    assert len(set(found) & clicked) >= 3, (found, clicked)


def test_recommend_falls_back_to_popular_docs_without_known_words(client, ranker):
    answer = client.get("/v1/recommend", params={"query": "qqzz xxyy", "k": 5})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["retrieval"] == "popular" and body["unknown_words"] == ["qqzz", "xxyy"]
    popular = {ranker.vocabs["doc"].values[i] for i in ranker.catalog.popular(100).tolist()}
    assert {r["doc"] for r in body["results"]} <= popular and len(body["results"]) == 5


def test_recommend_context_features_and_bad_parameters(client, query):
    plain = client.get("/v1/recommend", params={"query": query, "k": 3}).json()
    mobile = client.get("/v1/recommend", params={"query": query, "k": 3, "device": "mobile"})
    assert mobile.status_code == 200
    assert [r["score"] for r in mobile.json()["results"]] != [r["score"] for r in plain["results"]]
    bad = client.get("/v1/recommend", params={"query": query, "colour": "red"})
    assert bad.status_code == 422 and bad.json()["key"] == "colour"
    assert client.get("/v1/recommend", params={"query": query, "k": 0}).status_code == 422
    assert client.get("/v1/recommend").status_code == 422


def test_doc_index_is_built_once_in_the_model_directory(client, world):
    manifest = read_manifest(world.model / "doc_index")
    assert manifest["kind"] == "index" and manifest["metric"] == "ip"
    assert manifest["counts"]["vectors"] == len(Ranker.load(world.model).catalog)


def test_ranker_reloads_beside_the_old_one(world, start_server, ranker, query, tmp_path):
    import shutil

    token = "ranker-token"
    auth = {"authorization": f"Bearer {token}"}
    server = start_server(world.model / "doc_embeddings", ranker=str(world.model), token=token)
    copy = tmp_path / "ranker-copy"
    shutil.copytree(world.model, copy)
    docs = ranker.catalog.docs[:4]
    expected = [r.score for r in ranker.rank(query, docs).results]
    with httpx.Client(base_url=server.url, headers=auth, timeout=60) as session:
        answer = session.post("/admin/reload-ranker", json={"ranker": str(copy)})
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert body["ranker"] == {"path": str(copy.resolve()), "generation": 1}
        assert body["previous"]["path"] == str(world.model.resolve())
        assert body["workers"]["complete"] is True
        ranked = session.post("/v1/rank", json={"query": query, "docs": docs}).json()
        assert [r["score"] for r in ranked["results"]] == pytest.approx(expected, rel=1e-6)
        refused = session.post("/admin/reload-ranker", json={"ranker": str(tmp_path / "none")})
        assert refused.status_code == 422 and refused.json()["error"] == "invalid_ranker"
        assert "still ranking with" in refused.json()["detail"]
        assert session.post("/v1/rank", json={"query": query, "docs": docs}).status_code == 200
        again = session.post("/admin/reload-ranker").json()  # the current directory again
        assert again["ranker"] == {"path": str(copy.resolve()), "generation": 2}
