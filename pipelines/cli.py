"""Commands of the pipelines package: ``text-pipeline``, ``clicks-pipeline``, ``generate``."""

from __future__ import annotations

import click


def register(root: click.Group) -> None:
    """Add this package's commands to the ``embedrec`` group."""
