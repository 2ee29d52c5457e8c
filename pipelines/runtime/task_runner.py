"""Run one stage of a pipeline as Dask tasks, with a progress bar and fail-fast errors.

>>> runner = TaskRunner(client, progress=True)                       # doctest: +SKIP
>>> stats = runner.map("tokenize", tokenize_partition, partitions, ctx=ctx,  # doctest: +SKIP
...                    weights=[p.bytes for p in partitions], unit="B")

Results come back in the order of ``items`` whatever order the tasks finish in. The first task
that fails cancels the others and its exception is raised in the caller.

Dask runs a task again when the worker running it (or holding its result) dies, so every task
must be idempotent: its files depend only on its arguments, keep the same names on a rerun,
and appear whole or not at all (`task_output`). Files of a task killed mid-write are left as
hidden ``.*.tmp`` names, which `remove_stray_temp_files` clears before a job finishes.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
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
        self._record(stage, len(futures), started)
        return results

    def one(self, stage: str, func: Callable[..., Any], item: Any, **kwargs: Any) -> Any:
        """``func(item, **kwargs)`` as one task on the cluster (no progress bar)."""
        started = time.perf_counter()
        future = self.client.submit(func, item, pure=False, **kwargs)
        try:
            result = future.result()
        except BaseException:
            self.client.cancel([future])
            raise
        self._record(stage, 1, started)
        return result

    def _record(self, stage: str, tasks: int, started: float) -> None:
        elapsed = time.perf_counter() - started
        self.seconds[stage] = self.seconds.get(stage, 0.0) + elapsed
        log.info("%s: %d task(s) in %.1f s", stage, tasks, elapsed)


@contextlib.contextmanager
def task_output(path: str | Path) -> Iterator[Path]:
    """Yield a hidden temporary name beside ``path``; rename it to ``path`` on success.

    For scratch files written by tasks that Dask may run twice: a rerun replaces the file
    with the same bytes, and a reader never sees half a file. Unlike
    `embedrec.core.artifacts.atomic_path` there is no fsync (scratch dies with the job).

    >>> with task_output(scratch / "b001" / "part-000007.parquet") as tmp:  # doctest: +SKIP
    ...     pq.write_table(table, tmp)
    """
    final = Path(path)
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = final.with_name(f".{final.name}.{uuid.uuid4().hex[:12]}.tmp")
    try:
        yield tmp
        os.replace(tmp, final)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


def remove_stray_temp_files(directory: str | Path) -> int:
    """Delete the hidden ``.*.tmp`` files a killed task left under ``directory``; count them.

    Both `task_output` and `embedrec.core.artifacts.atomic_path` name their temporary files so.
    """
    removed = 0
    for path in Path(directory).rglob(".*.tmp"):
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
            removed += 1
    if removed:
        log.info("removed %d temporary file(s) left by killed tasks", removed)
    return removed
