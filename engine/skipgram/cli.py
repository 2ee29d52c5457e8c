"""``embedrec train skipgram`` and ``embedrec export``."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import click

from embedrec.core.cli_support import emit, json_option, subgroup
from embedrec.engine.runtime.launch import train_or_launch, training_options
from embedrec.engine.skipgram.config import DEVICES, KERNELS, OPTIMIZERS, PRECISIONS, SkipGramConfig

TRAIN_EPILOG = """\b
Examples:
  embedrec train skipgram data/wiki --out models/wiki --dim 100 --epochs 5
  embedrec train skipgram data/wiki --out models/wiki --sample 1e-4 --negative 5 --window 5
  embedrec train skipgram data/wiki --out models/wiki --hs --negative 0     # hierarchical softmax
  embedrec train skipgram data/wiki --out models/wiki --resume              # continue a run
  embedrec train skipgram data/wiki --out models/wiki --nproc 2 --sharding column_wise
  torchrun --nproc-per-node 2 -m embedrec.engine train skipgram data/wiki --out models/wiki
"""

EXPORT_EPILOG = """\b
Examples:
  embedrec export models/wiki --format word2vec-text --out wiki.vec
  embedrec export models/wiki --format word2vec-binary --out wiki.bin
  python -c "from gensim.models import KeyedVectors as K; K.load_word2vec_format('wiki.vec')"
