"""Load on ``embedrec serve``: QPS and p50/p99 latency next to in-process FAISS on one index.

    # an index from a model trained on the shared Wikipedia text (~2 minutes in all):
    embedrec text-pipeline /work/shared/data/corpus/wiki-en-100mb.txt.gz --out data/wiki
    embedrec train skipgram data/wiki --out models/wiki --epochs 1 --sample 1e-4
    embedrec index build models/wiki --out indexes/wiki-hnsw --kind hnsw
    .venv/bin/python bench/serving_load.py indexes/wiki-hnsw                  # ~4 minutes

    # without the shared data, the synthetic world (~30 s to build):
    embedrec generate text --out /tmp/w && embedrec text-pipeline /tmp/w/corpus.txt --out /tmp/wds
    embedrec train skipgram /tmp/wds --out /tmp/wm --dim 48 --epochs 5
    embedrec index build /tmp/wm --out /tmp/wi --kind hnsw
    .venv/bin/python bench/serving_load.py /tmp/wi --duration 2

    # a quick look: one server setup, two concurrency levels
    .venv/bin/python bench/serving_load.py indexes/wiki-hnsw --setups w1t4 --concurrency 1,16

The service runs as its own process (``python -m embedrec.cli serve``). The load generator
is ``wrk`` (Debian's package: ``apt-get install -y wrk``; see bench/wrk_client.py) when it
is installed, else this script's Python generator (``--client wrk|python`` forces one; the
tables and the JSON say which ran). Either keeps C HTTP/1.1 connections open over loopback,
each sending its next request when the last answer arrived (closed loop), for ``--duration``
seconds (wrk: rounded up to whole seconds; the Python generator also stops after
``--max-requests`` answers). Queries are words drawn (seeded) from the index's vocabulary,
a different one per request; "batch" requests POST ``--batch`` words at once.

On a machine with 2 or more cores the server is pinned to ``--server-cpus`` (default: core
0) and the load generator to ``--client-cpu`` (default: core 1) with ``taskset``, so the
two do not fight over one core (``--no-pin`` turns this off). The ratio to raw FAISS is
then taken against one thread's rate (one core, like the server); unpinned, against as
many threads as cores.
It makes ``--repeat`` passes over all setups (default 2) and keeps each cell's best pass:
on a shared machine other work only ever slows a cell down.

Server setups (``--setups``): ``w<W>t<T>`` is ``--workers W --search-threads T`` (t0: the
search runs on the event loop); a ``-h11`` suffix serves with uvicorn's pure-Python stack
(``--http h11 --loop asyncio``) instead of httptools + uvloop; a ``c<MS>`` part sets
``--coalesce-ms`` (``w1t1c0``: coalescing off; default: the server's default); a
``-fastapi`` suffix serves with ``--no-hot-path`` (every request through FastAPI's routes,
as before `embedrec.serving.routes.hot_path`). Raw rates
are FAISS ``index.search`` called in this process on the same queries, one query (or one
batch) per call, from 1 thread and from as many threads as cores.

Prints markdown tables and writes JSON to bench/results/.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import quote

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import wrk_client  # noqa: E402  (bench/wrk_client.py, beside this script)

RESULTS = REPO / "bench" / "results"
K = 10


def main(argv: list[str] | None = None) -> None:
    args = _parse(argv)
    from embedrec.indexes import load_index

    index = load_index(args.index)
    rng = np.random.default_rng(args.seed)
    words = [index.token(int(i)) for i in rng.integers(0, len(index), size=4096)]
    cores = os.cpu_count() or 1
    raw = raw_rates(index, words, batch=args.batch, cores=cores, seconds=args.raw_seconds)
    description = {
        "path": str(Path(args.index).resolve()),
        "vectors": len(index),
        "dim": index.dim,
        "factory": index.factory,
        "search_params": index.manifest.get("search_params"),
        "recall_at_10": index.manifest.get("recall_at_10"),
    }
    del index
    print(_raw_table(description, raw, args.batch, cores), flush=True)
    print(_client_line(args), flush=True)
    if args.pin and args.client == "python":
        os.sched_setaffinity(0, {args.client_cpu})  # this process is now the load generator

    # Passes over all setups, each cell kept from its best pass: work of other processes on
    # the machine only ever slows a cell down, and passes spread it over time.
    best: dict[tuple[str, str, int], dict[str, Any]] = {}
    runs: list[dict[str, Any]] = []
    load_before = os.getloadavg()
    print(_HEADER, flush=True)
    for repeat in range(args.repeat):
        for setup in args.setups:
            for cell in _serve_and_load(args, setup, words, raw):
                cell["pass"] = repeat
                runs.append(cell)
                key = (setup, cell["query"], cell["concurrency"])
                if key not in best or cell["requests_per_s"] > best[key]["requests_per_s"]:
                    best[key] = cell
                print(_row(cell, args.batch), flush=True)
    cells = [best[key] for key in sorted(best, key=_order(args))]
    print()
    print(_table(cells, args.batch))
    args.results.mkdir(parents=True, exist_ok=True)
    out = args.results / f"serving-load-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.write_text(
        json.dumps(
            {
                "index": description,
                "cores": cores,
                "batch": args.batch,
                "k": K,
                "duration_s": args.duration,
                "repeat": args.repeat,
                "client": args.client,
                "pinned": {"server_cpus": args.server_cpus, "client_cpu": args.client_cpu}
                if args.pin
                else None,
                "load_average_before": load_before,
                "load_average_after": os.getloadavg(),
                "raw": raw,
                "cells": cells,
                "runs": runs,
            },
            indent=2,
        )
    )
    print(f"\nwrote {out}")


def _serve_and_load(
    args: argparse.Namespace, setup: str, words: list[str], raw: dict[str, float]
) -> list[dict[str, Any]]:
    workers, threads, h11, coalesce, hot_path = _setup(setup)
    cells = []
    cpus = args.server_cpus if args.pin else None
    with ServerProcess(
        args.index,
        workers=workers,
        threads=threads,
        h11=h11,
        coalesce=coalesce,
        cpus=cpus,
        hot_path=hot_path,
    ) as server:
        for kind in ("single", "batch"):
            _measure(args, server.port, kind, words, 2, 1.0)  # warm up
            for concurrency in args.concurrency:
                cell = _measure(args, server.port, kind, words, concurrency, args.duration)
                queries_per_s = cell["requests_per_s"] * (args.batch if kind == "batch" else 1)
                raw_rate = raw[f"{kind}_1thread" if args.pin else f"{kind}_threads"]
                cells.append(
                    {
                        "setup": setup,
                        "workers": workers,
                        "search_threads": threads,
                        "coalesce_ms": coalesce,
                        "hot_path": hot_path,
                        "stack": "h11+asyncio" if h11 else "httptools+uvloop",
                        "client": args.client,
                        "query": kind,
                        "concurrency": concurrency,
                        **cell,
                        "queries_per_s": queries_per_s,
                        "raw_queries_per_s": raw_rate,
                        "raw_is": "1 thread" if args.pin else f"{os.cpu_count()} threads",
                        "service_over_raw": queries_per_s / raw_rate,
                    }
                )
    return cells


def _measure(
    args: argparse.Namespace,
    port: int,
    kind: str,
    words: list[str],
    concurrency: int,
    duration: float,
) -> dict[str, float]:
    """One cell with the chosen load generator."""
    if args.client == "wrk":
        items = _wrk_items(kind, words, args.batch)
        cpu = args.client_cpu if args.pin else None
        return wrk_client.run_cell(
            port, kind, items, concurrency=concurrency, duration=duration, cpu=cpu
        )
    requests = _requests(kind, words, args.batch, port)
    return _run_cell(port, requests, concurrency, duration, args.max_requests)


def _wrk_items(kind: str, words: list[str], batch: int) -> list[str]:
    """What wrk's script rotates through: GET paths, or POST bodies."""
    if kind == "single":
        return [f"/v1/neighbors?word={quote(w)}&k={K}" for w in words]
    return [
        json.dumps({"words": words[i : i + batch], "k": K})
        for i in range(0, len(words) - batch + 1, batch)
    ]


