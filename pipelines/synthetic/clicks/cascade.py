"""A cascade click model (DCM-style): the user reads down the list and may stop.

The user examines position 1; having examined position k, they click with probability
``relevance_k`` (the base world's P(click | examined)); after a click they read on with
probability `AFTER_CLICK`, after no click with probability `AFTER_SKIP`. So whether
position k is examined depends on the docs *above* it and on the clicks there — not on k
alone, which is what a per-position examination term (the ranker's) assumes::

    E_1 = 1,   E_{k+1} = E_k · (r_k · AFTER_CLICK + (1 − r_k) · AFTER_SKIP)
    p_click_k = E_k · r_k                        (marginal over the clicks above)

``p_click`` (the oracle) is that marginal given the shown list: the best any scorer that
does not see the other results' clicks can do. Clicks are drawn position by position.

>>> from embedrec.pipelines.synthetic.clicks.config import ClickLogConfig
>>> from embedrec.pipelines.synthetic.clicks.model import build_world
>>> config = ClickLogConfig(queries=50, docs=200, impressions=300, users=20, seed=2)
>>> log = simulate_cascade(config, build_world(config))
>>> bool((log.examination[:, 0] == 1).all()), bool((log.p_click <= log.relevance).all())
(True, True)
"""

from __future__ import annotations

import numpy as np

from embedrec.pipelines.synthetic.clicks.config import ClickLogConfig
from embedrec.pipelines.synthetic.clicks.model import ClickLog, ClickWorld, component_rng
from embedrec.pipelines.synthetic.clicks.shown import shown_results

AFTER_CLICK = 0.55  # P(read on | clicked): a satisfied user often stops
AFTER_SKIP = 0.88  # P(read on | not clicked)


def simulate_cascade(config: ClickLogConfig, world: ClickWorld) -> ClickLog:
    """The impressions of ``config`` with cascade clicks; ``examination`` is (n, R)."""
    shown = shown_results(config, world)
    relevance = 1.0 / (1.0 + np.exp(-shown.logit))
    examination = cascade_examination(relevance)
    draws = component_rng(config.seed, "clicks").random(relevance.shape)
    clicked = np.zeros(relevance.shape, dtype=bool)
    reading = np.ones(len(relevance), dtype=bool)
    for k in range(relevance.shape[1]):
        clicked[:, k] = reading & (draws[:, k] < relevance[:, k])
        go_on = component_rng(config.seed, f"cascade-{k}").random(len(relevance))
        reading &= go_on < np.where(clicked[:, k], AFTER_CLICK, AFTER_SKIP)
    return ClickLog(
        time=shown.time,
        user=shown.user,
        query=shown.query,
        docs=shown.docs,
        relevance=relevance,
        p_click=examination * relevance,
        clicked=clicked,
        examination=examination,
    )


def cascade_examination(relevance: np.ndarray) -> np.ndarray:
    """(n, R) marginal P(examined) of each position given the relevance of the list.

    >>> cascade_examination(np.array([[0.0, 1.0, 0.5]])).round(3).tolist()
    [[1.0, 0.88, 0.484]]
    """
    carry = relevance * AFTER_CLICK + (1.0 - relevance) * AFTER_SKIP
    examination = np.ones_like(relevance)
    examination[:, 1:] = np.cumprod(carry[:, :-1], axis=1)
    return examination