"""


@click.command("skipgram", epilog=TRAIN_EPILOG)
@click.argument("data", type=click.Path(path_type=Path))
@click.option(
    "--out", "out", required=True, type=click.Path(path_type=Path), help="Model directory to write."
)
@click.option("--dim", default=100, show_default=True, help="Embedding width.")
@click.option("--window", default=5, show_default=True, help="Maximum context radius.")
@click.option("--negative", default=5, show_default=True, help="Negative samples (0: none).")
@click.option(
    "--shared-negatives/--per-pair-negatives",
    default=True,
    show_default=True,
    help="Draw negatives once per centre word (HogBatch) or once per pair (word2vec.c).",
)
@click.option(
    "--hs/--no-hs",
    default=False,
    show_default=True,
    help="Hierarchical softmax over a Huffman tree.",
)
@click.option(
    "--sample",
    default=1e-3,
    show_default=True,
    help="Subsampling threshold for frequent words (0: off).",
)
@click.option("--epochs", default=5, show_default=True)
@click.option(
    "--optimizer",
    type=click.Choice(OPTIMIZERS),
    default="auto",
    show_default=True,
    help="sgd (word2vec's) or rowwise_adagrad (TorchRec's fused); auto: sgd for hogwild, "
    "rowwise_adagrad for torchrec.",
)
@click.option(
    "--lr", type=float, default=None, help="Starting learning rate [0.025 sgd, 0.2 adagrad]."
)
@click.option("--min-lr", default=0.0001, show_default=True, help="Floor of the learning rate.")
@click.option(
    "--final-lr-ratio",
    type=float,
    default=None,
    help="Learning rate at the end of training, as a fraction of --lr "
    "[1/6, the end rate of gensim's corpus_file training; 0: word2vec's decay to ~0].",
)
@click.option(
    "--batch-size",
    default=512,
    show_default=True,
    help="Centre words per step, over all ranks (torchrec kernel).",
)
@click.option("--device", type=click.Choice(DEVICES), default="cpu", show_default=True)
@click.option(
    "--kernel",
    type=click.Choice(KERNELS),
    default="auto",
    show_default=True,
    help="hogwild: compiled lock-free SGD on the TorchRec tables (1 CPU rank); "
    "column: the compiled kernel on every CPU rank over its column slice, partial dots "
    "all_reduced (auto's choice for N CPU ranks); "
    "torchrec: DMP lookups with the fused optimizer (any device, N ranks).",
)
@click.option("--threads", type=int, default=None, help="CPU threads (default: all cores).")
@click.option("--seed", default=1, show_default=True)
@click.option(
    "--sharding",
    default=None,
    help="Planner constraint: a type for every table (table_wise, column_wise, row_wise, "
    "table_row_wise, data_parallel) or TABLE=TYPE,... (tables: word, context, node).",
)
@click.option("--partitions", type=int, default=None, help="Shards per table (a planner hint).")
@click.option(
    "--precision",
    type=click.Choice(PRECISIONS),
    default="fp32",
    show_default=True,
    help="Storage precision of the tables (fp16 halves them; fbgemm trains no bf16 tables).",
)
@click.option(
    "--qcomms",
    type=click.Choice(["fp16", "bf16"]),
    default=None,
    help="Quantise the embedding all-to-alls between ranks (TorchRec qcomms).",
)
@training_options
@json_option
@click.pass_context
def train_skipgram_command(
    ctx: click.Context,
    data: Path,
    out: Path,
    resume: bool,
    overwrite: bool,
    progress: bool,
    as_json: bool,
    checkpoint_every: int | None,
    nproc: int,
    max_restarts: int,
    **settings: Any,
) -> None:
    """Train skip-gram word vectors (word2vec semantics) on a text dataset."""
    config = SkipGramConfig(checkpoint_every_steps=checkpoint_every, **settings)
    if nproc > 1 and _runs_column_kernel(config, nproc):
        click.echo(column_notice(nproc), err=True)

    train_or_launch(
        ctx,
        "embedrec.engine.skipgram.train:train_skipgram",
        data=data,
        out=out,
        config=config,
        resume=resume,
        overwrite=overwrite,
        progress=progress,
        nproc=nproc,
        max_restarts=max_restarts,
        as_json=as_json,
        summary=_train_summary,
    )


def _runs_column_kernel(config: SkipGramConfig, nproc: int) -> bool:
    """Whether ``nproc`` ranks run the column kernel; when they do, a dim that does not split
    over them is one line here (a `ConfigError`), not one per rank."""
    from embedrec.engine.skipgram.column_plan import check_column_split, wants_column_kernel

    column = config.kernel == "column" or (
        config.kernel == "auto" and wants_column_kernel(config, nproc, config.device)
    )
    if column:
        check_column_split(config.dim, nproc)
    return column


def column_notice(nproc: int) -> str:
    """What ``--nproc N`` column ranks on one host buy, said before torchrun starts, e.g.
    ``column_notice(2)`` -> "embedrec: note: 2 column ranks on one host hold 1/2 of ...".
    """
    # Measured (docs/cluster.md): on one host each rank repeats the walk and every
    # per-target step, so N ranks train slower than one; what they split is the tables.
    return (
        f"embedrec: note: {nproc} column ranks on one host hold 1/{nproc} of the tables each "
        "but train slower than one rank (each repeats the walk; docs/cluster.md): "
        "--nproc 1 is faster while the tables fit one process"
    )


def _train_summary(result: dict[str, Any]) -> str:
    loss = "n/a" if result["loss"] is None else f"{result['loss']:.4f}"
    return (
        f"trained {result['model_dir']} ({result['kernel']} kernel, "
        f"{result['world_size']} rank(s)): {result['words']:,} words in "
        f"{result['seconds']:.1f}s = {result['words_per_sec']:,.0f} words/s, final loss {loss}"
    )


@click.command("export", epilog=EXPORT_EPILOG)
@click.argument("model", type=click.Path(path_type=Path))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["word2vec-text", "word2vec-binary"]),
    required=True,
    help="Output format.",
)
@click.option("--out", required=True, type=click.Path(path_type=Path), help="File to write.")
@json_option
def export_command(model: Path, fmt: str, out: Path, as_json: bool) -> None:
    """Export a model's word vectors in word2vec text or binary format."""
    from embedrec.engine.skipgram.export import export_word2vec

    result = export_word2vec(model, out, binary=fmt == "word2vec-binary")
    emit(
        dataclasses.asdict(result),
        as_json=as_json,
        human=lambda r: f"wrote {r['words']:,} vectors of dim {r['dim']} to {r['path']}",
    )


def register(root: click.Group) -> None:
    """Add ``train skipgram`` and ``export`` to the ``embedrec`` group."""
    train = subgroup(root, "train", "Train models (skipgram, ranker).")
    train.add_command(train_skipgram_command)
    root.add_command(export_command)
