"""Shared fixtures: tiny artifacts built in a temp dir, and the CLI run in-process."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import pytest


@dataclass(frozen=True)
class CliResult:
    code: int
    out: str
    err: str


@pytest.fixture
def run_cli(capsys: pytest.CaptureFixture[str]) -> Callable[..., CliResult]:
    """Run ``embedrec ARGS`` through the real entry point (error boundary included)."""
    from embedrec.cli import root
    from embedrec.core.cli_support import run_cli as _run

    def run(*args: str | object) -> CliResult:
        argv: Sequence[str] = [str(a) for a in args]
        capsys.readouterr()
        code = _run(root, argv)
        captured = capsys.readouterr()
        return CliResult(code=code, out=captured.out, err=captured.err)

    return run
