"""The service answers from a sharded index exactly as from the unsharded one."""

from __future__ import annotations

import httpx
from serving_fixtures import build_index_dir


def test_sharded_service_equals_unsharded(start_server, planted, tmp_path):
    sharded = build_index_dir(planted.model_a, tmp_path / "sharded", kind="flat", shards=3)
    one, three = start_server(planted.index_a), start_server(sharded)
    with httpx.Client(timeout=10) as client:
        assert client.get(three.url + "/healthz").json()["index"]["shards"] == 3
        words = [f"noise{i}" for i in range(0, 120, 7)] + ["capital0", "country5"]
        body = {"words": words, "k": 8}
        expected = client.post(one.url + "/v1/neighbors", json=body).json()
        got = client.post(three.url + "/v1/neighbors", json=body).json()
        assert got.pop("index") == "sharded" and expected.pop("index") == "index-a"
        assert got == expected
        params = {"a": "country2", "b": "capital2", "c": "country4", "method": "3cosmul"}
        got = client.get(three.url + "/v1/analogy", params=params).json()
        expected = client.get(one.url + "/v1/analogy", params=params).json()
        assert [a["token"] for a in got["answers"]] == [a["token"] for a in expected["answers"]]
        assert 'shards="3"' in client.get(three.url + "/metrics").text
