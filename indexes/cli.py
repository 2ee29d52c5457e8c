"""Commands of the indexes package: ``index build``, ``eval analogies|similarity``, ``plot``."""

from __future__ import annotations

import click


def register(root: click.Group) -> None:
    """Add this package's commands to the ``embedrec`` group."""
