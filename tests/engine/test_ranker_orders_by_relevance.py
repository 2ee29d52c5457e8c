"""The ranker must order results by relevance, which a model of position bias alone cannot.

World: the generator with a production ranker so noisy (``production_noise=100``) that the
shown order carries no information about relevance — only examination falls with position.
Clicks still favour the top positions, so a model that learned only position bias scores
well on clicks (AUC of −position ≈ 0.6) yet orders each page no better than chance. The
check is per impression, against the generator's true relevance (``truth.parquet``): the
share of result pairs the position-free score orders as the true relevance does.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from ranker_fixtures import clicks_dataset, train_tiny

from embedrec.core.ranking_metrics import auc

BAR = 0.65  # concordant share of within-impression pairs; chance is 0.5


@pytest.fixture(scope="module")
def shuffled_world(tmp_path_factory):
    from embedrec.pipelines import ClickLogConfig, generate_click_logs

    root = tmp_path_factory.mktemp("shuffled")
    config = ClickLogConfig(
        queries=200, docs=1000, impressions=6000, users=500, seed=4, production_noise=100.0
    )
    generate_click_logs(config, root / "logs")
    clicks_dataset([root / "logs" / "impressions.jsonl"], "jsonl", root / "data")
    train_tiny(root / "data", root / "model", epochs=4)
    return root


def concordance(scores: np.ndarray, truth: np.ndarray, groups: np.ndarray) -> float:
    """Share of within-group pairs (distinct truth) ordered by ``scores`` as by ``truth``;
    tied scores count 1/2."""
    agree = total = 0.0
    for group in np.unique(groups):
        rows = groups == group
        s, t = scores[rows], truth[rows]
        ds, dt = np.sign(s[:, None] - s[None, :]), np.sign(t[:, None] - t[None, :])
        pairs = dt > 0
        agree += float((ds[pairs] > 0).sum() + 0.5 * (ds[pairs] == 0).sum())
        total += float(pairs.sum())
    return agree / total


def scored_validation(root):
    from embedrec.engine.ranker.batches import load_examples
    from embedrec.engine.ranker.inference import Ranker
    from embedrec.pipelines.clicks.dataset import open_click_dataset

    ranker = Ranker.load(root / "model")
    dataset = open_click_dataset(root / "data")
    examples = load_examples(dataset, ranker.spec, ranker.vocabs, "validation")
    keys = dataset.read(split="validation", columns=["impression", "position", "label"])
    truth = pq.read_table(root / "logs" / "truth.parquet", columns=["impression_id", "position",
                                                                     "relevance"])  # fmt: skip
    truth = truth.rename_columns(["impression", "position", "relevance"])
    keyed = keys.append_column("row", pa.array(np.arange(keys.num_rows)))
    joined = keyed.join(truth, keys=["impression", "position"]).sort_by("row")
    logit, _ = ranker.score(examples)
    return {
        "free": logit,
        "position": keys.column("position").to_numpy(),
        "label": keys.column("label").to_numpy(),
        "group": np.unique(
            keys.column("impression").to_numpy(zero_copy_only=False), return_inverse=True
        )[1],
        "relevance": joined.column("relevance").to_numpy(),
    }


def test_ranker_orders_pages_by_relevance_where_position_says_nothing(shuffled_world):
    v = scored_validation(shuffled_world)
    position_only = -v["position"].astype(float)
    # Position alone explains clicks here (examination) ...
    assert auc(position_only, v["label"]) > 0.55
    # ... but orders each page no better than chance, and fails the bar the ranker meets.
    chance = concordance(position_only, v["relevance"], v["group"])
    ranker = concordance(v["free"], v["relevance"], v["group"])
    print(f"concordance: ranker {ranker:.3f}, position-only {chance:.3f}")
    assert abs(chance - 0.5) < 0.03
    assert ranker > BAR > chance
