"""``embedrec generate clicks``: seeded click logs with known answers (JSONL, AOL, Criteo)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from embedrec.core.cli_support import emit, json_option, subgroup
from embedrec.pipelines.synthetic.clicks.config import CLICK_MODEL_NAMES

EPILOG = """\b
Examples:
  embedrec generate clicks --out logs/ --queries 5000 --docs 20000 --impressions 200000 --seed 7
  embedrec generate clicks --out logs-cascade/ --model cascade --impressions 50000 --seed 11
  embedrec generate clicks --out tiny/ --queries 50 --docs 200 --impressions 500 \
      --bad-lines 13 --json

\b
Writes impressions.jsonl, aol.tsv and criteo.tsv (the same simulated sessions), truth.parquet
(true P(click) and relevance of every shown result), oracle.json (oracle AUC, NDCG@10, MRR
and baselines), bad_lines.json (planted malformed lines) and manifest.json. Same seed, same
bytes. --model picks how shown results become clicks: position (examination by position),
cascade (read down, stop after a click or skip) or taste (device- and region-dependent
taste, flatter position bias); see pipelines/synthetic_clicks_worlds.py.
"""


def register(root: click.Group) -> None:
    """Add ``generate clicks`` to the ``embedrec`` group."""
    generate = subgroup(root, "generate", "Seeded synthetic data with known answers.")
    generate.add_command(clicks_command)


@click.command("clicks", epilog=EPILOG)
@click.option("--out", required=True, type=click.Path(path_type=Path), help="Output directory.")
@click.option("--queries", default=5000, show_default=True, type=int, help="Distinct queries.")
@click.option("--docs", default=20000, show_default=True, type=int, help="Distinct documents.")
@click.option(
    "--impressions", default=200000, show_default=True, type=int, help="Result pages shown."
)
@click.option("--users", default=10000, show_default=True, type=int, help="Distinct users.")
@click.option("--seed", default=0, show_default=True, type=int, help="Random seed.")
@click.option(
    "--model",
    "click_model",
    type=click.Choice(CLICK_MODEL_NAMES),
    default="position",
    show_default=True,
    help="Click model: position, cascade or taste.",
)
@click.option(
    "--bad-lines",
    default=0,
    show_default=True,
    type=int,
    help="Malformed lines to plant, spread over the three logs (13 = one of each kind).",
)
@click.option("--overwrite", is_flag=True, help="Replace an existing output directory.")
@json_option
def clicks_command(
    out: Path,
    queries: int,
    docs: int,
    impressions: int,
    users: int,
    seed: int,
    click_model: str,
    bad_lines: int,
    overwrite: bool,
    as_json: bool,
) -> None:
    """Simulate a search engine's click logs, written in three formats with the truth."""
    from embedrec.pipelines.synthetic.clicks.generate import generate_click_logs
    from embedrec.pipelines.synthetic.clicks.worlds import world_config

    config = world_config(
        click_model,
        queries=queries,
        docs=docs,
        impressions=impressions,
        users=users,
        seed=seed,
        bad_lines=bad_lines,
    )
    result = generate_click_logs(config, out, overwrite=overwrite, progress=True)
    emit(result, as_json=as_json, human=_human)


def _human(result: dict[str, Any]) -> str:
    counts, oracle = result["counts"], result["oracle"]
    return "\n".join(
        [
            f"wrote {result['out']} in {result['seconds']:.1f} s",
            f"  {counts['impressions']} impressions, {counts['results']} shown results, "
            f"{counts['clicks']} clicks, {counts['bad_lines']} planted bad lines",
            f"  oracle on validation ({counts['validation_impressions']} impressions): "
            f"AUC {_fmt(oracle['auc'])}, NDCG@10 {_fmt(oracle['ndcg@10'])}, "
            f"MRR {_fmt(oracle['mrr'])}",
        ]
    )


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.4f}"
