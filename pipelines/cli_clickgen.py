"""(command module: filled in by its owner)"""

from __future__ import annotations

import click


def register(root: click.Group) -> None:
    """Add this module's commands to the ``embedrec`` group."""
