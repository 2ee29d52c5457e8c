"""Fixtures of the service tests: planted indexes (built once per session) and live servers."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from serving_fixtures import LiveServer, build_index_dir, planted_vectors, write_model


@dataclass(frozen=True)
class Planted:
    """Two flat indexes over the same words with different vectors (``a`` and ``b``), the
    model behind ``a``, and a directory that is not an index (``broken``)."""

    model_a: Path
    index_a: Path
    index_b: Path
    broken: Path


@pytest.fixture(scope="session")
def planted(tmp_path_factory: pytest.TempPathFactory) -> Planted:
    root = tmp_path_factory.mktemp("planted")
    vectors_a, tokens = planted_vectors(seed=0)
    vectors_b, _ = planted_vectors(seed=1)
    model_a = write_model(root / "model-a", vectors_a, tokens)
    model_b = write_model(root / "model-b", vectors_b, tokens)
    broken = root / "broken"
    broken.mkdir()
    (broken / "manifest.json").write_text('{"kind": "index"')  # cut short
    return Planted(
        model_a=model_a,
        index_a=build_index_dir(model_a, root / "index-a"),
        index_b=build_index_dir(model_b, root / "index-b"),
        broken=broken,
    )


StartServer = Callable[..., LiveServer]


@pytest.fixture
def start_server() -> Iterator[StartServer]:
    """``start_server(index, **ServeConfig fields)`` → a running `LiveServer` (stopped after)."""
    from embedrec.serving.app import create_app
    from embedrec.serving.config import ServeConfig

    servers: list[LiveServer] = []

    def start(index: Path, **settings: Any) -> LiveServer:
        settings.setdefault("access_log", False)
        app = create_app(ServeConfig(index=str(index), **settings))
        server = LiveServer(app).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture(scope="module")
def shared_server(planted: Planted) -> Iterator[LiveServer]:
    """One server over ``planted.index_a`` (no token) for tests that do not change it."""
    from embedrec.serving.app import create_app
    from embedrec.serving.config import ServeConfig

    app = create_app(ServeConfig(index=str(planted.index_a), access_log=False, max_batch=50))
    server = LiveServer(app).start()
    yield server
    server.stop()


@pytest.fixture
def http(shared_server: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=shared_server.url, timeout=10) as client:
        yield client


# The browser tests (-m browser): Debian's chromium driven by Playwright for Python.
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture
def browser_context(tmp_path):
    """``browser_context(**options)`` → a Playwright context on a fresh profile."""
    if not Path(CHROMIUM).exists():
        pytest.skip("chromium is not installed (apt-get install -y chromium chromium-driver)")
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="playwright for Python is not installed"
    )
    with sync_api.sync_playwright() as playwright:
        contexts = []

        def open_context(**options):
            profile = tmp_path / f"profile-{len(contexts)}"
            context = playwright.chromium.launch_persistent_context(
                str(profile),
                executable_path=CHROMIUM,
                headless=True,
                args=CHROMIUM_ARGS,
                viewport={"width": 1100, "height": 900},
                **options,
            )
            contexts.append(context)
            return context

        yield open_context
        for context in contexts:
            context.close()
