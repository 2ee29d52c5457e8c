"""The click models ``embedrec generate clicks --model`` can simulate, by name.

- ``position`` (default): examination by position alone, 1 / position ** 0.7, times
  relevance (`embedrec.pipelines.synthetic.clicks.model`; the world the ranker was first built on).
- ``cascade``: the user reads down and stops after a click or a skip, so examination
  depends on the docs above (`embedrec.pipelines.synthetic.clicks.cascade`).
- ``taste``: relevance depends on the user's device and region per topic, and position
  bias is flatter (`embedrec.pipelines.synthetic.clicks.taste`).

Every model has the same words, queries, docs, users and candidates for a seed (the base
world), a true ``relevance`` and ``p_click`` per shown result (the oracle) and writes the
same files.

>>> CLICK_MODELS
('position', 'cascade', 'taste')
>>> world_config("taste", queries=50, docs=200, impressions=300).position_exponent
0.3
"""

from __future__ import annotations

import dataclasses
from typing import Any

from embedrec.pipelines.synthetic.clicks.cascade import simulate_cascade
from embedrec.pipelines.synthetic.clicks.config import CLICK_MODEL_NAMES, ClickLogConfig
from embedrec.pipelines.synthetic.clicks.model import (
    ClickLog,
    ClickWorld,
    build_world,
    simulate_impressions,
)
from embedrec.pipelines.synthetic.clicks.taste import PRESET as TASTE_PRESET
from embedrec.pipelines.synthetic.clicks.taste import simulate_taste

CLICK_MODELS: tuple[str, ...] = CLICK_MODEL_NAMES
_PRESETS: dict[str, dict[str, Any]] = {"taste": TASTE_PRESET}


def world_config(model: str, **settings: Any) -> ClickLogConfig:
    """A `ClickLogConfig` for ``model``: its preset under the caller's ``settings``."""
    return ClickLogConfig(click_model=model, **{**_PRESETS.get(model, {}), **settings})


def simulate_world(config: ClickLogConfig) -> tuple[ClickWorld, ClickLog]:
    """Build the base world of ``config`` and simulate its impressions under
    ``config.click_model``; same config, same arrays."""
    config.validate()
    world = build_world(config)
    if config.click_model == "cascade":
        return world, simulate_cascade(config, world)
    if config.click_model == "taste":
        return world, simulate_taste(config, world)
    return world, simulate_impressions(config, world)


def model_settings(config: ClickLogConfig) -> dict[str, Any]:
    """The config fields that differ from the defaults (for reports)."""
    default = ClickLogConfig()
    return {
        f.name: getattr(config, f.name)
        for f in dataclasses.fields(config)
        if getattr(config, f.name) != getattr(default, f.name)
    }
