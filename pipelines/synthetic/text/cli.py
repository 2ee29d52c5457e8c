"""``embedrec generate text``: write the seeded synthetic text world (see `synthetic_text`)."""

from __future__ import annotations

from typing import Any

import click

from embedrec.core.cli_support import emit, json_option, subgroup

GROUP_HELP = "Write seeded synthetic data with known answers (text world, click logs)."

EPILOG = """\b
Examples:
  embedrec generate text --out world
  embedrec generate text --out small-world --words 200000 --pairs 10 --seed 7

Then the whole flow on it:
  embedrec text-pipeline world/corpus.txt --out data/world
  embedrec train skipgram data/world --out models/world
  embedrec eval analogies models/world --questions world/questions-words.txt
  embedrec eval similarity models/world --pairs world/similarity.tsv
"""


@click.command("text", epilog=EPILOG)
@click.option("--out", required=True, type=click.Path(file_okay=False), help="Output directory.")
@click.option("--seed", default=0, show_default=True, type=int, help="Seed of every choice.")
@click.option(
    "--words", default=1_000_000, show_default=True, type=int, help="Corpus size in words."
)
@click.option(
    "--pairs",
    "pairs_per_relation",
    default=30,
    show_default=True,
    type=int,
    help="Pairs planted per relation (2-30).",
)
@click.option(
    "--questions-per-section",
    default=1000,
    show_default=True,
    type=int,
    help="At most this many analogy questions per section (seeded sample).",
)
@click.option(
    "--similarity-pairs",
    default=300,
    show_default=True,
    type=int,
    help="Scored word pairs in similarity.tsv.",
)
@click.option("--overwrite", is_flag=True, help="Replace an existing output directory.")
@json_option
def generate_text(
    out: str,
    seed: int,
    words: int,
    pairs_per_relation: int,
    questions_per_section: int,
    similarity_pairs: int,
    overwrite: bool,
    as_json: bool,
) -> None:
    """Write a synthetic text world with planted relations, so the right answers are known.

    OUT gets corpus.txt (prose with capitals and punctuation, one paragraph a line),
    questions-words.txt (Google analogy format: capital-world, family, gram7-past-tense,
    gram8-plural), similarity.tsv (WordSim-353 format), world.json (the ground truth) and
    manifest.json. The same flags always write the same files.
    """
    from embedrec.pipelines.synthetic.text.world import TextWorldConfig, generate_text_world

    config = TextWorldConfig(
        seed=seed,
        words=words,
        pairs_per_relation=pairs_per_relation,
        questions_per_section=questions_per_section,
        similarity_pairs=similarity_pairs,
    )
    summary = generate_text_world(config, out, overwrite=overwrite, progress=True)
    emit(summary.to_dict(), as_json=as_json, human=_human)


def _human(result: dict[str, Any]) -> str:
    sections = ", ".join(f"{name} {n}" for name, n in result["questions"].items())
    return (
        f"wrote {result['out']}: {result['words']:,} words in {result['sentences']:,} "
        f"sentences ({result['vocabulary']:,} distinct words, seed {result['seed']})\n"
        f"analogy questions: {sections}\n"
        f"similarity pairs: {result['similarity_pairs']}"
    )


def register(root: click.Group) -> None:
    """Add ``generate text`` to the ``embedrec`` group."""
    subgroup(root, "generate", GROUP_HELP).add_command(generate_text)