def _order(args: argparse.Namespace) -> Any:
    def key(cell: tuple[str, str, int]) -> tuple[int, int, int]:
        setup, query, concurrency = cell
        return args.setups.index(setup), query != "single", args.concurrency.index(concurrency)

    return key


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("index", help="Index (or model) directory to serve.")
    parser.add_argument(
        "--setups", default="w1t0,w1t2,w2t2", help="Server setups w<W>t<T>[c<MS>][-h11]."
    )
    parser.add_argument("--concurrency", default="1,4,16,64", help="Open connections per cell.")
    parser.add_argument("--duration", type=float, default=3.0, help="Seconds per cell.")
    parser.add_argument("--repeat", type=int, default=2, help="Passes; each cell's best is kept.")
    parser.add_argument("--max-requests", type=int, default=50_000, help="Answers per cell.")
    parser.add_argument("--batch", type=int, default=32, help="Words per batch request.")
    parser.add_argument("--raw-seconds", type=float, default=2.0, help="Seconds per raw rate.")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--results", type=Path, default=RESULTS, help="Where the JSON goes.")
    parser.add_argument(
        "--client",
        choices=("auto", "wrk", "python"),
        default="auto",
        help="Load generator (auto: wrk when installed, else the Python one).",
    )
    parser.add_argument("--server-cpus", default="0", help="Cores the server is pinned to.")
    parser.add_argument("--client-cpu", type=int, default=1, help="Core of the load generator.")
    parser.add_argument("--no-pin", action="store_true", help="Pin neither to a core.")
    args = parser.parse_args(argv)
    args.setups = [s.strip() for s in args.setups.split(",") if s.strip()]
    args.concurrency = [int(c) for c in args.concurrency.split(",")]
    for setup in args.setups:
        _setup(setup)
    if args.client == "auto":
        args.client = "wrk" if wrk_client.available() else "python"
    if args.client == "wrk" and not wrk_client.available():
        raise SystemExit("--client wrk: wrk is not installed (apt-get install -y wrk)")
    args.pin = not args.no_pin and (os.cpu_count() or 1) >= 2 and shutil.which("taskset")
    args.pin = bool(args.pin)
    return args


