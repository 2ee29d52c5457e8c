"""What every service process sets up before serving: FAISS threads, logs, the reload
broadcast. Used by ``serve`` for one process and by the uvicorn factory for each worker.

>>> from embedrec.serving.config import ServeConfig
>>> configure_worker(ServeConfig(index="indexes/wiki"))                # doctest: +SKIP
"""

from __future__ import annotations

import logging
import sys

from embedrec.serving.config import ServeConfig
from embedrec.serving.reload_sync import ReloadBroadcast


def configure_worker(config: ServeConfig) -> ReloadBroadcast | None:
    """Per-process setup: FAISS's OpenMP threads, logging (service events at INFO, the access
    log); the reload broadcast when this process is one of several workers."""
    if config.omp_threads is not None:
        import faiss

        # Many concurrent searches are faster single-threaded each: OpenMP teams per search
        # fight over the cores. This sets the main thread; `ServiceState.run` sets the
        # threads that search (OpenMP's setting is per thread).
        faiss.omp_set_num_threads(config.omp_threads)
    # Reloads and refusals are what an operator looks for: INFO and up, whatever -v says.
    events = logging.getLogger("embedrec.serving")
    if not events.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        events.addHandler(handler)
        events.setLevel(min(events.getEffectiveLevel(), logging.INFO))
        events.propagate = False
    if config.access_log:
        access = logging.getLogger("embedrec.serving.access")
        if not access.handlers:
            handler = logging.StreamHandler(sys.stderr)
            handler.setFormatter(logging.Formatter("%(asctime)s access %(message)s"))
            access.addHandler(handler)
        access.setLevel(logging.INFO)
        access.propagate = False
    if config.control_dir:
        return ReloadBroadcast(config.control_dir, workers=config.workers)
    return None
