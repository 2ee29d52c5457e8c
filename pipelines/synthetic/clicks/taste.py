"""A world where taste depends on the user's device and region, with a flatter position bias.

On top of the base world's logit (see `embedrec.pipelines.synthetic.clicks.model`), each device and
each region likes some topics more than others::

    logit += device_topic[device, topic(doc)] + region_topic[region, topic(doc)]
    device_topic ~ Normal(0, DEVICE_TOPIC_STD²)   region_topic ~ Normal(0, REGION_TOPIC_STD²)
    examination(position) = 1 / position ** position_exponent   (`PRESET`: 0.3, flatter)

So the same (query, doc) pair is good for one user and poor for another: per-pair counts
blur it, and a model must combine the context (device, region from the log's features)
with what the doc is about (its id and title words). The production ranker sees the whole
logit (plus its noise), so the shown lists already lean to each user's taste.

>>> from embedrec.pipelines.synthetic.clicks.config import ClickLogConfig
>>> from embedrec.pipelines.synthetic.clicks.model import build_world
>>> config = ClickLogConfig(queries=50, docs=200, impressions=300, users=20, seed=2, **PRESET)
>>> log = simulate_taste(config, build_world(config))
>>> log.examination.round(3).tolist()[:3]
[1.0, 0.812, 0.719]
"""

from __future__ import annotations

from typing import Any

import numpy as np

from embedrec.pipelines.synthetic.clicks.config import DEVICES, REGIONS, ClickLogConfig
from embedrec.pipelines.synthetic.clicks.model import (
    ClickLog,
    ClickWorld,
    component_rng,
    examination_curve,
)
from embedrec.pipelines.synthetic.clicks.shown import shown_results

DEVICE_TOPIC_STD = 1.0
REGION_TOPIC_STD = 0.8
# Config settings this model is generated with unless the caller says otherwise.
PRESET: dict[str, Any] = {"position_exponent": 0.3}


def taste_effects(config: ClickLogConfig) -> tuple[np.ndarray, np.ndarray]:
    """(devices, topics) and (regions, topics) logit terms, seeded by ``config.seed``."""
    rng = component_rng(config.seed, "taste")
    device_topic = DEVICE_TOPIC_STD * rng.standard_normal((len(DEVICES), config.topics))
    region_topic = REGION_TOPIC_STD * rng.standard_normal((len(REGIONS), config.topics))
    return device_topic, region_topic


def simulate_taste(config: ClickLogConfig, world: ClickWorld) -> ClickLog:
    """The impressions of ``config`` with device- and region-dependent taste."""
    device_topic, region_topic = taste_effects(config)

    def extra(query: np.ndarray, user: np.ndarray, cand: np.ndarray) -> np.ndarray:
        topic = world.doc_topic[cand]
        return (
            device_topic[world.user_device[user][:, None], topic]
            + region_topic[world.user_region[user][:, None], topic]
        )

    shown = shown_results(config, world, extra)
    relevance = 1.0 / (1.0 + np.exp(-shown.logit))
    examination = examination_curve(config.results_per_impression, config.position_exponent)
    p_click = relevance * examination[None, :]
    clicked = component_rng(config.seed, "clicks").random(p_click.shape) < p_click
    return ClickLog(
        time=shown.time,
        user=shown.user,
        query=shown.query,
        docs=shown.docs,
        relevance=relevance,
        p_click=p_click,
        clicked=clicked,
        examination=examination,
    )
