"""Commands of the engine package, one module per command group.

``cli_skipgram`` (train skipgram, export), ``cli_ranker`` (train ranker, eval ranker).
"""

from __future__ import annotations

import click

from embedrec.engine.ranker import cli as cli_ranker
from embedrec.engine.skipgram import cli as cli_skipgram


def register(root: click.Group) -> None:
    """Add this package's commands to the ``embedrec`` group (or ``python -m embedrec.engine``)."""
    for module in (cli_skipgram, cli_ranker):
        module.register(root)
