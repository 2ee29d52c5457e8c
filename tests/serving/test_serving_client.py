"""`serving.Client` against a live server: the library's answers and the library's errors."""

from __future__ import annotations

import logging

import numpy as np
import pytest
from serving_fixtures import free_port

from embedrec.core.errors import ConfigError, EmbedrecError
from embedrec.indexes import UnknownWordError, load_index
from embedrec.serving import (
    AuthenticationError,
    Client,
    ForbiddenError,
    InvalidIndexError,
    PayloadTooLargeError,
    ServiceTimeoutError,
    ServiceUnavailableError,
)

TOKEN = "client-token"


@pytest.fixture(scope="module")
def library(planted):
    return load_index(planted.index_a)


def test_methods_mirror_the_library(shared_server, library):
    with Client(shared_server.url) as client:
        assert client.metric == "cosine"
        # Scores travel as JSON numbers, which round-trip floats exactly.
        assert client.neighbors("capital2", k=4) == library.neighbors("capital2", 4)
        words = ["country1", "noise3"]
        assert client.neighbors_batch(words, k=3) == library.neighbors_batch(words, 3)
        vector = library.vector("noise4")
        mixed = client.neighbors_batch(["capital1", vector, "country0"], k=2)
        expected = library.neighbors_batch(["capital1", vector, "country0"], 2)
        assert mixed == expected
        assert client.neighbors(vector, k=1)[0].token == "noise4"
        assert client.analogy("country1", "capital1", "country3", k=2, method="3cosmul") == (
            library.analogy("country1", "capital1", "country3", 2, "3cosmul")
        )
        np.testing.assert_allclose(client.vector("capital5"), library.vector("capital5"))
        assert client.map("capital1", k=3)["points"][0]["token"] == "capital1"
        assert client.health()["index"]["vectors"] == len(library)
        assert "embedrec_http_requests_total" in client.metrics()


def test_batches_are_split_to_the_client_batch_size(shared_server, library):
    # The shared server refuses more than 50 queries per request; the client sends 20 at a time.
    words = [f"noise{i}" for i in range(120)]
    with Client(shared_server.url, batch_size=20) as client:
        got = client.neighbors_batch(words, k=2)
    assert got == library.neighbors_batch(words, 2)
    with Client(shared_server.url) as client, pytest.raises(PayloadTooLargeError, match="51"):
        client.neighbors_batch(words[:51], k=2)


def test_errors_are_the_library_and_service_types(shared_server, start_server, planted):
    with Client(shared_server.url) as client:
        with pytest.raises(UnknownWordError) as unknown:
            client.neighbors("capitl1")
        assert unknown.value.word == "capitl1" and unknown.value.suggestion == "capital1"
        with pytest.raises(ConfigError) as bad_k:
            client.neighbors("capital1", k=500)
        assert bad_k.value.key == "k"
        with pytest.raises(ForbiddenError):
            client.reload()
        with pytest.raises(EmbedrecError, match="422"):
            client.neighbors("capital1", k=0)

    guarded = start_server(planted.index_a, token=TOKEN)
    with Client(guarded.url, token="wrong") as client:
        assert client.health() == {"status": "ok"}  # the probe answers, and says no more
        with pytest.raises(AuthenticationError):
            client.indexes()
    with Client(guarded.url, token=TOKEN) as client:
        with pytest.raises(InvalidIndexError, match="still serving"):
            client.reload(str(planted.broken))
        answer = client.reload(str(planted.index_b))
        assert answer["index"]["generation"] == 1
        assert answer["index"]["path"] == str(planted.index_b.resolve())


def test_token_from_the_environment(start_server, planted, monkeypatch):
    guarded = start_server(planted.index_a, token=TOKEN)
    monkeypatch.setenv("EMBEDREC_TOKEN", TOKEN)
    with Client(guarded.url) as client:
        assert client.health()["status"] == "ok"


def test_unreachable_and_slow_services(start_server, planted):
    port = free_port()
    with Client(f"http://127.0.0.1:{port}", retries=0) as client:
        with pytest.raises(ServiceUnavailableError, match="cannot reach") as error:
            client.health()
        assert error.value.http_status == 0
    server = start_server(planted.index_a)

    # A search that takes longer than the client waits (the service's searches, single or
    # coalesced, all go through WordIndex.search, so slow that).
    state = server.app.state.embedrec
    index = state.current().index
    original = index.search

    def slow(*args, **kwargs):
        import time

        time.sleep(1.0)
        return original(*args, **kwargs)

    index.search = slow
    try:
        with Client(server.url, timeout=0.2) as client, pytest.raises(ServiceTimeoutError):
            client.neighbors("capital1")
    finally:
        index.search = original
    with pytest.raises(ConfigError, match="url"):
        Client("localhost:8000")


def test_connections_are_reused(start_server, planted):
    server = start_server(planted.index_a, access_log=True)
    records: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = records.append  # type: ignore[method-assign]
    access = logging.getLogger("embedrec.serving.access")
    access.addHandler(handler)
    level = access.level
    access.setLevel(logging.INFO)
    try:
        with Client(server.url) as client:
            for _ in range(5):
                client.neighbors("capital1", k=1)
    finally:
        access.removeHandler(handler)
        access.setLevel(level)
    assert len(records) == 5
    assert len({r.args[1] for r in records}) == 1  # one client port: one kept-open connection
