"""Coalesced ``GET /v1/neighbors``: concurrent single queries answered by one FAISS search,
each exactly as a lone search answers it, never mixing indexes, unknown words failing alone."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from embedrec.core.errors import ConfigError
from embedrec.indexes import load_index
from embedrec.indexes.errors import UnknownWordError
from embedrec.serving.coalescer import Coalescer, search_words
from embedrec.serving.config import ServeConfig
from embedrec.serving.state import ServiceState, open_snapshot


def _lone(index, word, k):
    return [{"token": s.token, "score": s.score} for s in index.neighbors(word, k)]


async def _burst(url: str, queries: list[dict[str, object]]) -> list[httpx.Response]:
    limits = httpx.Limits(max_connections=len(queries))
    async with httpx.AsyncClient(base_url=url, timeout=20, limits=limits) as client:
        return await asyncio.gather(*(client.get("/v1/neighbors", params=q) for q in queries))


def test_concurrent_http_queries_get_lone_answers(planted, start_server):
    server = start_server(
        planted.index_a,
        index_name="a",
        more_indexes=(("b", str(planted.index_b)),),
        coalesce_ms=1.0,
        search_threads=2,
    )
    indexes = {"a": load_index(planted.index_a), "b": load_index(planted.index_b)}
    words = indexes["a"].tokens[:40]
    queries: list[dict[str, object]] = []
    for i, word in enumerate(words):
        queries.append({"word": word, "k": 3 + i % 2, "index": "ab"[i % 2]})
    queries.insert(7, {"word": "qqzzxx", "k": 3, "index": "a"})
    queries.insert(20, {"word": "zzqqyy", "k": 4, "index": "b"})
    for _ in range(3):  # several bursts: the batching depends on timing, the answers never
        answers = asyncio.run(_burst(server.url, queries))
        for query, answer in zip(queries, answers, strict=True):
            name, word, k = str(query["index"]), str(query["word"]), int(query["k"])  # type: ignore[call-overload]
            if word in ("qqzzxx", "zzqqyy"):
                assert answer.status_code == 404, answer.text
                assert answer.json()["error"] == "unknown_word"
                assert answer.json()["word"] == word
                continue
            assert answer.status_code == 200, answer.text
            body = answer.json()
            assert (body["word"], body["k"], body["index"]) == (word, k, name)
            assert body["neighbors"] == _lone(indexes[name], word, k)
    coalescer = server.app.state.coalescer
    assert coalescer is not None and coalescer.queries == 3 * len(queries)
    assert coalescer.batches < coalescer.queries  # some requests did share a search


def _items(found):
    """The library's answers as the service's answer items."""
    return [{"token": item.token, "score": item.score} for item in found]


def _state(planted, **settings):
    config = ServeConfig(index=str(planted.index_a), **settings)
    return ServiceState(config, open_snapshot(planted.index_a, 0, "a"))


def test_a_batch_never_mixes_snapshots(planted):
    """Requests gathering while a reload swaps the index: each batch holds one snapshot."""
    state = _state(planted, search_threads=0)
    old = state.current("a")
    new = open_snapshot(planted.index_b, 1, "a")
    seen: list[tuple[object, list[str]]] = []

    async def run(func, index, words, k):
        seen.append((index, list(words)))
        return func(index, words, k)

    async def main():
        coalescer = Coalescer(run, window=0.001)
        words = old.index.tokens[:6]
        first = [coalescer.neighbors(old, w, 3) for w in words[:3]]
        second = [coalescer.neighbors(new, w, 3) for w in words[3:]]
        return await asyncio.gather(*first, *second)

    answers = asyncio.run(main())
    assert [(index, words) for index, words in seen] == [
        (old.index, old.index.tokens[:3]),
        (new.index, old.index.tokens[3:6]),
    ]
    for word, answer in zip(old.index.tokens[:3], answers[:3], strict=True):
        assert answer == _items(old.index.neighbors(word, 3))
    for word, answer in zip(old.index.tokens[3:6], answers[3:], strict=True):
        assert answer == _items(new.index.neighbors(word, 3))


def test_unknown_words_and_bad_k_fail_alone(planted):
    index = load_index(planted.index_a)
    words = [index.tokens[0], "qqzzxx", index.tokens[1]]
    outcomes = search_words(index, words, 2)
    assert outcomes[0] == _items(index.neighbors(words[0], 2))
    assert isinstance(outcomes[1], UnknownWordError)
    assert outcomes[2] == _items(index.neighbors(words[2], 2))
    too_many = search_words(index, [index.tokens[0], "qqzzxx"], len(index))
    assert isinstance(too_many[0], ConfigError) and isinstance(too_many[1], UnknownWordError)


def test_full_batch_searches_at_once(planted):
    state = _state(planted, search_threads=0)
    snapshot = state.current("a")

    async def main():
        coalescer = Coalescer(state.run, window=0.001, max_size=4)
        words = snapshot.index.tokens[:8]
        answers = await asyncio.gather(*(coalescer.neighbors(snapshot, w, 2) for w in words))
        return coalescer, words, answers

    coalescer, words, answers = asyncio.run(main())
    assert coalescer.batches == 2
    assert answers == [_items(snapshot.index.neighbors(w, 2)) for w in words]


@pytest.mark.parametrize("window", [0.0, 0.002, -1.0])
def test_window_is_bounded(window):
    with pytest.raises(ValueError):
        Coalescer(lambda *a: None, window=window)  # type: ignore[arg-type,return-value]


@pytest.mark.parametrize("value", [-0.1, 1.5, True, "1"])
def test_config_refuses_bad_windows(value):
    with pytest.raises(ConfigError, match="coalesce_ms"):
        ServeConfig(index="idx", coalesce_ms=value)


def test_prebuilt_answer_is_the_documented_model(http):
    """The hot route's prebuilt JSON is what FastAPI would make from NeighborsAnswer."""
    from embedrec.serving.routes.api_models import NeighborsAnswer

    answer = http.get("/v1/neighbors", params={"word": "capital1", "k": 3})
    assert answer.status_code == 200 and answer.headers["content-type"] == "application/json"
    body = answer.json()
    expected = NeighborsAnswer.model_validate(body).model_dump(mode="json")
    assert list(body) == list(expected) and body == expected
    schema = http.get("/openapi.json").json()["paths"]["/v1/neighbors"]["get"]["responses"]
    assert schema["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/NeighborsAnswer"
    }
