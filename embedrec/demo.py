"""``embedrec demo``: the whole flow on the seeded synthetic world, in a couple of minutes.

generate text → text-pipeline (Dask) → train skipgram (TorchRec) → index build (FAISS) →
neighbours, analogies, evaluation against the planted answers, and a 2-D map.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from embedrec.core.artifacts import check_output_dir

# Questions whose answers the world plants (see embedrec.pipelines.synthetic.text.lexicon).
DEMO_NEIGHBOURS = ("paris", "king", "walked", "cats")
DEMO_ANALOGIES = (
    ("france", "paris", "germany"),  # → berlin
    ("man", "king", "woman"),  # → queen
    ("walk", "walked", "swim"),  # → swam
    ("cat", "cats", "dog"),  # → dogs
)
DEMO_MAP_WORDS = [
    "paris",
    "berlin",
    "rome",
    "madrid",
    "france",
    "germany",
    "italy",
    "spain",
    "king",
    "queen",
    "man",
    "woman",
    "prince",
    "princess",
    "boy",
    "girl",
]

EPILOG = """\b
Examples:
  embedrec demo                          # into ./demo-run
  embedrec demo --workdir /tmp/demo --overwrite --words 500000
"""


@click.command("demo", epilog=EPILOG)
@click.option(
    "--workdir",
    type=click.Path(path_type=Path),
    default=Path("demo-run"),
    show_default=True,
    help="Where every artifact of the demo goes.",
)
@click.option("--words", default=1_000_000, show_default=True, help="Size of the world.")
@click.option("--epochs", default=5, show_default=True)
@click.option("--seed", default=0, show_default=True)
@click.option("--overwrite", is_flag=True, help="Replace an existing work directory.")
def demo_command(workdir: Path, words: int, epochs: int, seed: int, overwrite: bool) -> None:
    """Run the whole flow on a generated world whose right answers are known."""
    check_output_dir(workdir, overwrite=overwrite)
    workdir.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    run = _Steps(started)

    from embedrec.pipelines import TextPipelineConfig, TextWorldConfig, generate_text_world
    from embedrec.pipelines.runtime.dask_cluster import ClusterConfig
    from embedrec.pipelines.text.pipeline import run_text_pipeline

    world = workdir / "world"
    run.step(
        "generate a world with planted relations",
        lambda: generate_text_world(TextWorldConfig(seed=seed, words=words), world, overwrite=True),
        lambda s: f"{s.words:,} words in {world / 'corpus.txt'}",
    )
    data = workdir / "data"
    run.step(
        "text pipeline on a local Dask cluster",
        lambda: run_text_pipeline(
            TextPipelineConfig(inputs=(str(world / "corpus.txt"),), out=str(data), overwrite=True),
            ClusterConfig(workers=2),
        ),
        lambda r: (
            f"{r.counts['vocab_size']:,} words in the vocabulary, "
            f"{r.counts['corpus_tokens']:,} tokens → {data}"
        ),
    )

    from embedrec.engine.skipgram.config import SkipGramConfig
    from embedrec.engine.skipgram.train import train_skipgram

    model = workdir / "model"
    config = SkipGramConfig(dim=48, epochs=epochs, seed=seed + 1)
    run.step(
        "train skip-gram on TorchRec tables",
        lambda: train_skipgram(data, model, config, overwrite=True, show_progress=True),
        lambda r: (
            f"{r.words_per_sec:,.0f} words/s ({r.kernel} kernel), loss {r.loss:.3f} → {model}"
        ),
    )

    from embedrec.indexes import IndexConfig, build_index, evaluate_analogies, load_index, plot_pca

    index_dir = workdir / "index"
    run.step(
        "build an exact cosine index (FAISS)",
        lambda: build_index(model, index_dir, IndexConfig(kind="flat"), overwrite=True),
        lambda r: f"{index_dir}",
    )
    index = load_index(index_dir)
    click.echo("\nnearest neighbours")
    for word in DEMO_NEIGHBOURS:
        hits = index.neighbors(word, k=5)
        click.echo(f"  {word:>8} → " + ", ".join(f"{h.token} {h.score:.2f}" for h in hits))
    click.echo("\nanalogies (a is to b as c is to ?)")
    for a, b, c in DEMO_ANALOGIES:
        best = index.analogy(a, b, c, k=3)
        click.echo(
            f"  {a} : {b} :: {c} : {best[0].token}   (then {best[1].token}, {best[2].token})"
        )

    report = evaluate_analogies(index, world / "questions-words.txt")
    click.echo(f"\nplanted analogies solved: {report.accuracy:.1%} of {report.total:,}")
    for section in report.sections:
        click.echo(f"  {section.name:<18} {section.accuracy:6.1%}")
    map_png = workdir / "map.png"
    plot_pca(index, list(DEMO_MAP_WORDS), map_png)
    click.echo(f"\n2-D map of capitals, countries and family words: {map_png}")
    click.echo(f"done in {time.perf_counter() - started:.0f} s. Next: embedrec serve {index_dir}")


class _Steps:
    """Numbered, timed steps with one summary line each."""

    def __init__(self, started: float) -> None:
        self.number = 0
        self.started = started

    def step(self, title: str, action: Callable[[], Any], summary: Callable[[Any], str]) -> Any:
        self.number += 1
        click.echo(f"[{self.number}] {title} ...", err=True)
        t0 = time.perf_counter()
        result = action()
        click.echo(f"[{self.number}] {summary(result)}  ({time.perf_counter() - t0:.1f} s)")
        return result


def register(root: click.Group) -> None:
    """Add ``demo`` to the ``embedrec`` group."""
    root.add_command(demo_command)
