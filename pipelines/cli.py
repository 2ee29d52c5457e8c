"""Commands of the pipelines package, one module per command group.

``cli_text`` (text-pipeline), ``cli_world`` (generate text), ``cli_clicks`` (clicks-pipeline),
``cli_clickgen`` (generate clicks).
"""

from __future__ import annotations

import click

from pipelines import cli_clickgen, cli_clicks, cli_text, cli_world


def register(root: click.Group) -> None:
    """Add this package's commands to the ``embedrec`` group."""
    for module in (cli_text, cli_world, cli_clicks, cli_clickgen):
        module.register(root)
