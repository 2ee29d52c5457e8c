"""Commands of the engine package: ``train``, ``export``, ``eval ranker``."""

from __future__ import annotations

import click


def register(root: click.Group) -> None:
    """Add this package's commands to the ``embedrec`` group."""
