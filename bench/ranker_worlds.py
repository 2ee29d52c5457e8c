"""Click-log worlds for the ranker benches: generate, split off a test file, score on it.

Shared by `bench/ranker_quality.py` (ranker vs oracle, LightGBM and baselines on every
generator) and `bench/ranker_regularisation.py` (the measurement behind the defaults).

A world is one click model (``position``, ``cascade``, ``taste``;
`embedrec.pipelines.synthetic.clicks.worlds`) and one seed. ``prepare`` generates ``train + test``
impressions of it, writes the first ``train`` JSONL lines (impressions are in time order)
to ``train.jsonl`` and the last ``test`` to ``test.jsonl``, and builds a clicks dataset of
each (the train dataset's own time-last 10% is the validation split that early stopping
watches; the test file is never seen in training or tuning). Every figure "on the test
file" is over all of its rows.

Scorers on the test file, each AUC over all rows against the logged clicks:

- ``oracle``: the generator's true P(click) of the row (``truth.parquet``);
- ``ranker``: the embedrec ranker's P(click) at the logged position;
- ``lightgbm``: LightGBM (binary, early-stopped on the same validation split) on the
  same inputs — query, doc, device, region as categorical features, position as a number,
  and the doc's title kind and region words (what the ranker reads from the title);
- ``query_doc_ctr``, ``doc_popularity``: the count baselines of `pipelines.synthetic_
  clicks_oracle.baseline_scores`, fitted on the train impressions;
- ``logged_order``: −position.
"""

from __future__ import annotations

import contextlib
import io
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

# Tuning worlds (seed 1) and held-out worlds (seed 2): defaults are chosen on the first
# only; the second seed set is only ever scored with the chosen defaults.
TUNE_SEEDS = (1,)
HELD_OUT_SEEDS = (2,)
SIZES = {"queries": 2000, "docs": 8000, "users": 4000}


@dataclass(frozen=True)
class World:
    """One generated world on disk."""

    name: str
    model: str
    seed: int
    root: Path
    train_impressions: int
    test_impressions: int

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    @property
    def train_data(self) -> Path:
        return self.root / "train-data"

    @property
    def test_data(self) -> Path:
        return self.root / "test-data"


def cli(*args: object) -> str:
    """Run ``embedrec ARGS`` in-process; return its stdout (SystemExit on failure)."""
    from embedrec.cli import root
    from embedrec.core.cli_support import run_cli

    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        code = run_cli(root, [str(a) for a in args])
    if code != 0:
        raise SystemExit(f"embedrec {' '.join(map(str, args))} failed ({code})")
    return buffer.getvalue()


def prepare(work: Path, model: str, seed: int, train: int, test: int) -> World:
    """Generate the world (once: reused when its directory is complete) and its datasets."""
    root = work / f"{model}-s{seed}-{train // 1000}k"
    world = World(f"{model} s{seed}", model, seed, root, train, test)
    done = root / "complete.json"
    if done.exists():
        return world
    sizes = [f"--{k}={v}" for k, v in SIZES.items()]
    cli("generate", "clicks", "--out", world.logs, "--model", model, "--seed", seed,
        "--impressions", train + test, *sizes, "--overwrite", "--json")  # fmt: skip
    lines = (world.logs / "impressions.jsonl").read_text().splitlines(keepends=True)
    (root / "train.jsonl").write_text("".join(lines[:train]))
    (root / "test.jsonl").write_text("".join(lines[train:]))
    for name, data in (("train.jsonl", world.train_data), ("test.jsonl", world.test_data)):
        cli("clicks-pipeline", root / name, "--format", "jsonl", "--out", data,
            "--in-process", "--workers", 1, "--overwrite", "--json")  # fmt: skip
    done.write_text(json.dumps({"model": model, "seed": seed}))
    return world


def train_ranker(world: World, out: Path, *options: object) -> dict[str, Any]:
    """``embedrec train ranker`` on the world's train dataset; the run result."""
    text = cli("train", "ranker", world.train_data, "--out", out, "--overwrite",
               "--no-progress", "--json", *options)  # fmt: skip
    return json.loads(text)


