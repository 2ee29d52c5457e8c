"""``python -m embedrec.engine``: the engine's commands alone, for torchrun.

torchrun --nproc-per-node 2 -m embedrec.engine train skipgram data/wiki --out models/wiki
"""

import sys

import click

from embedrec.core.cli_support import configure_logging, run_cli
from embedrec.engine.cli import register


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-v", "--verbose", count=True, help="More logging on stderr.")
def engine_root(verbose: int) -> None:
    """embedrec engine: training, export and ranker evaluation."""
    configure_logging(verbose)


register(engine_root)
sys.exit(run_cli(engine_root, prog_name="python -m embedrec.engine"))
