"""Hot reload: indexes swap while requests flow; no request fails or sees a half index; a
broken index is refused and the old one keeps serving."""

from __future__ import annotations

import threading
import time

import httpx
import pytest

from embedrec.indexes import load_index

TOKEN = "reload-token"
AUTH = {"authorization": f"Bearer {TOKEN}"}
WORDS = ["capital1", "country3", "noise5"]


def _expected(index_dir) -> tuple:
    index = load_index(index_dir)
    single = tuple(n.token for n in index.neighbors("capital1", k=5))
    batch = tuple(tuple(n.token for n in row) for row in index.neighbors_batch(WORDS, k=3))
    return single, batch


def test_reload_under_concurrent_requests_never_fails(start_server, planted):
    server = start_server(planted.index_a, token=TOKEN)
    single_a, batch_a = _expected(planted.index_a)
    single_b, batch_b = _expected(planted.index_b)
    assert single_a != single_b and batch_a != batch_b  # the two indexes are told apart

    stop = threading.Event()
    failures: list[str] = []
    seen = {"a": 0, "b": 0}
    answered = [0]
    lock = threading.Lock()

    def hammer(batch: bool) -> None:
        with httpx.Client(base_url=server.url, headers=AUTH, timeout=30) as client:
            while not stop.is_set():
                try:
                    if batch:
                        answer = client.post("/v1/neighbors", json={"words": WORDS, "k": 3})
                        results = answer.json()["results"]
                        got = tuple(tuple(n["token"] for n in r["neighbors"]) for r in results)
                        which = "a" if got == batch_a else "b" if got == batch_b else None
                    else:
                        answer = client.get("/v1/neighbors", params={"word": "capital1", "k": 5})
                        got = tuple(n["token"] for n in answer.json()["neighbors"])
                        which = "a" if got == single_a else "b" if got == single_b else None
                except (httpx.HTTPError, KeyError, ValueError) as exc:
                    failures.append(repr(exc))
                    continue
                with lock:
                    answered[0] += 1
                    if answer.status_code != 200 or which is None:
                        failures.append(f"{answer.status_code}: {answer.text[:200]}")
                    else:
                        seen[which] += 1

    threads = [threading.Thread(target=hammer, args=(i % 2 == 1,)) for i in range(4)]
    for thread in threads:
        thread.start()
    try:
        with httpx.Client(base_url=server.url, headers=AUTH, timeout=30) as admin:
            for i in range(20):
                target = planted.index_b if i % 2 == 0 else planted.index_a
                answer = admin.post("/admin/reload", json={"index": str(target)})
                assert answer.status_code == 200, answer.text
                body = answer.json()
                assert body["index"]["path"] == str(target.resolve())
                assert body["index"]["generation"] == i + 1
                assert body["workers"] == {
                    "expected": 1,
                    "reloaded": 1,
                    "failed": [],
                    "complete": True,
                }
                # A broken index between good ones: refused, the good one keeps serving.
                if i == 10:
                    refused = admin.post("/admin/reload", json={"index": str(planted.broken)})
                    assert refused.status_code == 422, refused.text
                    assert refused.json()["error"] == "invalid_index"
                    health = admin.get("/healthz").json()["index"]
                    assert health["path"] == str(target.resolve())
                    assert health["generation"] == i + 1
                time.sleep(0.02)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=30)
    assert failures == []
    assert answered[0] >= 40 and seen["a"] > 0 and seen["b"] > 0


def test_broken_or_missing_index_is_refused_and_old_one_serves(start_server, planted, tmp_path):
    import shutil

    server = start_server(planted.index_a, token=TOKEN)
    empty = tmp_path / "empty"
    empty.mkdir()
    cut_index, cut_vocab = tmp_path / "cut-index", tmp_path / "cut-vocab"
    for copy, name in ((cut_index, "index.faiss"), (cut_vocab, "vocab.parquet")):
        shutil.copytree(planted.index_a, copy)
        data = (copy / name).read_bytes()
        (copy / name).write_bytes(data[: len(data) // 2])  # a copy cut short
    with httpx.Client(base_url=server.url, headers=AUTH) as client:
        for target, reason in (
            (planted.broken, "manifest.json"),
            (tmp_path / "nowhere", "is not a directory"),
            (empty, "manifest.json"),
            (cut_index, "index.faiss"),
            (cut_vocab, "vocab.parquet"),
        ):
            answer = client.post("/admin/reload", json={"index": str(target)})
            assert answer.status_code == 422, answer.text
            body = answer.json()
            assert body["error"] == "invalid_index" and reason in body["detail"]
            assert f"still serving {planted.index_a.resolve()}" in body["detail"]
        health = client.get("/healthz").json()["index"]
        assert health["path"] == str(planted.index_a.resolve()) and health["generation"] == 0
        answer = client.get("/v1/neighbors", params={"word": "capital1", "k": 1})
        assert answer.json()["neighbors"][0]["token"] == "country1"
        metrics = client.get("/metrics").text
        assert 'embedrec_index_reloads_total{result="refused"} 5.0' in metrics
        # A malformed reload body is the caller's mistake, not a broken index.
        assert client.post("/admin/reload", json={"path": "x"}).status_code == 422
        assert client.post("/admin/reload", json={"index": 3}).status_code == 422


def test_reload_without_body_rereads_the_same_path(start_server, planted, tmp_path):
    import shutil

    live = tmp_path / "live"
    shutil.copytree(planted.index_a, live)
    server = start_server(live, token=TOKEN)
    with httpx.Client(base_url=server.url, headers=AUTH) as client:
        before = client.get("/v1/neighbors", params={"word": "capital1", "k": 5}).json()
        # Replace the directory's contents (as a new build with --overwrite would), then reload.
        shutil.rmtree(live)
        shutil.copytree(planted.index_b, live)
        answer = client.post("/admin/reload")
        assert answer.status_code == 200, answer.text
        assert answer.json()["index"]["generation"] == 1
        after = client.get("/v1/neighbors", params={"word": "capital1", "k": 5}).json()
        assert after != before
        assert after["neighbors"] == [
            {"token": n.token, "score": pytest.approx(n.score)}
            for n in load_index(planted.index_b).neighbors("capital1", k=5)
        ]
        metrics = client.get("/metrics").text
        assert 'embedrec_index_generation{index="live"} 1.0' in metrics
        assert 'embedrec_index_reloads_total{result="ok"} 1.0' in metrics
