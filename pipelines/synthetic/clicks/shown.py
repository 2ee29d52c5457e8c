"""What every click model of the generator shares: who searched what, and the shown lists.

The click models (`embedrec.pipelines.synthetic.clicks.worlds`) differ in how a shown list turns
into clicks, not in the impressions themselves: `shown_results` draws the times, users,
queries and each impression's top ``results_per_impression`` under the production ranker
from the same random streams as `embedrec.pipelines.synthetic.clicks.model.simulate_impressions`,
so two models with the same seed show the same lists when their logits agree.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from embedrec.pipelines.synthetic.clicks.config import ClickLogConfig
from embedrec.pipelines.synthetic.clicks.model import (
    ClickWorld,
    _impression_times,
    component_rng,
)

_BLOCK = 65536  # as in synthetic_clicks_model (the production-ranker stream depends on it)

# extra(query (b,), user (b,), candidates (b, C)) -> logit terms (b, C) a click model adds.
ExtraLogit = Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]


@dataclass(frozen=True)
class ShownResults:
    """Impressions in time order with their shown lists (n impressions, R results each).

    ``time``, ``user``, ``query`` (n,); ``docs`` (n, R) doc indices, column j at position
    j + 1; ``logit`` (n, R) the true position-free logit of each shown result.
    """

    time: np.ndarray
    user: np.ndarray
    query: np.ndarray
    docs: np.ndarray
    logit: np.ndarray


def shown_results(
    config: ClickLogConfig, world: ClickWorld, extra: ExtraLogit | None = None
) -> ShownResults:
    """Draw the impressions and their top results under the (noisy) production ranker.

    The true logit is the base model's (q·d, doc bias, device × kind, region match) plus
    ``extra`` when given; the production ranker sees it plus Normal(0, production_noise).
    """
    n, results = config.impressions, config.results_per_impression
    rng = component_rng(config.seed, "impressions")
    time = _impression_times(rng, config)
    user = rng.choice(config.users, size=n, p=world.user_weights).astype(np.int32)
    query = rng.choice(config.queries, size=n, p=world.query_weights).astype(np.int32)
    docs = np.empty((n, results), dtype=np.int32)
    logit = np.empty((n, results))
    ranker_rng = component_rng(config.seed, "production-ranker")
    for start in range(0, n, _BLOCK):
        rows = slice(start, min(start + _BLOCK, n))
        q, u = query[rows], user[rows]
        cand = world.candidates[q]
        full = (
            world.base_logit[q]
            + world.device_effect[world.user_device[u][:, None], world.doc_kind[cand]]
        )
        regional = world.doc_region[cand] >= 0
        same = world.doc_region[cand] == world.user_region[u][:, None]
        full += config.region_effect * np.where(regional, np.where(same, 1.0, -1.0), 0.0)
        if extra is not None:
            full += extra(q, u, cand)
        shown_score = full + config.production_noise * ranker_rng.standard_normal(full.shape)
        top = np.argsort(-shown_score, axis=1, kind="stable")[:, :results]
        docs[rows] = np.take_along_axis(cand, top, axis=1)
        logit[rows] = np.take_along_axis(full, top, axis=1)
    return ShownResults(time=time, user=user, query=query, docs=docs, logit=logit)
