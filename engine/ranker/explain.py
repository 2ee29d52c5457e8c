"""Why this score? Each feature group's contribution to a ranker's logit, leave-one-out.

For an example x and a group g (query, title, doc, device, …, dense)::

    contribution_g(x) = relevance(x) − relevance(x with g unknown)

where "g unknown" is exactly what the model sees for a value it never met: every id of the
group becomes 0 (``<unk>``; a query keeps its length, each word unknown) and dense
features become absent. Training drops ids to ``<unk>`` at ``oov_rate``, so those inputs
are ones the model has learned, not an out-of-range probe.

Read a contribution as "how many logits the score owes to knowing this group": +1.2 for
``doc`` means this doc's own row lifts its odds e^1.2 ≈ 3.3 times over an unknown doc's
with the same title and query. Contributions do not sum to the logit (groups interact
through the dot products and the MLP); each is exact for its own question. Position is
not explained: serving scores are position-free.

>>> contributions = explain_rows(model, examples, spec)             # doctest: +SKIP
>>> {g: round(float(v[0]), 2) for g, v in contributions.items()}  # doctest: +SKIP
{'query': 1.31, 'title': 0.42, 'doc': 0.87, 'device': -0.05, 'region': 0.33}
"""

from __future__ import annotations

import numpy as np
import torch

from embedrec.engine.ranker.batches import Examples, iter_score_batches, make_batch
from embedrec.engine.ranker.features import FeatureSpec
from embedrec.engine.ranker.model import RankerModel

EXPLAIN_BATCH = 4096


@torch.no_grad()
def explain_rows(
    model: RankerModel, examples: Examples, spec: FeatureSpec, batch_size: int = EXPLAIN_BATCH
) -> dict[str, np.ndarray]:
    """Leave-one-group-out contributions: group → float64 (n,) logit differences."""
    n = len(examples)
    out = {group: np.zeros(n, dtype=np.float64) for group in spec.groups}
    model.eval()
    for _, rows in iter_score_batches(n, batch_size):
        if len(rows) == 0:
            continue
        full = _relevance(model, make_batch(examples, rows, spec))
        for group in spec.groups:
            without = _relevance(
                model, make_batch(examples, rows, spec, missing=frozenset([group]))
            )
            out[group][rows] = full - without
    return out


def _relevance(model: RankerModel, batch: object) -> np.ndarray:
    features = batch.features  # type: ignore[attr-defined]
    dense = batch.dense  # type: ignore[attr-defined]
    vectors = model.embeddings(features, dense)
    return model.relevance(vectors).double().numpy()