def _setup(name: str) -> tuple[int, int, bool, float | None, bool]:
    """``w2t4`` → (2 workers, 4 search threads, httptools/uvloop, default coalescing, hot
    path on); ``w1t1c0-h11``: coalescing off, h11/asyncio; ``w1t0-fastapi``: no hot path."""
    match = re.fullmatch(r"w(\d+)t(\d+)(?:c(\d+(?:\.\d+)?))?(-h11)?(-fastapi)?", name)
    if match is None:
        raise SystemExit(f"--setups: {name!r} is not w<W>t<T>[c<MS>][-h11][-fastapi], e.g. w2t4")
    workers, threads, coalesce, h11, fastapi = match.groups()
    return (
        int(workers),
        int(threads),
        h11 is not None,
        None if coalesce is None else float(coalesce),
        fastapi is None,
    )


def raw_rates(
    index: Any, words: list[str], *, batch: int, cores: int, seconds: float
) -> dict[str, float]:
    """Queries/s of FAISS ``search`` in this process: single queries and batches, from one
    thread and from ``cores`` threads (OpenMP at 1 thread per call, as the service runs).
    Each rate is the best of three rounds: other work on the machine only slows it down."""
    import faiss

    queries = index.rows([index.id(w) for w in words])
    if index.metric == "cosine":
        queries /= np.linalg.norm(queries, axis=1, keepdims=True)
    singles = [queries[i : i + 1] for i in range(len(queries))]
    batches = [queries[i : i + batch] for i in range(0, len(queries) - batch + 1, batch)]

    def rate(parts: list[np.ndarray], threads: int) -> float:
        return max(one_round(parts, threads) for _ in range(3))

    def one_round(parts: list[np.ndarray], threads: int) -> float:
        def run(offset: int) -> int:
            faiss.omp_set_num_threads(1)  # per thread: OpenMP's setting does not propagate
            done, i = 0, offset
            deadline = time.perf_counter() + seconds / 3
            while time.perf_counter() < deadline:
                part = parts[i % len(parts)]
                index.index.search(part, K + 1)
                done += len(part)
                i += 1
            return done

        started = time.perf_counter()
        with ThreadPoolExecutor(threads) as pool:
            total = sum(pool.map(run, range(0, threads * 97, 97)))
        return total / (time.perf_counter() - started)

    return {
        "single_1thread": rate(singles, 1),
        "single_threads": rate(singles, cores),
        "batch_1thread": rate(batches, 1),
        "batch_threads": rate(batches, cores),
    }


class ServerProcess:
    """``embedrec serve`` in a child process on a free loopback port (pinned to ``cpus``)."""

    def __init__(
        self,
        index: str,
        *,
        workers: int,
        threads: int,
        h11: bool,
        coalesce: float | None = None,
        cpus: str | None = None,
        hot_path: bool = True,
    ) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        command = [sys.executable, "-m", "embedrec.cli", "serve", index, "--port", str(self.port)]
        command += ["--workers", str(workers), "--search-threads", str(threads), "--no-access-log"]
        if h11:
            command += ["--http", "h11", "--loop", "asyncio"]
        if coalesce is not None:
            command += ["--coalesce-ms", str(coalesce)]
        if not hot_path:
            command += ["--no-hot-path"]
        if cpus is not None:
            command = ["taskset", "-c", cpus, *command]
        self.process = subprocess.Popen(
            command, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
        )

    def __enter__(self) -> ServerProcess:
        import httpx

        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"the server exited: {self.process.stderr.read()}")  # type: ignore[union-attr]
            try:
                if httpx.get(f"http://127.0.0.1:{self.port}/healthz", timeout=2).is_success:
                    return self
            except httpx.TransportError:
                time.sleep(0.2)
        raise SystemExit("the server did not start within 120 s")

    def __exit__(self, *_: object) -> None:
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()


