"""Helpers of the service tests: planted models and indexes, and a real uvicorn server on a
free loopback port in a background thread (imported by conftest.py and the test modules)."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from embedrec.core.artifacts import write_manifest
from embedrec.engine.skipgram.files import write_embeddings
from embedrec.pipelines.text.dataset import Vocabulary

DIM = 32


def unit(x: np.ndarray) -> np.ndarray:
    return x / np.linalg.norm(x, axis=-1, keepdims=True)


def planted_vectors(seed: int, pairs: int = 6, noise: int = 120) -> tuple[np.ndarray, list[str]]:
    """Countries and capitals one shared offset apart (so country_i : capital_i :: country_j :
    capital_j), plus noise words. Different seeds give different neighbours."""
    rng = np.random.default_rng(seed)
    offset = unit(rng.standard_normal(DIM))
    countries = unit(rng.standard_normal((pairs, DIM)))
    capitals = unit(countries + offset + 0.02 * rng.standard_normal((pairs, DIM)))
    others = unit(rng.standard_normal((noise, DIM)))
    vectors = np.vstack([countries, capitals, others]).astype(np.float32)
    vectors *= rng.uniform(0.5, 2.0, size=(len(vectors), 1)).astype(np.float32)
    tokens = [f"country{i}" for i in range(pairs)] + [f"capital{i}" for i in range(pairs)]
    tokens += [f"noise{i}" for i in range(noise)]
    return vectors, tokens


def write_model(directory: Path, vectors: np.ndarray, tokens: list[str]) -> Path:
    counts = np.arange(len(tokens), 0, -1, dtype=np.int64) * 10
    write_embeddings(directory, vectors, Vocabulary(tokens, counts))
    write_manifest(
        directory, kind="skipgram-model", config={"dim": DIM}, counts={"vocab_size": len(tokens)}
    )
    return directory


def build_index_dir(model: Path, out: Path, kind: str = "flat", shards: int = 1) -> Path:
    from embedrec.indexes import IndexConfig, build_index

    build_index(model, out, IndexConfig(kind=kind, recall_queries=100), shards=shards)
    return out


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class LiveServer:
    """uvicorn serving ``app`` on 127.0.0.1:<free port> in a daemon thread."""

    def __init__(self, app: Any) -> None:
        import uvicorn

        self.app = app
        self._socket = socket.socket()
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind(("127.0.0.1", 0))
        self.port = int(self._socket.getsockname()[1])
        config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on")
        self.server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [self._socket]}, daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> LiveServer:
        self._thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the test server did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self._thread.join(timeout=15)
        self._socket.close()


@contextlib.contextmanager
def live_server(app: Any) -> Iterator[LiveServer]:
    server = LiveServer(app).start()
    try:
        yield server
    finally:
        server.stop()
