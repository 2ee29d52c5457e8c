"""Concurrent single-word neighbour queries answered by one FAISS search.

``GET /v1/neighbors`` requests that arrive within ``window`` seconds of each other (``embedrec
serve --coalesce-ms``, at most 1 ms; 0 turns coalescing off) for the same index snapshot and
the same ``k`` are gathered into one batch, searched with one ``index.search`` call in the
service's search pool, and each request gets its own answer — exactly what a search of its
word alone gives (``neighbors(word, k)`` is ``neighbors_batch([word], k)[0]``; here as answer
items ``{"token": ..., "score": ...}``, see `embedrec.serving.batch_items.neighbor_lists`) —
or its own error: an unknown word fails only its request (404 ``unknown_word``), the others of
the batch are answered.

A batch is keyed by the snapshot object itself, so it never mixes indexes, and a hot reload
that swaps the index while a batch is gathering does not change the batch: every request in
it took the same snapshot when it arrived; requests taking the new snapshot start a new batch.

Needs a running event loop and a built index, so not run as a doctest:

>>> coalescer = Coalescer(state.run, window=0.0005)              # doctest: +SKIP
>>> await coalescer.neighbors(state.current(), "shark", 10)      # doctest: +SKIP
[{'token': 'whale', 'score': 0.81}, ...]
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from embedrec.core.errors import EmbedrecError
from embedrec.indexes.word_index import WordIndex
from embedrec.serving.batch_items import Neighbors, neighbor_lists
from embedrec.serving.state import IndexSnapshot

MAX_WINDOW_SECONDS = 0.001
Runner = Callable[..., Awaitable[Any]]
# One answer per word: its neighbours, or the error its request alone raises.
Outcome = Neighbors | EmbedrecError


@dataclass
class _Batch:
    """Requests gathering for one (snapshot, k)."""

    snapshot: IndexSnapshot
    k: int
    words: list[str] = field(default_factory=list)
    waiters: list[asyncio.Future[Neighbors]] = field(default_factory=list)
    timer: asyncio.TimerHandle | None = None


class Coalescer:
    """Gathers concurrent ``neighbors(word, k)`` calls into one search per (snapshot, k).

    ``run``: how blocking work runs (`ServiceState.run`: the search thread pool);
    ``window``: seconds a batch waits for company after its first request (0 < window ≤
    1 ms); ``max_size``: a batch this large is searched at once without waiting.
    """

    def __init__(self, run: Runner, *, window: float, max_size: int = 256) -> None:
        if not 0 < window <= MAX_WINDOW_SECONDS:
            raise ValueError(f"window must be in (0, {MAX_WINDOW_SECONDS}] seconds: {window}")
        if max_size < 1:
            raise ValueError(f"max_size must be >= 1: {max_size}")
        self._run = run
        self.window = window
        self.max_size = max_size
        self._pending: dict[tuple[int, int], _Batch] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self.batches = 0  # searches made (for tests and the curious)
        self.queries = 0

    async def neighbors(self, snapshot: IndexSnapshot, word: str, k: int) -> Neighbors:
        """The ``k`` nearest words to ``word`` in ``snapshot``'s index, searched together
        with the other requests of the window; raises what a lone search would raise."""
        loop = asyncio.get_running_loop()
        key = (id(snapshot), k)
        batch = self._pending.get(key)
        if batch is None or batch.snapshot is not snapshot:
            batch = self._pending[key] = _Batch(snapshot, k)
            batch.timer = loop.call_later(self.window, self._flush, key, batch)
        waiter: asyncio.Future[Neighbors] = loop.create_future()
        batch.words.append(word)
        batch.waiters.append(waiter)
        if len(batch.words) >= self.max_size:
            self._flush(key, batch)
        return await waiter

    def _flush(self, key: tuple[int, int], batch: _Batch) -> None:
        """Close ``batch`` to newcomers and search it in the pool."""
        if self._pending.get(key) is batch:
            del self._pending[key]
        if batch.timer is not None:
            batch.timer.cancel()
            batch.timer = None
        task = asyncio.get_running_loop().create_task(self._answer(batch))
        self._tasks.add(task)  # keep a reference until done (the loop holds only weak ones)
        task.add_done_callback(self._tasks.discard)

    async def _answer(self, batch: _Batch) -> None:
        self.batches += 1
        self.queries += len(batch.words)
        try:
            outcomes = await self._run(search_words, batch.snapshot.index, batch.words, batch.k)
        except BaseException as exc:  # an unexpected failure fails every request of the batch
            for waiter in batch.waiters:
                if not waiter.done():
                    waiter.set_exception(exc)
            if not isinstance(exc, Exception):
                raise
            return
        for waiter, outcome in zip(batch.waiters, outcomes, strict=True):
            if waiter.done():  # the request was cancelled (client gone)
                continue
            if isinstance(outcome, EmbedrecError):
                waiter.set_exception(outcome)
            else:
                waiter.set_result(outcome)


def search_words(index: WordIndex, words: list[str], k: int) -> list[Outcome]:
    """Neighbours of each of ``words`` with one search (blocking: runs in the search pool).

    Each word's outcome is what ``index.neighbors(word, k)`` alone returns or raises: an
    unknown word its `UnknownWordError`, a ``k`` too large its `ConfigError`.
    """
    outcomes: list[Outcome | None] = [None] * len(words)
    known: list[int] = []
    ids: list[int] = []
    for position, word in enumerate(words):
        try:
            ids.append(index.id(word))
        except EmbedrecError as exc:
            outcomes[position] = exc
        else:
            known.append(position)
    if known:
        try:
            found = neighbor_lists(index, ids, k)
        except EmbedrecError as exc:  # e.g. k above what the index holds: each one fails
            for position in known:
                outcomes[position] = exc
        else:
            for position, neighbours in zip(known, found, strict=True):
                outcomes[position] = neighbours
    return [outcome for outcome in outcomes if outcome is not None]
