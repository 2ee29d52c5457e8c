"""Early stopping on the validation split: keep the best epoch, stop when it stops improving.

After every epoch the trainer scores the validation split (`embedrec.engine.ranker.train.validate`)
and calls `on_epoch_end`. An epoch whose metric beats the best so far (validation AUC by
default, higher is better; or log loss, lower is better) becomes the best: its weights are
written whole to ``MODEL/best/model.pt`` with ``best/epoch.json``. After ``patience``
epochs in a row without improvement training stops; ``--epochs`` is only the maximum. The
exported ``model.pt`` holds the best epoch's weights, and the run result, the manifest and
``metrics.jsonl`` say which epoch was kept and why training stopped (``stop_reason``):

- ``patience``: ``patience`` epochs without improvement;
- ``max_epochs``: reached ``--epochs`` (the kept epoch may still be an earlier one);
- ``no_validation``: nothing to judge by (``--no-validate`` or an empty split): the last
  epoch is kept, as before.

The counters live in the trainer's position state (``state["early_stop"]``), which every
checkpoint saves, so ``--resume`` carries on counting and a run resumed after it stopped
stops again at once. The checkpoints keep the *last* epoch's weights (what a resume with a
larger ``--epochs`` continues from); only the export takes the best. Every rank computes
the same validation figures (they are gathered to all), so every rank takes the same
decision and joins the collective weight gather.

>>> rule = StopRule(metric="auc", patience=2)
>>> state = initial_state()
>>> [observe(state, rule, e, {"auc": a}) for e, a in enumerate([0.70, 0.72, 0.71, 0.715])]
[True, True, False, False]
>>> state["best_epoch"], state["stale"], should_stop(state, rule)
(1, 2, True)
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from embedrec.core.artifacts import read_json, write_json
from embedrec.engine.errors import EngineError
from embedrec.engine.ranker.files import load_model_state, save_model_state

BEST_DIR = "best"
BEST_EPOCH_FILE = "epoch.json"


@dataclass(frozen=True)
class StopRule:
    """Which validation figure decides and how long to wait for it.

    Attributes:
        metric: ``auc`` (higher is better) or ``log_loss`` (lower is better).
        patience: epochs without improvement before stopping; None: never stop early
            (the best epoch is still the one kept).
        min_delta: an epoch must beat the best by more than this to count as better.
    """

    metric: str = "auc"
    patience: int | None = 2
    min_delta: float = 0.0

    def better(self, value: float, best: float | None) -> bool:
        if best is None:
            return True
        if self.metric == "log_loss":
            return value < best - self.min_delta
        return value > best + self.min_delta


def initial_state() -> dict[str, Any]:
    """The counters a fresh run starts with (JSON-ready: they go into checkpoints)."""
    return {
        "best_epoch": None,
        "best_value": None,
        "best_figures": None,
        "stale": 0,
        "epochs_run": 0,
        "stopped": None,
    }


def observe(state: dict[str, Any], rule: StopRule, epoch: int, figures: dict[str, Any]) -> bool:
    """Count epoch ``epoch`` (0-based) with its validation ``figures``; True when it is the
    new best. An undefined metric (a one-class split) counts as an improvement, so such a
    run keeps its last epoch as before."""
    state["epochs_run"] = epoch + 1
    value = figures.get(rule.metric)
    if value is None or (isinstance(value, float) and math.isnan(value)):
        state.update(best_epoch=epoch, best_value=None, best_figures=figures, stale=0)
        return True
    if rule.better(float(value), state["best_value"]):
        state.update(best_epoch=epoch, best_value=float(value), best_figures=figures, stale=0)
        return True
    state["stale"] += 1
    return False


def should_stop(state: dict[str, Any], rule: StopRule) -> bool:
    """True (and ``state["stopped"]`` set) once ``patience`` epochs went by without gain."""
    if state["stopped"] is None and rule.patience is not None and state["stale"] >= rule.patience:
        state["stopped"] = "patience"
    return state["stopped"] is not None


def save_best(out: Path, weights: dict[str, torch.Tensor], epoch: int, figures: dict) -> None:
    """Rank 0: write the best epoch's whole weights (``best/model.pt``, then its epoch)."""
    best = out / BEST_DIR
    best.mkdir(parents=True, exist_ok=True)
    save_model_state(best, weights)
    write_json(best / BEST_EPOCH_FILE, {"epoch": epoch, "validation": figures})


def load_best(out: Path, epoch: int) -> dict[str, torch.Tensor]:
    """The weights `save_best` wrote for ``epoch``; `EngineError` when they are another's."""
    best = out / BEST_DIR
    marker = best / BEST_EPOCH_FILE
    saved = read_json(marker).get("epoch") if marker.exists() else None
    if saved != epoch:
        raise EngineError(
            f"{best} holds epoch {saved}, not the best epoch {epoch} the checkpoint names; "
            "train again with --overwrite"
        )
    return load_model_state(best)


def outcome(state: dict[str, Any], rule: StopRule, *, validating: bool) -> dict[str, Any]:
    """What the run reports: kept epoch (1-based), epochs run, why it stopped, the rule."""
    if not validating or state["best_epoch"] is None:
        reason = "no_validation"
    else:
        reason = state["stopped"] or "max_epochs"
    kept = state["best_epoch"]
    return {
        "kept_epoch": None if kept is None or not validating else kept + 1,
        "epochs_run": state["epochs_run"],
        "stop_reason": reason,
        "metric": rule.metric,
        "patience": rule.patience,
        "best_validation": state["best_figures"] if validating else None,
    }