def _requests(kind: str, words: list[str], batch: int, port: int) -> list[bytes]:
    host = f"127.0.0.1:{port}"
    if kind == "single":
        return [
            f"GET /v1/neighbors?word={quote(w)}&k={K} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode()
            for w in words
        ]
    out = []
    for i in range(0, len(words) - batch + 1, batch):
        body = json.dumps({"words": words[i : i + batch], "k": K}).encode()
        head = (
            f"POST /v1/neighbors HTTP/1.1\r\nHost: {host}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        ).encode()
        out.append(head + body)
    return out


def _run_cell(
    port: int, requests: list[bytes], concurrency: int, duration: float, max_requests: int
) -> dict[str, float]:
    return asyncio.run(_load(port, requests, concurrency, duration, max_requests))


async def _load(
    port: int, requests: list[bytes], concurrency: int, duration: float, max_requests: int
) -> dict[str, float]:
    latencies: list[float] = []
    errors = [0]
    started = time.perf_counter()
    deadline = started + duration

    async def connection(offset: int) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        i = offset
        try:
            while time.perf_counter() < deadline and len(latencies) < max_requests:
                request = requests[i % len(requests)]
                i += 1
                t0 = time.perf_counter()
                writer.write(request)
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                    length = _content_length(head)
                    await reader.readexactly(length)
                except (asyncio.IncompleteReadError, ConnectionError):
                    errors[0] += 1
                    writer.close()
                    reader, writer = await asyncio.open_connection("127.0.0.1", port)
                    continue
                latencies.append(time.perf_counter() - t0)
                if not head.startswith(b"HTTP/1.1 200"):
                    errors[0] += 1
        finally:
            writer.close()

    await asyncio.gather(*(connection(c * 131) for c in range(concurrency)))
    elapsed = time.perf_counter() - started
    lat = np.array(latencies) * 1000
    return {
        "requests": len(latencies),
        "errors": errors[0],
        "seconds": elapsed,
        "requests_per_s": len(latencies) / elapsed,
        "p50_ms": float(np.percentile(lat, 50)) if len(lat) else float("nan"),
        "p99_ms": float(np.percentile(lat, 99)) if len(lat) else float("nan"),
    }


def _content_length(head: bytes) -> int:
    for line in head.split(b"\r\n"):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return int(value)
    raise ConnectionError("answer without Content-Length")


def _raw_table(index: dict[str, Any], raw: dict[str, float], batch: int, cores: int) -> str:
    recall = index["recall_at_10"]
    quality = "exact" if recall is None else f"recall@10 {recall:.3f}, {index['search_params']}"
    return "\n".join(
        [
            f"index: {index['path']} — {index['vectors']:,} × {index['dim']}, "
            f"{index['factory']} ({quality}); k={K}; {cores} cores",
            "",
            "| in-process FAISS search | 1 thread | " + f"{cores} threads |",
            "|---|---:|---:|",
            f"| single queries (queries/s) | {raw['single_1thread']:,.0f} | "
            f"{raw['single_threads']:,.0f} |",
            f"| batches of {batch} (queries/s) | {raw['batch_1thread']:,.0f} | "
            f"{raw['batch_threads']:,.0f} |",
            "",
        ]
    )


def _client_line(args: argparse.Namespace) -> str:
    client = "wrk (compiled)" if args.client == "wrk" else "Python asyncio (fallback)"
    if not args.pin:
        return f"load generator: {client}; not pinned; service/raw against all cores' raw rate\n"
    return (
        f"load generator: {client} on core {args.client_cpu}; server on core(s) "
        f"{args.server_cpus}; service/raw against the 1-thread raw rate\n"
    )


_HEADER = (
    "| server | query | conc. | requests/s | queries/s | p50 ms | p99 ms | errors "
    "| service/raw |\n|---|---|---:|---:|---:|---:|---:|---:|---:|"
)


def _row(cell: dict[str, Any], batch: int) -> str:
    label = f"{cell['workers']} worker{'s' if cell['workers'] > 1 else ''}, " + (
        f"{cell['search_threads']} search threads" if cell["search_threads"] else "on event loop"
    )
    if cell.get("coalesce_ms") is not None:
        label += f", coalesce {cell['coalesce_ms']:g} ms"
    if cell["stack"].startswith("h11"):
        label += ", h11"
    if not cell.get("hot_path", True):
        label += ", through FastAPI"
    query = "single GET" if cell["query"] == "single" else f"POST {batch} words"
    return (
        f"| {label} | {query} | {cell['concurrency']} | {cell['requests_per_s']:,.0f} | "
        f"{cell['queries_per_s']:,.0f} | {cell['p50_ms']:.2f} | {cell['p99_ms']:.2f} | "
        f"{cell['errors']} | {cell['service_over_raw']:.2f} |"
    )


def _table(cells: list[dict[str, Any]], batch: int) -> str:
    return "\n".join([_HEADER, *(_row(cell, batch) for cell in cells)])


if __name__ == "__main__":
    main()
