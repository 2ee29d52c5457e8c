"""``embedrec clicks-pipeline``: raw click logs → a click dataset directory (Dask)."""

from __future__ import annotations

from typing import Any

import click

from embedrec.core.cli_support import emit, json_option

EPILOG = """\b
Examples:
  embedrec clicks-pipeline logs/*.jsonl --format jsonl --out data/clicks
  embedrec clicks-pipeline user-ct-test-collection-01.txt.gz --format aol \\
      --out data/aol --aol-negatives 4 --seed 0 --min-count 2
  embedrec clicks-pipeline day_0 --format criteo --out data/criteo \\
      --scheduler tcp://scheduler:8786
\b
Splits: --split time puts the last --valid-fraction of impressions by time in
validation (criteo has no time: the last lines in input order); --split hash-user
puts a stable hash-chosen fraction of users there. Malformed lines are kept in
OUT/rejected/ with the reason and counted in OUT/manifest.json.
"""


def register(root: click.Group) -> None:
    """Add ``clicks-pipeline`` to the ``embedrec`` group."""
    root.add_command(clicks_pipeline)


@click.command("clicks-pipeline", epilog=EPILOG)
@click.argument("inputs", nargs=-1, required=True, metavar="INPUT...")
@click.option("--format", "fmt", required=True, help="Input format: aol, jsonl or criteo.")
@click.option("--out", required=True, help="Output dataset directory.")
@click.option("--min-count", default=1, show_default=True, help="Rarer values map to id 0.")
@click.option("--split", default="time", show_default=True, help="time or hash-user.")
@click.option("--valid-fraction", default=0.1, show_default=True, help="Share for validation.")
@click.option("--aol-negatives", default=4, show_default=True, help="Sampled negatives per click.")
@click.option("--seed", default=0, show_default=True, help="Seed of the negative sampling.")
@click.option("--block-size", default="64MiB", show_default=True, help="Bytes per partition.")
@click.option("--scheduler", default=None, help="Dask scheduler address (tcp://host:8786).")
@click.option("--workers", type=int, default=None, help="LocalCluster workers [one per core].")
@click.option(
    "--in-process", is_flag=True, help="LocalCluster of threads in this process (small inputs)."
)
@click.option("--overwrite", is_flag=True, help="Replace an existing output directory.")
@json_option
def clicks_pipeline(
    inputs: tuple[str, ...],
    fmt: str,
    out: str,
    min_count: int,
    split: str,
    valid_fraction: float,
    aol_negatives: int,
    seed: int,
    block_size: str,
    scheduler: str | None,
    workers: int | None,
    in_process: bool,
    overwrite: bool,
    as_json: bool,
) -> None:
    """Parse click logs into examples, vocabularies and a train/validation split."""
    from embedrec.pipelines.clicks.config import ClicksPipelineConfig
    from embedrec.pipelines.clicks.pipeline import run_clicks_pipeline
    from embedrec.pipelines.runtime.dask_cluster import ClusterConfig

    config = ClicksPipelineConfig(
        inputs=inputs,
        format=fmt,
        out=out,
        min_count=min_count,
        split=split,
        valid_fraction=valid_fraction,
        aol_negatives=aol_negatives,
        seed=seed,
        block_size=_parse_bytes(block_size),
        overwrite=overwrite,
    )
    cluster = ClusterConfig(scheduler=scheduler, workers=workers, processes=not in_process)
    result = run_clicks_pipeline(
        config,
        cluster,
        progress=True,
        on_dashboard=lambda link: click.echo(
            f"embedrec: dask dashboard: {link or 'not available'}", err=True
        ),
    )
    emit(result.to_json(), as_json=as_json, human=_summary)


def _parse_bytes(text: str) -> int:
    from dask.utils import parse_bytes

    from embedrec.core.errors import ConfigError

    try:
        return int(parse_bytes(text))
    except (ValueError, TypeError):
        raise ConfigError("block_size", text, "a size like 64MiB or 1000000") from None


def _summary(result: dict[str, Any]) -> str:
    counts, split = result["counts"], result["split"]
    rejected = ", ".join(f"{reason} {n}" for reason, n in result["rejected"].items())
    vocabs = ", ".join(f"{name} {size}" for name, size in result["vocab_sizes"].items())
    lines = [
        f"wrote {result['out']}: {counts['examples']} examples "
        f"({counts['positives']} clicked) from {counts['impressions']} impressions",
        f"split ({split['method']}): train {split['examples']['train']} examples / "
        f"validation {split['examples']['validation']} examples",
        f"rejected lines: {counts['rejected']}" + (f" ({rejected})" if rejected else ""),
        f"vocabularies (ids incl. <unk>): {vocabs}",
    ]
    if counts.get("negatives_missing"):
        lines.append(f"AOL clicks short of negatives: {counts['negatives_missing']} missing")
    return "\n".join(lines)
