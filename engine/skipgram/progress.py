"""What a training run tells the user while it runs: a progress bar and ``metrics.jsonl``.

The bar (stderr, tqdm) shows words/s, loss, learning rate and ETA. ``metrics.jsonl`` gets one
JSON object per interval and per epoch end, appended and flushed line by line, so a crashed
or resumed run keeps its curve; ``embedrec plot`` and the benches read it.

>>> log = RunLog(model_dir, total_words=5 * 17_000_000, enabled=True)      # doctest: +SKIP
>>> log.advance(words=200_000, loss_sum=1234.5, pairs=900_000,       # doctest: +SKIP
...             lr=0.0249, position=pos)
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from tqdm import tqdm

METRICS_FILE = "metrics.jsonl"


class RunLog:
    """Progress bar and metrics file of one run (a no-op on ranks other than 0)."""

    def __init__(
        self,
        model_dir: Path,
        *,
        total_words: int,
        initial_words: int,
        enabled: bool,
        show_progress: bool,
        interval_s: float = 5.0,
        unit: str = "w",
    ) -> None:
        self.enabled = enabled
        self.interval_s = interval_s
        self.path = model_dir / METRICS_FILE
        self.started = time.perf_counter()
        self._last_emit = self.started
        self._window_loss = 0.0
        self._window_pairs = 0
        self._window_words = 0
        self._window_start = self.started
        self.last_loss: float | None = None
        self.bar = tqdm(
            total=total_words,
            initial=initial_words,
            unit=unit,
            unit_scale=True,
            desc="skip-gram",
            file=sys.stderr,
            dynamic_ncols=True,
            smoothing=0.05,
            disable=not (enabled and show_progress),
        )

    def advance(
        self, *, words: int, loss_sum: float, pairs: int, lr: float, record: dict[str, Any]
    ) -> None:
        """Count ``words`` consumed; emit a metrics line when the interval has passed."""
        if not self.enabled:
            return
        self._window_loss += loss_sum
        self._window_pairs += pairs
        self._window_words += words
        self.bar.update(words)
        now = time.perf_counter()
        if now - self._last_emit >= self.interval_s:
            self.emit(lr=lr, record=record, now=now)

    def emit(
        self,
        *,
        lr: float,
        record: dict[str, Any],
        now: float | None = None,
        loss: float | None = None,
    ) -> None:
        """Write one metrics line for the window since the last one.

        ``loss`` replaces the window's mean loss (an epoch-end line carries the epoch's).
        """
        if not self.enabled or (self._window_pairs == 0 and loss is None):
            return
        now = time.perf_counter() if now is None else now
        if loss is None:
            loss = self._window_loss / self._window_pairs
        rate = self._window_words / max(now - self._window_start, 1e-9)
        self.last_loss = loss
        self.bar.set_postfix(loss=f"{loss:.4f}", lr=f"{lr:.5f}", refresh=False)
        line = {
            **record,
            "loss": round(loss, 6),
            "lr": lr,
            "words_per_sec": round(rate, 1),
            "time": time.time(),
        }
        with open(self.path, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(line) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        self._window_loss = 0.0
        self._window_pairs = 0
        self._window_words = 0
        self._window_start = now
        self._last_emit = now

    def close(self) -> None:
        self.bar.close()


def read_metrics(model_dir: str | Path) -> list[dict[str, Any]]:
    """All metrics lines of a model directory (an empty list when there are none)."""
    path = Path(model_dir) / METRICS_FILE
    if not path.exists():
        return []
    lines = []
    for raw in path.read_text(encoding="utf-8").splitlines():
        if raw.strip():
            try:
                lines.append(json.loads(raw))
            except ValueError:  # a line cut by a crash: everything before it is whole
                break
    return lines
