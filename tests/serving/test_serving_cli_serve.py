"""``embedrec serve`` as a real process: announce, SIGHUP reload, graceful SIGTERM, and with
``--workers 2`` a reload (HTTP or SIGHUP) that reaches every worker, metrics summed."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from serving_fixtures import free_port

from embedrec.indexes import load_index

TOKEN = "serve-token"
AUTH = {"authorization": f"Bearer {TOKEN}"}


class ServeProcess:
    def __init__(self, index: Path, *args: str, stderr_path: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._stderr = open(stderr_path, "w")  # noqa: SIM115 - closed in stop()
        self.stderr_path = stderr_path
        env = {**os.environ, "EMBEDREC_TOKEN": TOKEN}
        command = [sys.executable, "-m", "embedrec.cli", "serve", str(index)]
        command += ["--port", str(self.port), "--no-access-log", *args]
        self.process = subprocess.Popen(
            command, env=env, stderr=self._stderr, stdout=subprocess.DEVNULL
        )

    def wait_ready(self, timeout: float = 120) -> None:  # generous: CI may be loaded
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"serve exited: {self.stderr_path.read_text()}")
            try:
                if httpx.get(self.url + "/healthz", headers=AUTH, timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise AssertionError(f"serve did not start: {self.stderr_path.read_text()}")

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._stderr.close()
        return int(self.process.returncode)


@pytest.fixture
def launch(tmp_path) -> Iterator:
    started: list[ServeProcess] = []

    def start(index: Path, *args: str) -> ServeProcess:
        server = ServeProcess(index, *args, stderr_path=tmp_path / f"serve-{len(started)}.err")
        started.append(server)
        server.wait_ready()
        return server

    yield start
    for server in started:
        server.stop()


def _health(url: str) -> dict:
    # A new connection each time, so that several workers get to answer.
    return httpx.get(url + "/healthz", headers={**AUTH, "connection": "close"}, timeout=10).json()


def _wait_for(predicate, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(0.1)


def test_single_worker_sighup_and_graceful_stop(launch, planted, tmp_path):
    live = tmp_path / "live"
    shutil.copytree(planted.index_a, live)
    server = launch(live)
    assert "serving " in server.stderr_path.read_text() and "token required" in (
        server.stderr_path.read_text()
    )
    assert _health(server.url)["index"]["generation"] == 0

    shutil.rmtree(live)
    shutil.copytree(planted.index_b, live)
    server.process.send_signal(signal.SIGHUP)
    _wait_for(lambda: _health(server.url)["index"]["generation"] == 1)
    answer = httpx.get(
        server.url + "/v1/neighbors", params={"word": "capital1", "k": 3}, headers=AUTH
    ).json()
    expected = load_index(planted.index_b).neighbors("capital1", 3)
    assert [n["token"] for n in answer["neighbors"]] == [e.token for e in expected]
    _assert_graceful(server)
    assert "now serving" in server.stderr_path.read_text()  # the reload is logged


def test_bad_index_fails_before_binding(run_cli, planted):
    result = run_cli("serve", planted.broken, "--port", str(free_port()))
    assert result.code == 2 and "manifest.json" in result.err
    result = run_cli("serve", planted.index_a, "--workers", "0")
    assert result.code == 2 and result.err.startswith("embedrec: error: workers: got 0")


@pytest.mark.multiprocess
def test_two_workers_all_reload_and_metrics_are_summed(launch, planted):
    server = launch(planted.index_a, "--workers", "2")
    asked = [0]

    def healths(n: int = 24) -> list[dict]:
        asked[0] += n
        with ThreadPoolExecutor(8) as pool:
            return list(pool.map(lambda _: _health(server.url), range(n)))

    _wait_for(lambda: len({h["pid"] for h in healths()}) == 2, timeout=30)

    with httpx.Client(base_url=server.url, headers=AUTH, timeout=60) as client:
        answer = client.post("/admin/reload", json={"index": str(planted.index_b)})
        assert answer.status_code == 200, answer.text
        workers = answer.json()["workers"]
        assert workers == {"expected": 2, "reloaded": 2, "failed": [], "complete": True}
        seen = healths()
        assert {h["index"]["generation"] for h in seen} == {1}
        assert {h["index"]["path"] for h in seen} == {str(planted.index_b.resolve())}

        os.kill(server.process.pid, signal.SIGHUP)  # the supervisor: every worker reloads
        _wait_for(lambda: {h["index"]["generation"] for h in healths(12)} == {2})

        refused = client.post("/admin/reload", json={"index": str(planted.broken)})
        assert refused.status_code == 422
        assert {h["index"]["generation"] for h in healths(12)} == {2}

        answers = [
            client.get("/v1/neighbors", params={"word": "capital1", "k": 3}) for _ in range(10)
        ]
        assert all(a.status_code == 200 for a in answers)
        metrics = client.get("/metrics").text
    total = _sample(
        metrics, 'embedrec_http_requests_total{method="GET",route="/healthz",status="200"}'
    )
    # Each worker saw only part of the health checks; the scrape counts all of them.
    assert total >= asked[0]
    assert (
        _sample(
            metrics, 'embedrec_http_requests_total{method="GET",route="/v1/neighbors",status="200"}'
        )
        >= 10
    )
    assert _sample(metrics, 'embedrec_index_generation{index="index-a"}') == 2
    _assert_graceful(server)
    assert server.stderr_path.read_text().count("Finished server process") == 2


def _assert_graceful(server: ServeProcess) -> None:
    # uvicorn re-raises SIGTERM after its graceful shutdown, so the exit status says SIGTERM.
    assert server.stop() in (0, -signal.SIGTERM)
    assert "Finished server process" in server.stderr_path.read_text()


def _sample(text: str, name: str) -> float:
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"{name} not in metrics:\n{text}")


def _stripping_proxy(backend: str, prefix: str):
    """A reverse proxy (ASGI) serving ``backend`` under ``prefix``, as nginx's
    ``location /embed/ { proxy_pass http://backend/; }`` does: it strips the prefix and adds
    X-Forwarded-For / -Proto."""

    async def app(scope, receive, send):
        if scope["type"] != "http":
            return
        path = scope["path"]
        if not path.startswith(prefix + "/"):
            await send({"type": "http.response.start", "status": 404, "headers": []})
            await send({"type": "http.response.body", "body": b"outside the prefix"})
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = [(k, v) for k, v in scope["headers"] if k not in (b"host", b"content-length")]
        headers += [(b"x-forwarded-for", b"203.0.113.7"), (b"x-forwarded-proto", b"https")]
        query = scope["query_string"].decode()
        url = backend + path[len(prefix) :] + (f"?{query}" if query else "")
        async with httpx.AsyncClient() as client:
            answer = await client.request(scope["method"], url, headers=headers, content=body)
        await send(
            {
                "type": "http.response.start",
                "status": answer.status_code,
                "headers": [
                    (k.encode(), v.encode())
                    for k, v in answer.headers.items()
                    if k not in ("content-length", "transfer-encoding", "content-encoding")
                ],
            }
        )
        await send({"type": "http.response.body", "body": answer.content})

    return app


def test_named_indexes_behind_a_proxy_under_a_prefix(launch, planted, tmp_path):
    from serving_fixtures import live_server

    live_a, live_b = tmp_path / "live-a", tmp_path / "live-b"
    shutil.copytree(planted.index_a, live_a)
    shutil.copytree(planted.index_b, live_b)
    server = launch(
        f"a={live_a}",
        f"b={live_b}",
        "--default-index",
        "b",
        "--proxy-headers",
        "--forwarded-allow-ips",
        "127.0.0.1",
        "--root-path",
        "/embed",
        "--access-log",
    )
    log = server.stderr_path.read_text()
    assert f"serving a={live_a.resolve()}" in log and f"serving b={live_b.resolve()}" in log
    with live_server(_stripping_proxy(server.url, "/embed")) as proxy:
        base = proxy.url + "/embed"
        with httpx.Client(base_url=base, headers=AUTH, timeout=20) as client:
            listed = client.get("/v1/indexes").json()
            assert listed["default"] == "b" and [i["name"] for i in listed["indexes"]] == [
                "a",
                "b",
            ]
            expected = load_index(planted.index_b).neighbors("capital1", 3)
            answer = client.get("/v1/neighbors", params={"word": "capital1", "k": 3})
            assert [n["token"] for n in answer.json()["neighbors"]] == [e.token for e in expected]
            # The explorer's relative links resolve below the prefix; the API description
            # names the prefix as its server, and Swagger UI loads it through the proxy.
            page = client.get("/")
            assert page.status_code == 200 and 'src="static/explorer.js"' in page.text
            assert client.get("/static/explorer.js").status_code == 200
            assert client.get("/openapi.json").json()["servers"] == [{"url": "/embed"}]
            docs = client.get("/docs").text
            assert "'/embed/openapi.json'" in docs and "/embed/docs/assets/swagger-ui.css" in docs
            assert client.get("/docs/assets/swagger-ui.css").status_code == 200
            # Admin endpoints stay bearer-only below the prefix; probes stay open.
            basic = httpx.BasicAuth("me", TOKEN)
            refused = httpx.post(base + "/admin/reload", auth=basic, json={})
            assert refused.status_code == 401
            assert httpx.get(base + "/readyz").json() == {"status": "ready"}
    # uvicorn took the client address from X-Forwarded-For (the proxy is 127.0.0.1).
    access = server.stderr_path.read_text()
    assert "203.0.113.7:" in access and '"GET /embed/v1/neighbors?word=capital1&k=3" 200' in (
        access
    )
    # SIGHUP reloads every index from its directory.
    server.process.send_signal(signal.SIGHUP)
    _wait_for(
        lambda: (
            {n: i["generation"] for n, i in _health(server.url)["indexes"].items()}
            == {"a": 1, "b": 1}
        )
    )
    _assert_graceful(server)


def test_index_arguments_are_checked(run_cli, planted):
    result = run_cli("serve", f"a={planted.index_a}", f"a={planted.index_b}")
    assert result.code == 2 and "each index name once" in result.err
    result = run_cli("serve", f"bad name={planted.index_a}")
    assert result.code == 2 and "expected 1 to 64 letters" in result.err
    result = run_cli("serve", str(planted.index_a), "--default-index", "nope")
    assert result.code == 2 and "default_index: got 'nope'" in result.err
    result = run_cli("serve", f"a={planted.index_a}", f"b={planted.broken}")
    assert result.code == 2 and "manifest.json" in result.err
    result = run_cli("serve", str(planted.index_a), "--root-path", "embed/")
    assert result.code == 2 and "root_path" in result.err


@pytest.mark.multiprocess
def test_two_workers_reload_one_named_index(launch, planted):
    server = launch(f"a={planted.index_a}", f"b={planted.index_a}", "--workers", "2")

    def generations(n: int = 16) -> set[tuple[int, int]]:
        with ThreadPoolExecutor(8) as pool:
            seen = list(pool.map(lambda _: _health(server.url)["indexes"], range(n)))
        return {(h["a"]["generation"], h["b"]["generation"]) for h in seen}

    with httpx.Client(base_url=server.url, headers=AUTH, timeout=60) as client:
        answer = client.post("/admin/reload", json={"name": "b", "index": str(planted.index_b)})
        assert answer.status_code == 200, answer.text
        assert answer.json()["workers"]["complete"] is True
        assert generations() == {(0, 1)}
        expected = load_index(planted.index_b).neighbors("capital1", 3)
        for _ in range(6):
            got = client.get(
                "/v1/neighbors",
                params={"word": "capital1", "k": 3, "index": "b"},
                headers={"connection": "close"},
            ).json()
            assert [n["token"] for n in got["neighbors"]] == [e.token for e in expected]
        os.kill(server.process.pid, signal.SIGHUP)  # the supervisor: all indexes, all workers
        _wait_for(lambda: generations(12) == {(2, 2)})
    _assert_graceful(server)


def _maps(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/maps").read_text()
    except (FileNotFoundError, ProcessLookupError):  # the process ended meanwhile
        return ""


@pytest.mark.multiprocess
@pytest.mark.skipif(not Path("/proc/self/maps").exists(), reason="needs Linux /proc")
def test_no_service_process_loads_torch(launch, planted):
    """Neither the supervisor nor any worker maps libtorch (each worker has answered a
    search first, so its whole request path has been imported)."""
    psutil = pytest.importorskip("psutil")
    server = launch(planted.index_a, "--workers", "2")
    pids: set[int] = set()

    def both_workers_answered() -> bool:
        for _ in range(8):
            pids.add(_health(server.url)["pid"])
            httpx.get(
                server.url + "/v1/neighbors",
                params={"word": "capital1", "k": 3},
                headers={**AUTH, "connection": "close"},
                timeout=10,
            ).raise_for_status()
        return len(pids) == 2

    _wait_for(both_workers_answered, timeout=30)
    supervisor = psutil.Process(server.process.pid)
    processes = [supervisor, *supervisor.children(recursive=True)]
    assert pids <= {p.pid for p in processes}
    for process in processes:
        maps = _maps(process.pid)
        assert maps, f"no /proc/{process.pid}/maps"
        torch_libs = {line.split()[-1] for line in maps.splitlines() if "libtorch" in line}
        assert not torch_libs, f"{process.pid} {process.cmdline()} maps {sorted(torch_libs)}"
