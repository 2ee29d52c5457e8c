"""Prometheus metrics of the service (``GET /metrics``).

=============================================  =============================================
``embedrec_http_requests_total``               requests by ``method``, ``route``, ``status``
``embedrec_http_request_duration_seconds``     latency histogram by ``method``, ``route``
``embedrec_http_requests_in_progress``         requests being answered now
``embedrec_queries_total``                     queries by ``endpoint``, ``index`` (batch: each)
``embedrec_index_vectors`` / ``_dim``          size of each served index (label ``index``)
``embedrec_index_recall_at_10``                measured recall@10 (1 for exact indexes)
``embedrec_index_generation``                  reload counter shared by all workers
``embedrec_index_loaded_timestamp_seconds``    when the served index was loaded
``embedrec_index_info``                        1, labels index/path/kind/factory/metric/shards
``embedrec_index_reloads_total``               reloads by ``result`` (ok, refused)
``embedrec_build_info``                        1, labels version/python/faiss/fastapi
=============================================  =============================================

Routes are labelled by their template (``/v1/neighbors``), never the raw path, so the label
count stays bounded; unmatched paths are ``unmatched``. Each app gets its own registry. With
several workers (``PROMETHEUS_MULTIPROC_DIR`` set by the server), values live in shared
files and a scrape of any worker reports the sum over all of them.
"""

from __future__ import annotations

import importlib.metadata
import math
import os
import platform
from collections.abc import Callable
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from embedrec.serving.state import IndexSnapshot

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
LATENCY_BUCKETS = (
    0.00025,
    0.0005,
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
)
INDEX_INFO_LABELS = ("index", "path", "kind", "factory", "metric", "shards")


class ServiceMetrics:
    """The metric objects of one app and how to render them."""

    content_type = CONTENT_TYPE_LATEST

    def __init__(self) -> None:
        self.multiprocess = bool(os.environ.get(MULTIPROC_ENV))
        registry = self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "embedrec_http_requests",
            "HTTP requests answered, by method, route template and status.",
            ["method", "route", "status"],
            registry=registry,
        )
        self.latency = Histogram(
            "embedrec_http_request_duration_seconds",
            "Time from request start to the last byte of the answer.",
            ["method", "route"],
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self.in_progress = Gauge(
            "embedrec_http_requests_in_progress",
            "Requests being answered now.",
            registry=registry,
            multiprocess_mode="livesum",
        )
        self.queries = Counter(
            "embedrec_queries",
            "Queries answered, by endpoint and index (each word or vector of a batch counts).",
            ["endpoint", "index"],
            registry=registry,
        )
        self.reloads = Counter(
            "embedrec_index_reloads",
            "Index reloads in this service, by result (ok, refused).",
            ["result"],
            registry=registry,
        )
        by_index = ("index",)
        self.index_vectors = self._gauge(
            "embedrec_index_vectors", "Vectors in the served index.", by_index
        )
        self.index_dim = self._gauge(
            "embedrec_index_dim", "Dimension of the served vectors.", by_index
        )
        self.index_recall = self._gauge(
            "embedrec_index_recall_at_10",
            "recall@10 measured at build time (1 for exact indexes, NaN when unknown).",
            by_index,
        )
        self.index_generation = self._gauge(
            "embedrec_index_generation",
            "Reload generation of the served index (0 at start).",
            by_index,
        )
        self.index_loaded = self._gauge(
            "embedrec_index_loaded_timestamp_seconds",
            "Unix time the served index was loaded.",
            by_index,
        )
        self.index_info = self._gauge(
            "embedrec_index_info",
            "The served index (value 1; 0 for earlier ones).",
            INDEX_INFO_LABELS,
        )
        self.build_info = self._gauge(
            "embedrec_build_info", "Versions of this service (value 1).", _BUILD_LABELS
        )
        self.build_info.labels(*_build_values()).set(1)
        self._info_labels: dict[str, tuple[str, ...]] = {}
        # Label children looked up once: ``labels()`` hashes and locks on every call.
        self._request_children: dict[tuple[str, str, int], tuple[Any, Any]] = {}

    def query_counter(self, endpoint: str) -> Callable[[str], Any]:
        """``embedrec_queries_total{endpoint=..., index=name}``'s child for an index name,
        looked up once per name."""
        children: dict[str, Any] = {}

        def child(index: str) -> Any:
            found = children.get(index)
            if found is None:
                found = children[index] = self.queries.labels(endpoint, index)
            return found

        return child

    def _gauge(self, name: str, documentation: str, labels: tuple[str, ...] = ()) -> Gauge:
        return Gauge(
            name,
            documentation,
            list(labels),
            registry=self.registry,
            multiprocess_mode="livemostrecent",
        )

    def set_index(self, snapshot: IndexSnapshot, previous: IndexSnapshot | None = None) -> None:
        """Point the index gauges at ``snapshot`` (an `ServiceState.on_swap` callback)."""
        info = snapshot.describe()
        name = snapshot.name
        self.index_vectors.labels(name).set(info["vectors"])
        self.index_dim.labels(name).set(info["dim"])
        recall = info["recall_at_10"]
        self.index_recall.labels(name).set(float(recall) if recall is not None else math.nan)
        self.index_generation.labels(name).set(info["generation"])
        self.index_loaded.labels(name).set(snapshot.loaded_at)
        labels = tuple(str(info[key if key != "index" else "name"]) for key in INDEX_INFO_LABELS)
        earlier = self._info_labels.get(name)
        if earlier is not None and earlier != labels:
            self.index_info.labels(*earlier).set(0)
        self.index_info.labels(*labels).set(1)
        self._info_labels[name] = labels
        if previous is not None:
            self.reloads.labels("ok").inc()

    def render(self) -> bytes:
        """The text exposition format: this app's registry, or all workers' files."""
        if not self.multiprocess:
            return generate_latest(self.registry)
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry)


_BUILD_LABELS = ("version", "python", "faiss", "fastapi", "uvicorn")


def _build_values() -> tuple[str, ...]:
    def version(package: str) -> str:
        try:
            return importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            return "unknown"

    faiss = version("faiss-cpu")
    if faiss == "unknown":
        faiss = version("faiss-gpu-cu12")
    return (
        version("embedrec"),
        platform.python_version(),
        faiss,
        version("fastapi"),
        version("uvicorn"),
    )


def observe_request(
    metrics: ServiceMetrics, method: str, route: str, status: int, seconds: float
) -> None:
    """Count one answered request and its latency (label children cached per key)."""
    key = (method, route, status)
    children = metrics._request_children.get(key)
    if children is None:
        children = (
            metrics.requests.labels(method, route, str(status)),
            metrics.latency.labels(method, route),
        )
        metrics._request_children[key] = children
    children[0].inc()
    children[1].observe(seconds)
