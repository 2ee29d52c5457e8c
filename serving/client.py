"""`Client`: the Python client of a running embedrec service, with the library's methods.

>>> from embedrec.serving import Client
>>> with Client("http://localhost:8000") as client:                    # doctest: +SKIP
...     client.neighbors("shark", k=3)
...     client.analogy("italy", "rome", "germany", k=1)
[ScoredWord(token='sharks', score=0.79), ...]
[ScoredWord(token='berlin', score=0.74)]

Answers are the library's own types (`indexes.ScoredWord`, numpy vectors), and errors the
library's own exceptions where there is one: an unknown word raises
`indexes.UnknownWordError` (with the server's suggestion), a bad k `ConfigError`. Service
errors raise `embedrec.serving.errors` classes: `AuthenticationError` (401), `ForbiddenError` (403),
`PayloadTooLargeError` (413), `InvalidIndexError` (a refused reload), `InvalidRequestError`,
`ServiceUnavailableError` (refused connection, 5xx) and `ServiceTimeoutError`. All are
`EmbedrecError`s. One `httpx.Client` keeps connections open between calls; connection
failures are retried ``retries`` times (nothing was sent then, so it is safe for POST too).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any, Literal

import httpx
import numpy as np

from embedrec.core.errors import ConfigError
from embedrec.indexes.word_index import ScoredWord
from embedrec.serving.config import TOKEN_ENV
from embedrec.serving.errors import ServiceUnavailableError, error_from_answer

DEFAULT_TIMEOUT = 10.0


class ServiceTimeoutError(ServiceUnavailableError):
    """The service did not answer within the client's timeout."""

    code = "timeout"


