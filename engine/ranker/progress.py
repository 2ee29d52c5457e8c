"""What a ranker run tells the user while it runs: a progress bar and ``metrics.jsonl``.

Mirrors `engine.skipgram.progress` (the skip-gram's) with examples instead of words. The bar
(stderr, tqdm) shows examples/s, the mean log loss of the last interval and the ETA;
``metrics.jsonl`` gets one JSON object per interval, one per epoch end (with validation
figures when the run validates), appended and flushed line by line, so a crashed or resumed
run keeps its curve.

>>> log = TrainingLog(model_dir, total_examples=5_400_000, initial_examples=0,  # doctest: +SKIP
...                   enabled=True, show_progress=True)              # doctest: +SKIP
>>> log.advance(examples=2048, loss_sum=812.5, record={"epoch": 0, "step": 1})  # doctest: +SKIP
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from pathlib import Path
from typing import Any

from tqdm import tqdm

from embedrec.engine.skipgram.progress import METRICS_FILE

log = logging.getLogger(__name__)


class TrainingLog:
    """Progress bar and metrics file of one run (a no-op on ranks other than 0)."""

    def __init__(
        self,
        model_dir: Path,
        *,
        total_examples: int,
        initial_examples: int,
        enabled: bool,
        show_progress: bool,
        interval_s: float = 5.0,
    ) -> None:
        self.enabled = enabled
        self.interval_s = interval_s
        self.path = model_dir / METRICS_FILE
        now = time.perf_counter()
        self._window_start = now
        self._window_loss = 0.0
        self._window_examples = 0
        self.last_loss: float | None = None
        self.bar = tqdm(
            total=total_examples,
            initial=initial_examples,
            unit="ex",
            unit_scale=True,
            desc="ranker",
            file=sys.stderr,
            dynamic_ncols=True,
            smoothing=0.05,
            disable=not (enabled and show_progress),
        )

    def advance(self, *, examples: int, loss_sum: float, record: dict[str, Any]) -> None:
        """Count ``examples`` trained on; write a metrics line when the interval has passed."""
        if not self.enabled:
            return
        self._window_loss += loss_sum
        self._window_examples += examples
        self.bar.update(examples)
        if time.perf_counter() - self._window_start >= self.interval_s:
            self.emit(record)

    def emit(self, record: dict[str, Any]) -> None:
        """Write one metrics line for the window since the last one (if it has examples)."""
        if not self.enabled or self._window_examples == 0:
            return
        now = time.perf_counter()
        loss = self._window_loss / self._window_examples
        rate = self._window_examples / max(now - self._window_start, 1e-9)
        self.last_loss = loss
        self.bar.set_postfix(loss=f"{loss:.4f}", refresh=False)
        self.write({**record, "loss": round(loss, 6), "examples_per_sec": round(rate, 1)})
        self._window_loss = 0.0
        self._window_examples = 0
        self._window_start = now

    def write(self, record: dict[str, Any]) -> None:
        """Append one line to ``metrics.jsonl`` (flushed and synced)."""
        if not self.enabled:
            return
        line = {**record, "time": time.time()}
        with open(self.path, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(line) + "\n")
            handle.flush()
            os.fsync(handle.fileno())

    def note(self, text: str) -> None:
        """A line above the bar (validation figures at an epoch end); logged without a bar."""
        if not self.enabled:
            return
        if self.bar.disable:
            log.info("%s", text)
        else:
            self.bar.write(text, file=sys.stderr)

    def close(self) -> None:
        self.bar.close()
