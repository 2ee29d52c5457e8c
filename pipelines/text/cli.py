"""``embedrec text-pipeline``: raw text files → a text dataset directory."""

from __future__ import annotations

from typing import Any

import click

from embedrec.core.cli_support import emit, json_option
from embedrec.core.errors import ConfigError

EPILOG = """\b
Examples:
  embedrec text-pipeline wiki-en-raw-100mb.wikiextractor.gz --out data/wiki
  embedrec text-pipeline wiki.gz --out data/wiki --phrases 2 --min-count 5 --overwrite
  embedrec text-pipeline 'extracted/**/wiki_*' notes.txt.bz2 --out data/mix --json
  embedrec text-pipeline corpus/ --out data/c --scheduler tcp://head:8786

\b
Inputs: plain text, .gz, .bz2, .xz (by content), directories (recursive) and globs;
WikiExtractor output (<doc ...> ... </doc>) is recognised by its content. Binary and empty
files are skipped and counted; lines that are not UTF-8 go to DIR/rejected/.
Writes DIR/vocab.parquet, DIR/corpus/part-*.parquet, DIR/phrases.parquet (with --phrases),
DIR/manifest.json.
"""


def _parse_size(ctx: click.Context, param: click.Parameter, value: str) -> int:
    from dask.utils import parse_bytes

    try:
        return int(parse_bytes(value))
    except (ValueError, TypeError):
        raise ConfigError("partition-size", value, "a size like 8MiB or 500kB") from None


@click.command(
    "text-pipeline",
    epilog=EPILOG,
    short_help="Tokenise raw text into a dataset (vocab + corpus) with Dask.",
)
@click.argument("inputs", nargs=-1, required=True, metavar="INPUT...")
@click.option("--out", required=True, metavar="DIR", help="Dataset directory to create.")
@click.option(
    "--min-count", default=5, show_default=True, help="Drop tokens seen fewer times than this."
)
@click.option("--max-vocab", type=int, default=None, help="Keep at most N most frequent tokens.")
@click.option(
    "--phrases",
    default=0,
    show_default=True,
    metavar="N",
    help="word2phrase passes (2 turns 'new york city' into new_york_city).",
)
@click.option(
    "--phrase-threshold", default=100.0, show_default=True, help="Phrase score threshold."
)
@click.option(
    "--phrase-delta", type=float, default=None, help="Phrase count discount [default: min-count]."
)
@click.option(
    "--max-sentence-length",
    default=1000,
    show_default=True,
    help="Cut longer sentences into rows of at most this many tokens.",
)
@click.option(
    "--partition-size",
    default="8MiB",
    show_default=True,
    callback=_parse_size,
    help="Text per Dask task (changes speed, never the result).",
)
@click.option("--scheduler", default=None, metavar="ADDR", help="Dask scheduler tcp://host:8786.")
@click.option("--workers", type=int, default=None, help="Local worker processes [default: cores].")
@click.option("--overwrite", is_flag=True, help="Replace DIR if it exists.")
@click.option("--progress/--no-progress", default=True, help="Progress bars on stderr.")
@json_option
def text_pipeline(
    inputs: tuple[str, ...],
    out: str,
    min_count: int,
    max_vocab: int | None,
    phrases: int,
    phrase_threshold: float,
    phrase_delta: float | None,
    max_sentence_length: int,
    partition_size: int,
    scheduler: str | None,
    workers: int | None,
    overwrite: bool,
    progress: bool,
    as_json: bool,
) -> None:
    """Tokenise INPUT... into a text dataset at DIR (vocab.parquet + corpus/ + manifest)."""
    from embedrec.pipelines.runtime.dask_cluster import ClusterConfig
    from embedrec.pipelines.text.pipeline import TextPipelineConfig, run_text_pipeline

    config = TextPipelineConfig(
        inputs=inputs,
        out=out,
        min_count=min_count,
        max_vocab=max_vocab,
        phrases=phrases,
        phrase_threshold=phrase_threshold,
        phrase_delta=phrase_delta,
        max_sentence_length=max_sentence_length,
        partition_bytes=partition_size,
        overwrite=overwrite,
    )
    cluster = ClusterConfig(scheduler=scheduler, workers=workers)
    result = run_text_pipeline(
        config, cluster, progress=progress, echo=lambda m: click.echo(f"embedrec: {m}", err=True)
    )
    document = {
        "out": str(result.out),
        "counts": result.counts,
        "seconds": round(result.seconds, 3),
    }
    emit(document, as_json=as_json, human=_summary)


def _summary(document: dict[str, Any]) -> str:
    c = document["counts"]
    skipped = sum(c["skipped_inputs"].values())
    rejected = sum(c["rejected_lines"].values())
    share = c["oov_tokens"] / max(1, c["tokens"])
    rows = [
        ("inputs", f"{c['inputs']:,} read, {skipped:,} skipped{' (see warnings)' * bool(skipped)}"),
        ("text", f"{c['documents']:,} documents, {c['lines']:,} lines, {rejected:,} rejected"),
        ("tokens", f"{c['raw_tokens']:,} raw, {c['distinct_tokens']:,} distinct"),
        ("phrases", f"{c['phrases']:,} ({c['phrase_joins']:,} joins)"),
        ("vocab", f"{c['vocab_size']:,} tokens"),
        ("corpus", f"{c['corpus_tokens']:,} tokens ({share:.1%} out of vocabulary dropped)"),
        ("rows", f"{c['sentences']:,} sentences in {c['partitions']:,} part file(s)"),
    ]
    lines = [f"wrote {document['out']} in {document['seconds']:.1f} s"]
    lines += [f"  {name:<8} {text}" for name, text in rows]
    return "\n".join(lines)


def register(root: click.Group) -> None:
    """Add this module's commands to the ``embedrec`` group."""
    root.add_command(text_pipeline)