def test_truth(world: World) -> dict[str, np.ndarray]:
    """Truth arrays of the test file's rows (impression-major) and the baselines' scores."""
    import pyarrow.parquet as pq

    from embedrec.pipelines.synthetic.clicks.oracle import baseline_scores

    truth = pq.read_table(world.logs / "truth.parquet")
    impression = np.repeat(
        np.arange(truth.num_rows // _results(truth)), _results(truth)
    )  # truth rows are impression-major, results in order
    train = impression < world.train_impressions
    scores = baseline_scores(truth, train)
    test = ~train
    out = {
        "impression_id": truth.column("impression_id").to_numpy(zero_copy_only=False)[test],
        "position": truth.column("position").to_numpy()[test],
        "clicked": truth.column("clicked").to_numpy(zero_copy_only=False)[test],
        "p_click": truth.column("p_click").to_numpy()[test],
        "relevance": truth.column("relevance").to_numpy()[test],
    }
    out.update({name: values[test] for name, values in scores.items()})
    return out


def _results(truth: Any) -> int:
    return int(np.max(truth.column("position").to_numpy()))


def ranker_test_scores(world: World, model_dir: Path, truth: dict[str, np.ndarray]) -> dict:
    """The ranker's P(click) at the logged position and its position-free score, aligned
    with ``truth``'s rows (joined on impression id and position)."""
    from embedrec.engine.ranker.batches import load_examples
    from embedrec.engine.ranker.inference import Ranker
    from embedrec.pipelines.clicks.dataset import open_click_dataset

    ranker = Ranker.load(model_dir)
    dataset = open_click_dataset(world.test_data)
    examples = load_examples(dataset, ranker.spec, ranker.vocabs, None, with_impressions=True)
    keys = dataset.read(split=None, columns=["impression", "position"])
    logit, log_examined = ranker.score(examples)
    free = 1.0 / (1.0 + np.exp(-logit))
    order = _align(
        truth,
        keys.column("impression").to_numpy(zero_copy_only=False),
        keys.column("position").to_numpy(),
    )
    return {"with_position": (np.exp(log_examined) * free)[order], "position_free": free[order]}


def _align(truth: dict[str, np.ndarray], impression: np.ndarray, position: np.ndarray) -> Any:
    """Index into the dataset's rows for each truth row."""
    index = {(i, int(p)): r for r, (i, p) in enumerate(zip(impression, position, strict=True))}
    pairs = zip(truth["impression_id"], truth["position"], strict=True)
    rows = [index[(i, int(p))] for i, p in pairs]
    if len(rows) != len(impression):
        raise SystemExit(f"test dataset has {len(impression)} rows, truth {len(rows)}")
    return np.asarray(rows)


def lightgbm_test_scores(world: World, truth: dict[str, np.ndarray]) -> dict[str, Any]:
    """LightGBM (binary) trained on train.jsonl (early-stopped on its time-last 10%)."""
    import lightgbm as lgb

    train, _ = _jsonl_rows(world.root / "train.jsonl")
    test, test_keys = _jsonl_rows(world.root / "test.jsonl")
    x_train, x_test = _encode(train, test)
    label = np.asarray(train["label"], dtype=np.float64)
    cut = np.asarray(train["impression"]) >= round(0.9 * world.train_impressions)
    categorical = list(range(len(CATEGORICAL)))
    params = {
        "objective": "binary",
        "learning_rate": 0.05,
        "num_leaves": 63,
        "min_data_in_leaf": 50,
        "cat_smooth": 10,
        "cat_l2": 10,
        "max_cat_threshold": 64,
        "verbose": -1,
        "num_threads": 1,
        "seed": 1,
    }
    booster = lgb.train(
        params,
        lgb.Dataset(x_train[~cut], label[~cut], categorical_feature=categorical),
        num_boost_round=2000,
        valid_sets=[lgb.Dataset(x_train[cut], label[cut], categorical_feature=categorical)],
        callbacks=[lgb.early_stopping(50, verbose=False)],
    )
    score = booster.predict(x_test, num_iteration=booster.best_iteration)
    key = {k: r for r, k in enumerate(test_keys)}
    pairs = zip(truth["impression_id"], truth["position"], strict=True)
    rows = np.asarray([key[(i, int(p))] for i, p in pairs])
    return {"scores": score[rows], "rounds": booster.best_iteration}


CATEGORICAL = ("query", "doc", "device", "region", "kind", "doc_region")


def _encode(train: dict[str, list], test: dict[str, list]) -> tuple[np.ndarray, np.ndarray]:
    """(rows, 7) float matrices: categorical codes fitted on train (unseen: NaN), position."""
    columns_train, columns_test = [], []
    for name in CATEGORICAL:
        codes = {value: i for i, value in enumerate(dict.fromkeys(train[name]))}
        columns_train.append([codes[v] for v in train[name]])
        columns_test.append([codes.get(v, np.nan) for v in test[name]])
    columns_train.append(train["position"])
    columns_test.append(test["position"])
    return (
        np.asarray(columns_train, dtype=np.float64).T,
        np.asarray(columns_test, dtype=np.float64).T,
    )


def _jsonl_rows(path: Path) -> tuple[dict[str, list], list[tuple[str, int]]]:
    """Columns of every shown result of a JSONL log, and its (impression id, position)."""
    from embedrec.pipelines.synthetic.clicks.config import DOC_KINDS, REGIONS

    kinds, regions = set(DOC_KINDS), {word for _, word, _ in REGIONS}
    names = ["impression", *CATEGORICAL, "position", "label"]
    columns: dict[str, list] = {name: [] for name in names}
    keys = []
    for number, line in enumerate(path.read_text().splitlines()):
        item = json.loads(line)
        features = item.get("features", {})
        for result in item["results"]:
            words = result.get("title", "").split()
            values = (
                number,
                item["query"],
                result["doc"],
                features.get("device", ""),
                features.get("region", ""),
                next((w for w in words if w in kinds), ""),
                next((w for w in words if w in regions), ""),
                result["position"],
                int(result["clicked"]),
            )
            for name, value in zip(names, values, strict=True):
                columns[name].append(value)
            keys.append((item["id"], int(result["position"])))
    return columns, keys


def auc_of(scores: np.ndarray, clicked: np.ndarray) -> float:
    from embedrec.core.ranking_metrics import auc

    return round(float(auc(scores, clicked)), 4)
