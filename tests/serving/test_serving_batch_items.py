"""Batches answered item by item over real HTTP: an unknown word spoils only its own item."""

from __future__ import annotations

import pytest

from embedrec.indexes import UnknownWordError, load_index
from embedrec.serving import Client


@pytest.fixture(scope="module")
def library(planted):
    return load_index(planted.index_a)


def test_unknown_word_gets_an_error_item_and_the_rest_are_answered(http, library):
    words = ["capital1", "capitl4", "noise3", "qqzzxx"]
    answer = http.post("/v1/neighbors", json={"words": words, "k": 3})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    results = body["results"]
    assert [r["query"] for r in results] == words
    expected = library.neighbors_batch(["capital1", "noise3"], k=3)
    for position, row in zip((0, 2), expected, strict=True):
        assert "error" not in results[position]
        assert [n["token"] for n in results[position]["neighbors"]] == [e.token for e in row]
        assert [n["score"] for n in results[position]["neighbors"]] == pytest.approx(
            [e.score for e in row]
        )
    single = http.get("/v1/neighbors", params={"word": "capitl4"}).json()
    misspelt = results[1]
    assert misspelt["error"] == "unknown_word" and misspelt["neighbors"] == []
    # The same fields as the single route's 404, minus the request id.
    assert {key: misspelt[key] for key in ("detail", "word", "suggestion", "vocab_size")} == {
        key: single[key] for key in ("detail", "word", "suggestion", "vocab_size")
    }
    assert misspelt["suggestion"] == "capital4"
    assert results[3]["error"] == "unknown_word" and results[3]["suggestion"] is None
    print("batch item:", misspelt)


def test_all_unknown_is_still_200_and_single_routes_keep_their_404(http):
    answer = http.post("/v1/neighbors", json={"words": ["zz1", "zz2"], "k": 2})
    assert answer.status_code == 200
    assert [r["error"] for r in answer.json()["results"]] == ["unknown_word"] * 2
    assert http.get("/v1/neighbors", params={"word": "zz1"}).status_code == 404
    assert http.get("/v1/vector", params={"word": "zz1"}).status_code == 404
    # Whole-request mistakes still fail the request.
    too_big = http.post("/v1/neighbors", json={"words": ["capital1", "zz1"], "k": 500})
    assert too_big.status_code == 422 and too_big.json()["error"] == "invalid_value"


def test_client_raises_or_keeps_going(shared_server, library):
    words = ["capital1", "capitl4", "noise3"]
    with Client(shared_server.url) as client:
        with pytest.raises(UnknownWordError, match="capitl4") as raised:
            client.neighbors_batch(words, k=2)
        assert raised.value.suggestion == "capital4"
        got = client.neighbors_batch(words, k=2, on_unknown="empty")
    assert got[1] == []
    assert [got[0], got[2]] == library.neighbors_batch(["capital1", "noise3"], 2)
