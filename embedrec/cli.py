"""The ``embedrec`` console script: every package's commands under one group.

embedrec --help
embedrec demo --workdir demo-run
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

import click

import embedrec.engine.cli
import embedrec.indexes.cli
import embedrec.pipelines.cli
from embedrec import demo as cli_demo
from embedrec.core.cli_support import configure_logging, run_cli
from embedrec.serving import cli as cli_serve
from embedrec.serving import cli_query

EPILOG = """\b
The flow, on real data:
  embedrec text-pipeline wiki.wikiextractor.gz --out data/wiki
  embedrec train skipgram data/wiki --out models/wiki --dim 100 --epochs 5
  embedrec index build models/wiki --out indexes/wiki
  embedrec query neighbors indexes/wiki shark
  embedrec query analogy indexes/wiki italy rome germany
"""


@click.group(epilog=EPILOG, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-v", "--verbose", count=True, help="More logging on stderr (-v info, -vv debug).")
@click.version_option(package_name="embedrec")
def root(verbose: int) -> None:
    """embedrec: raw text and click logs to embeddings, indexes and a ranking service."""
    configure_logging(verbose)


for _package_cli in (
    embedrec.pipelines.cli,
    embedrec.engine.cli,
    embedrec.indexes.cli,
    cli_query,
    cli_serve,
    cli_demo,
):
    _package_cli.register(root)


def main(argv: Sequence[str] | None = None) -> None:
    """Console-script entry point."""
    sys.exit(run_cli(root, argv))


if __name__ == "__main__":
    main()