class Client:
    """A connection to ``url`` (``http://host:port``). ``token``: bearer token (default: the
    ``EMBEDREC_TOKEN`` environment variable); ``timeout``: seconds per request; ``index``:
    the name of the index to ask (default: the service's default index)."""

    def __init__(
        self,
        url: str,
        *,
        token: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        retries: int = 2,
        batch_size: int = 1024,
        index: str | None = None,
    ) -> None:
        if not url.startswith(("http://", "https://")):
            raise ConfigError("url", url, "an http:// or https:// address of a running service")
        if timeout <= 0:
            raise ConfigError("timeout", timeout, "a number of seconds > 0")
        if batch_size < 1:
            raise ConfigError("batch_size", batch_size, "an integer >= 1")
        token = token if token is not None else os.environ.get(TOKEN_ENV) or None
        headers = {"user-agent": "embedrec-client", "accept": "application/json"}
        if token:
            headers["authorization"] = f"Bearer {token}"
        self.url = url.rstrip("/")
        self.timeout = timeout
        self.batch_size = batch_size
        self.index = index
        self._metric: str | None = None
        self._http = httpx.Client(
            base_url=self.url,
            headers=headers,
            timeout=timeout,
            transport=httpx.HTTPTransport(retries=retries),
        )

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the kept-open connections."""
        self._http.close()

    def __repr__(self) -> str:
        return f"Client({self.url!r})"

    @property
    def metric(self) -> str:
        """The asked index's metric: ``cosine``, ``ip`` or ``l2`` (asked once)."""
        if self._metric is None:
            answer = self.indexes()
            name = self.index or answer["default"]
            found = [i for i in answer["indexes"] if i["name"] == name]
            self._metric = str((found or answer["indexes"])[0]["metric"])
        return self._metric

    def health(self) -> dict[str, Any]:
        """``/healthz``: status, version and the served indexes (kind, size, recall, path);
        without the service's token, the status alone."""
        return dict(self._request("GET", "/healthz"))

    def ready(self) -> bool:
        """``/readyz``: True when every served index answers a search (False on 503)."""
        try:
            return self._request("GET", "/readyz").get("status") == "ready"
        except ServiceUnavailableError as exc:
            if exc.http_status == 503:
                return False
            raise

    def indexes(self) -> dict[str, Any]:
        """``/v1/indexes``: ``{"default": name, "indexes": [{name, dim, vectors, kind,
        metric, ...}]}`` (each index's ``path`` only with the token)."""
        return dict(self._request("GET", "/v1/indexes"))

    def neighbors(
        self, word_or_vector: str | Sequence[float] | np.ndarray, k: int = 10
    ) -> list[ScoredWord]:
        """The ``k`` nearest words to a word (itself excluded) or to a vector."""
        if isinstance(word_or_vector, str):
            params = self._with_index({"word": word_or_vector, "k": k})
            answer = self._request("GET", "/v1/neighbors", params=params)
            self._metric = answer["metric"]
            return _scored(answer["neighbors"])
        return self.neighbors_batch([word_or_vector], k)[0]

    def neighbors_batch(
        self,
        words_or_vectors: Sequence[str | Sequence[float] | np.ndarray] | np.ndarray,
        k: int = 10,
        *,
        on_unknown: Literal["raise", "empty"] = "raise",
    ) -> list[list[ScoredWord]]:
        """`neighbors` of many words and/or vectors (sent ``batch_size`` per request).

        The service answers every item on its own; an unknown word's item is an error.
        ``on_unknown="raise"`` (as the library does) raises that word's `UnknownWordError`
        (with the server's suggestion); ``"empty"`` gives it an empty list and keeps the rest.
        """
        if on_unknown not in ("raise", "empty"):
            raise ConfigError("on_unknown", on_unknown, "'raise' or 'empty'")
        items = list(words_or_vectors)
        results: list[list[ScoredWord] | None] = [None] * len(items)
        words = [i for i, item in enumerate(items) if isinstance(item, str)]
        vectors = [i for i, item in enumerate(items) if not isinstance(item, str)]
        for positions, key in ((words, "words"), (vectors, "vectors")):
            for start in range(0, len(positions), self.batch_size):
                chunk = positions[start : start + self.batch_size]
                payload = [
                    items[i] if key == "words" else np.asarray(items[i], dtype=float).tolist()
                    for i in chunk
                ]
                body = self._with_index({key: payload, "k": k})
                answer = self._request("POST", "/v1/neighbors", json=body)
                self._metric = answer["metric"]
                for i, row in zip(chunk, answer["results"], strict=True):
                    if row.get("error") and on_unknown == "raise":
                        raise error_from_answer(404, row)
                    results[i] = _scored(row["neighbors"])
        return [row if row is not None else [] for row in results]

    def analogy(
        self, a: str, b: str, c: str, k: int = 5, method: str = "3cosadd"
    ) -> list[ScoredWord]:
        """``a`` is to ``b`` as ``c`` is to ? — the best ``k`` answers, inputs excluded."""
        params = self._with_index({"a": a, "b": b, "c": c, "k": k, "method": method})
        answer = self._request("GET", "/v1/analogy", params=params)
        self._metric = answer["metric"]
        return _scored(answer["answers"])

    def vector(self, word: str) -> np.ndarray:
        """float32 (dim,): the stored vector of ``word``."""
        answer = self._request("GET", "/v1/vector", params=self._with_index({"word": word}))
        return np.asarray(answer["vector"], dtype=np.float32)

    def map(self, word: str, k: int = 20) -> dict[str, Any]:
        """2-D PCA coordinates of ``word`` and its ``k`` neighbours (the explorer's map)."""
        params = self._with_index({"word": word, "k": k})
        return dict(self._request("GET", "/v1/map", params=params))

    def reload(self, index: str | None = None, *, name: str | None = None) -> dict[str, Any]:
        """Serve ``index`` (a directory on the server's machine) as index ``name`` (default:
        the service's default index), or reload its current directory.

        Needs the token; raises `InvalidIndexError` when the service refuses the index
        (it keeps serving the old one).
        """
        body = {} if index is None else {"index": str(index)}
        if name is not None:
            body["name"] = name
        answer = dict(self._request("POST", "/admin/reload", json=body))
        self._metric = None
        return answer

    def reload_ranker(self, ranker: str | None = None) -> dict[str, Any]:
        """Load the click ranker from ``ranker`` (default: its current directory) in every
        worker; needs the token. `InvalidIndexError` (``invalid_ranker``) when refused."""
        body = {} if ranker is None else {"ranker": str(ranker)}
        return dict(self._request("POST", "/admin/reload-ranker", json=body))

    def _with_index(self, values: dict[str, Any]) -> dict[str, Any]:
        if self.index is not None:
            values["index"] = self.index
        return values

    def metrics(self) -> str:
        """The Prometheus text of ``/metrics``."""
        return str(self._request("GET", "/metrics", raw=True))

    def _request(self, method: str, path: str, *, raw: bool = False, **kwargs: Any) -> Any:
        try:
            response = self._http.request(method, path, **kwargs)
        except httpx.TimeoutException:
            raise ServiceTimeoutError(
                f"{self.url}{path}: no answer within {self.timeout:g} s", status=0
            ) from None
        except httpx.TransportError as exc:
            raise ServiceUnavailableError(
                f"cannot reach {self.url}: {exc or type(exc).__name__}", status=0
            ) from None
        request_id = response.headers.get("x-request-id")
        if response.is_error:
            try:
                body = response.json()
            except ValueError:
                body = {"detail": f"HTTP {response.status_code}: {response.text[:200].strip()}"}
            raise error_from_answer(response.status_code, body, request_id)
        if raw:
            return response.text
        try:
            return response.json()
        except ValueError:
            raise ServiceUnavailableError(
                f"{self.url}{path} answered {response.status_code} without JSON",
                status=response.status_code,
                request_id=request_id,
            ) from None


def _scored(rows: list[dict[str, Any]]) -> list[ScoredWord]:
    return [ScoredWord(str(row["token"]), float(row["score"])) for row in rows]
