"""Tiny generated click logs, their datasets and one trained ranker, built once per session.

Built through the public APIs into pytest's base temp dir (so the engine and the serving
tests share them: the directory is the cache)::

    logs/           embedrec generate clicks (200 queries, 1000 docs, 5000 impressions)
    older.jsonl     the first 4000 impressions: the "old" logs the model is trained on
    old/            clicks dataset of older.jsonl
    new/            clicks dataset of all 5000 impressions (built "later": other vocab ids)
    model/          ranker trained on old/ (2 epochs)
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

OLD_IMPRESSIONS = 4000
DONE = "complete.json"


@dataclass(frozen=True)
class RankerWorld:
    logs: Path
    old: Path
    new: Path
    model: Path


def clicks_dataset(inputs: list[Path], fmt: str, out: Path) -> Path:
    """Run the clicks pipeline in-process (one thread worker: quick and quiet)."""
    from embedrec.pipelines import ClicksPipelineConfig, run_clicks_pipeline
    from embedrec.pipelines.runtime.dask_cluster import ClusterConfig

    run_clicks_pipeline(
        ClicksPipelineConfig(inputs=tuple(str(p) for p in inputs), format=fmt, out=str(out)),
        ClusterConfig(workers=1, processes=False),
    )
    return out


def generate_logs(out: Path, *, seed: int = 3, bad_lines: int = 0, **sizes: int) -> Path:
    from embedrec.pipelines import ClickLogConfig, generate_click_logs

    settings = {"queries": 200, "docs": 1000, "impressions": 5000, "users": 500, **sizes}
    generate_click_logs(ClickLogConfig(seed=seed, bad_lines=bad_lines, **settings), out)
    return out


def ranker_world(tmp_path_factory: pytest.TempPathFactory) -> RankerWorld:
    """The shared artifacts (see the module docstring), built on first use."""
    root = tmp_path_factory.getbasetemp() / "ranker-world"
    world = RankerWorld(
        logs=root / "logs", old=root / "old", new=root / "new", model=root / "model"
    )
    if (root / DONE).exists():
        return world
    if root.exists():
        shutil.rmtree(root)
    root.mkdir()
    generate_logs(world.logs)
    lines = (world.logs / "impressions.jsonl").read_text().splitlines(keepends=True)
    older = root / "older.jsonl"
    older.write_text("".join(lines[:OLD_IMPRESSIONS]))
    clicks_dataset([older], "jsonl", world.old)
    clicks_dataset([world.logs / "impressions.jsonl"], "jsonl", world.new)
    train_tiny(world.old, world.model, epochs=2)
    (root / DONE).write_text(json.dumps({"ok": True}))
    return world


def train_tiny(data: Path, out: Path, **settings: object) -> object:
    """A small, fast ranker (1 thread, no progress bar)."""
    from embedrec.engine.ranker.config import RankerConfig
    from embedrec.engine.ranker.train import train_ranker

    settings = {"threads": 1, "batch_size": 1024, "dim": 16, "mlp": (32,), **settings}
    resume = bool(settings.pop("resume", False))
    overwrite = bool(settings.pop("overwrite", False))
    return train_ranker(
        data,
        out,
        RankerConfig(**settings),  # type: ignore[arg-type]
        resume=resume,
        overwrite=overwrite,
        show_progress=False,
    )
