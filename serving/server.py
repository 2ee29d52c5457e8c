"""Running the service under uvicorn: one process, or a supervisor with several workers.

One worker: the index is loaded in this process, then uvicorn serves the app; SIGHUP
reloads the current index path, SIGTERM/SIGINT stop gracefully (requests in flight finish,
up to ``graceful_shutdown_seconds``).

Several workers (``--workers N``): the index is loaded once here to check it (and dropped),
then uvicorn's supervisor starts N worker processes on one shared socket. They share a
control directory (a temporary directory removed at exit) holding the reload broadcast
(`embedrec.serving.reload_sync`) and the Prometheus multiprocess files, so ``/admin/reload`` and
SIGHUP (to the supervisor or to any worker) reach every worker, and a scrape of
``/metrics`` counts all of them.

>>> serve(ServeConfig(index="indexes/wiki", workers=2))          # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
import logging
import os
import shutil
import tempfile
from collections.abc import Callable
from typing import Any

import uvicorn
from uvicorn.supervisors.multiprocess import Multiprocess

from embedrec.core.errors import ConfigError
from embedrec.serving.config import CONFIG_ENV, ServeConfig
from embedrec.serving.metrics import MULTIPROC_ENV
from embedrec.serving.reload_sync import ReloadBroadcast
from embedrec.serving.worker import configure_worker

log = logging.getLogger(__name__)


WORKER_START_SECONDS = 120


def serve(config: ServeConfig, *, announce: Callable[[str], None] | None = None) -> None:
    """Serve ``config.index`` until SIGINT/SIGTERM. Raises `EmbedrecError` for a bad index
    before binding; ``announce`` receives one line saying what is served where."""
    from embedrec.serving.state import open_snapshot

    _check_installed(config)
    if config.workers == 1:
        from embedrec.serving.app import create_app

        app = create_app(config)  # a bad index stops here, before any process-wide setting
        configure_worker(config)
        for snapshot in app.state.embedrec.snapshots().values():
            _announce(announce, snapshot.describe(), config)
        uvicorn.Server(_uvicorn_config(app, config)).run()
        return

    descriptions = []
    for name, directory in config.named_indexes().items():
        checked = open_snapshot(directory, 0, name)  # every index loads, or nothing starts
        descriptions.append(checked.describe())
        del checked
    description = descriptions[0]
    control = tempfile.mkdtemp(prefix="embedrec-serve-")
    saved = {name: os.environ.get(name) for name in (CONFIG_ENV, MULTIPROC_ENV)}
    try:
        broadcast = ReloadBroadcast(control, workers=config.workers)
        broadcast.initialise(description["path"], {d["name"]: d["path"] for d in descriptions})
        metrics_dir = os.path.join(control, "metrics")
        os.mkdir(metrics_dir)
        worker_config = dataclasses.replace(config, control_dir=control)
        os.environ[CONFIG_ENV] = worker_config.to_json()
        os.environ[MULTIPROC_ENV] = metrics_dir
        uv_config = _uvicorn_config(
            "embedrec.serving.app:app_from_environment",
            config,
            factory=True,
            workers=config.workers,
            # A worker answers uvicorn's health check only once it has imported FAISS and
            # loaded every index: uvicorn's default 5 s kills and restarts it, over and over,
            # for a large index or on a busy machine.
            timeout_worker_healthcheck=WORKER_START_SECONDS,
        )
        for described in descriptions:
            _announce(announce, described, config)
        _Supervisor(uv_config, sockets=[uv_config.bind_socket()], broadcast=broadcast).run()
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        shutil.rmtree(control, ignore_errors=True)


def _check_installed(config: ServeConfig) -> None:
    import importlib.util

    for key, value in (("http", config.http), ("loop", config.loop)):
        if value in ("httptools", "uvloop") and importlib.util.find_spec(value) is None:
            raise ConfigError(key, value, f"auto, or {value} installed (pip install {value})")


def _uvicorn_config(app: Any, config: ServeConfig, **extra: Any) -> Any:
    return uvicorn.Config(
        app,
        host=config.host,
        port=config.port,
        access_log=False,  # ours (serving.access) carries the request id and latency
        timeout_graceful_shutdown=int(config.graceful_shutdown_seconds),
        server_header=False,
        log_level="info",
        http=config.http,
        loop=config.loop,
        proxy_headers=config.proxy_headers,
        forwarded_allow_ips=config.forwarded_allow_ips,
        root_path=config.root_path,
        **extra,
    )


def _announce(
    announce: Callable[[str], None] | None, index: dict[str, Any], config: ServeConfig
) -> None:
    if announce is None:
        return
    quality = "exact" if index["exact"] else f"recall@10 {index['recall_at_10']}"
    shards = f", {index['shards']} shards" if index["shards"] > 1 else ""
    auth = "token required" if config.token else "no token (admin endpoints refused)"
    announce(
        f"serving {index['name']}={index['path']}: {index['vectors']:,} × {index['dim']}, "
        f"{index['factory']} "
        f"({quality}{shards}) at {config.url} with {config.workers} worker(s); {auth}; "
        f"explorer {config.url}/ , API docs {config.url}/docs"
    )


class _Supervisor(Multiprocess):  # type: ignore[misc]
    """uvicorn's supervisor, except that SIGHUP reloads the index in every worker (through
    the broadcast) instead of restarting the worker processes."""

    def __init__(self, config: Any, *, sockets: list[Any], broadcast: ReloadBroadcast) -> None:
        super().__init__(config, sockets=sockets)
        self.broadcast = broadcast

    def handle_hup(self) -> None:
        desired = self.broadcast.publish()
        log.info("SIGHUP: workers reload %s (generation %d)", desired.index, desired.generation)
