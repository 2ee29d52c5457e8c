"""Where the ranker's test-file scores differ from the generator's truth, by component.

    .venv/bin/python bench/ranker_errors.py --models position,cascade,taste --seeds 1
    .venv/bin/python bench/ranker_errors.py --models taste --seeds 1 --model-dir ranker-default

For a trained world of `bench/ranker_worlds.py` (run `bench/ranker_tuning.py` first), it
rebuilds the generator's world from ``logs/manifest.json`` and splits the true
position-free logit of every test row into its terms: ``latent`` (latent_scale · q·d),
``doc_bias``, ``device_kind``, ``region`` (same / other region), and for the taste model
``device_topic`` and ``region_topic``. It then prints:

- the least-squares fit of the ranker's logit on those terms (a coefficient below 1: the
  model shrinks that term; the residual std: what no term explains);
- the AUC on the test file when the ranker's examination factor or its relevance is
  swapped for the truth's (which half of the model the gap is in);
- the excess log loss over the oracle by how often the row's doc and query were shown in
  training (where the data runs out).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
from ranker_worlds import auc_of, prepare, ranker_test_scores, test_truth

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def components(world_root: Path, truth: dict[str, np.ndarray], names: dict) -> dict:
    from embedrec.pipelines.synthetic.clicks.config import ClickLogConfig
    from embedrec.pipelines.synthetic.clicks.model import build_world
    from embedrec.pipelines.synthetic.clicks.taste import taste_effects

    config = ClickLogConfig(**json.loads((world_root / "logs/manifest.json").read_text())["config"])
    world = build_world(config)
    q_index = {text: i for i, text in enumerate(world.query_text)}
    q = np.asarray([q_index[t] for t in names["query"]])
    d = np.asarray([int(t[1:]) - 1 for t in names["doc"]])
    u = np.asarray([int(t[1:]) - 1 for t in names["user"]])
    latent = config.latent_scale * np.einsum(
        "nd,nd->n", world.query_vectors[q], world.doc_vectors[d]
    )
    device = world.user_device[u]
    regional = world.doc_region[d] >= 0
    same = world.doc_region[d] == world.user_region[u]
    out = {
        "latent": latent,
        "doc_bias": world.doc_bias[d],
        "device_kind": world.device_effect[device, world.doc_kind[d]],
        "region": config.region_effect * np.where(regional, np.where(same, 1.0, -1.0), 0.0),
    }
    if config.click_model == "taste":
        device_topic, region_topic = taste_effects(config)
        topic = world.doc_topic[d]
        out["device_topic"] = device_topic[device, topic]
        out["region_topic"] = region_topic[world.user_region[u], topic]
    return out


def main(argv: list[str] | None = None) -> None:
    import pyarrow.parquet as pq

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--work", default="bench/results/work/ranker/worlds")
    parser.add_argument("--models", default="position,cascade,taste")
    parser.add_argument("--seeds", default="1")
    parser.add_argument("--model-dir", default="ranker-default")
    args = parser.parse_args(argv)
    for model in args.models.split(","):
        for seed in (int(s) for s in args.seeds.split(",")):
            world = prepare(Path(args.work), model, seed, 50000, 20000)
            truth = test_truth(world)
            table = pq.read_table(world.logs / "truth.parquet")
            n_train = world.train_impressions * 10
            names = {
                c: table.column(c).to_numpy(zero_copy_only=False)[n_train:]
                for c in ("query", "doc", "user")
            }
            train_names = {
                c: table.column(c).to_numpy(zero_copy_only=False)[: int(0.9 * n_train)]
                for c in ("query", "doc")
            }
            scores = ranker_test_scores(world, world.root / args.model_dir, truth)
            free = np.clip(scores["position_free"], 1e-9, 1 - 1e-9)
            model_logit = np.log(free / (1 - free))
            rel = np.clip(truth["relevance"], 1e-12, 1 - 1e-12)
            true_logit = np.log(rel / (1 - rel))
            exam_true = truth["p_click"] / truth["relevance"]
            exam_model = scores["with_position"] / free
            parts = components(world.root, truth, names)
            x = np.column_stack([*parts.values(), np.ones(len(true_logit))])
            coef, *_ = np.linalg.lstsq(x, model_logit, rcond=None)
            resid = model_logit - x @ coef
            clicked = truth["clicked"]
            print(f"\n## {world.name} ({args.model_dir})")
            print(
                "fit of the model logit on the true terms: "
                + ", ".join(f"{k} {c:.3f}" for k, c in zip([*parts, "const"], coef, strict=True))
            )
            print(
                f"residual std {resid.std():.3f}; true-logit std {true_logit.std():.3f}; "
                f"corr(model, true) {np.corrcoef(model_logit, true_logit)[0, 1]:.4f}"
            )
            print(
                f"AUC: oracle {auc_of(truth['p_click'], clicked)}, model "
                f"{auc_of(scores['with_position'], clicked)}, model relevance × true exam "
                f"{auc_of(free * exam_true, clicked)}, true relevance × model exam "
                f"{auc_of(rel * exam_model, clicked)}"
            )
            for pos in range(1, 11):
                at = truth["position"] == pos
                print(
                    f"  pos {pos}: exam true {exam_true[at].mean():.3f} model "
                    f"{exam_model[at].mean():.3f}",
                    end=";" if pos % 5 else "\n",
                )
            p_model = np.clip(scores["with_position"], 1e-9, 1 - 1e-9)
            p_true = truth["p_click"]
            y = clicked.astype(float)

            excess = _log_loss(p_model, y) - _log_loss(p_true, y)
            for key in ("doc", "query"):
                seen = dict(zip(*np.unique(train_names[key], return_counts=True), strict=True))
                count = np.asarray([seen.get(v, 0) for v in names[key]])
                print(f"excess log loss by train rows of the {key}:")
                for lo, hi in ((0, 1), (1, 10), (10, 50), (50, 200), (200, 10**9)):
                    at = (count >= lo) & (count < hi)
                    if at.any():
                        print(
                            f"  [{lo},{hi}) share {at.mean():.3f} excess/row "
                            f"{excess[at].mean():+.5f} share of excess "
                            f"{excess[at].sum() / excess.sum():.3f} "
                            f"logit err std {(model_logit - true_logit)[at].std():.3f}"
                        )


def _log_loss(p: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Per-row log loss of P(click) ``p`` against the clicks ``y`` (0/1)."""
    return -(y * np.log(p) + (1 - y) * np.log(1 - p))


if __name__ == "__main__":
    main()
