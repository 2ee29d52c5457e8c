"""Run one stage of a pipeline as Dask tasks, with a progress bar and fail-fast errors.

>>> runner = TaskRunner(client, progress=True)                       # doctest: +SKIP
>>> stats = runner.map("tokenize", tokenize_partition, partitions, ctx=ctx,
...                    weights=[p.bytes for p in partitions], unit="B")

Results come back in the order of ``items`` whatever order the tasks finish in. The first task
that fails cancels the others and its exception is raised in the caller.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

log = logging.getLogger(__name__)


class TaskRunner:
    """Maps functions over items on a ``distributed.Client``; remembers each stage's time."""

    def __init__(self, client: Any, *, progress: bool = False) -> None:
        self.client = client
        self.progress = progress
        self.seconds: dict[str, float] = {}

    def map(
        self,
        stage: str,
        func: Callable[..., Any],
        items: Sequence[Any],
        *,
        weights: Sequence[int] | None = None,
        unit: str = "task",
        **kwargs: Any,
    ) -> list[Any]:
        """``[func(item, **kwargs) for item in items]``, run in parallel on the cluster."""
        from distributed import as_completed
        from tqdm import tqdm

        started = time.perf_counter()
        weights = list(weights) if weights is not None else [1] * len(items)
        futures = self.client.map(func, list(items), pure=False, **kwargs)
        position = {future.key: i for i, future in enumerate(futures)}
        results: list[Any] = [None] * len(futures)
        bar = tqdm(
            total=sum(weights),
            desc=stage,
            unit=unit,
            unit_scale=unit == "B",
            unit_divisor=1024 if unit == "B" else 1000,
            disable=not self.progress,
            file=sys.stderr,
            leave=True,
            dynamic_ncols=True,
        )
        try:
            for future in as_completed(futures):
                index = position[future.key]
                results[index] = future.result()  # re-raises the task's exception here
                bar.update(weights[index])
        except BaseException:
            self.client.cancel(futures)
            raise
        finally:
            bar.close()
        elapsed = time.perf_counter() - started
        self.seconds[stage] = self.seconds.get(stage, 0.0) + elapsed
        log.info("%s: %d task(s) in %.1f s", stage, len(futures), elapsed)
        return results
