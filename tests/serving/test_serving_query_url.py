"""``embedrec query neighbors|analogy --url``: same answers and errors as a local index."""

from __future__ import annotations

import json

from serving_fixtures import free_port


def test_neighbors_and_analogy_over_http_equal_local(run_cli, shared_server, planted):
    local = run_cli("query", "neighbors", planted.index_a, "capital3", "-k", "4", "--json")
    remote = run_cli(
        "query", "neighbors", "--url", shared_server.url, "capital3", "-k", "4", "--json"
    )
    assert local.code == 0 and remote.code == 0, remote.err
    local_doc, remote_doc = json.loads(local.out), json.loads(remote.out)
    assert remote_doc["index"] == shared_server.url
    assert {**remote_doc, "index": None} == {**local_doc, "index": None}

    args = ("country1", "capital1", "country5", "-k", "2", "--method", "3cosmul", "--json")
    local = run_cli("query", "analogy", planted.index_a, *args)
    remote = run_cli("query", "analogy", "--url", shared_server.url, *args)
    assert remote.code == 0, remote.err
    assert json.loads(remote.out)["answers"] == json.loads(local.out)["answers"]
    assert json.loads(remote.out)["answers"][0]["token"] == "capital5"

    human = run_cli("query", "neighbors", "--url", shared_server.url, "capital3", "-k", "2")
    assert human.out.splitlines()[0].startswith(
        f"nearest to 'capital3'  (cosine score, {shared_server.url})"
    )


def test_errors_over_http_are_one_line(run_cli, shared_server, start_server, planted):
    unknown = run_cli("query", "neighbors", "--url", shared_server.url, "capitl1")
    assert unknown.code == 2
    assert unknown.err.startswith("embedrec: error: unknown word 'capitl1'")
    assert "did you mean 'capital1'" in unknown.err and unknown.err.count("\n") == 1
    bad_k = run_cli("query", "neighbors", "--url", shared_server.url, "capital1", "-k", "1000")
    assert bad_k.code == 2 and bad_k.err.startswith("embedrec: error: k: got 1000")

    down = run_cli("query", "neighbors", "--url", f"http://127.0.0.1:{free_port()}", "capital1")
    assert down.code == 2 and "cannot reach" in down.err and "Traceback" not in down.err

    guarded = start_server(planted.index_a, token="cli-token")
    refused = run_cli("query", "neighbors", "--url", guarded.url, "capital1")
    assert refused.code == 2 and "missing bearer token" in refused.err
    allowed = run_cli(
        "query", "neighbors", "--url", guarded.url, "capital1", "--token", "cli-token"
    )
    assert allowed.code == 0, allowed.err


def test_argument_forms(run_cli, shared_server, planted):
    # With --url there is no INDEX; without it INDEX comes first.
    extra = run_cli("query", "neighbors", "--url", shared_server.url, planted.index_a, "capital1")
    assert extra.code == 2 and "expected WORD (with --url, no INDEX)" in extra.err
    missing = run_cli("query", "analogy", planted.index_a, "a", "b")
    assert missing.code == 2 and "expected INDEX A B C" in missing.err
    helped = run_cli("query", "neighbors", "--help")
    assert "embedrec query neighbors --url http://localhost:8000 shark" in helped.out
