"""Commands of the pipelines package, one module per command group.

``cli_text`` (text-pipeline), ``cli_world`` (generate text), ``cli_clicks`` (clicks-pipeline),
``cli_clickgen`` (generate clicks).
"""

from __future__ import annotations

import click

from embedrec.pipelines.clicks import cli as cli_clicks
from embedrec.pipelines.synthetic.clicks import cli as cli_clickgen
from embedrec.pipelines.synthetic.text import cli as cli_world
from embedrec.pipelines.text import cli as cli_text


def register(root: click.Group) -> None:
    """Add this package's commands to the ``embedrec`` group."""
    for module in (cli_text, cli_world, cli_clicks, cli_clickgen):
        module.register(root)
