"""The root command: help, version and the error boundary."""

from __future__ import annotations


def test_help_shows_an_example(run_cli):
    result = run_cli("--help")
    assert result.code == 0
    assert "embedrec text-pipeline" in result.out


def test_unknown_command_is_one_line_and_nonzero(run_cli):
    result = run_cli("no-such-command")
    assert result.code != 0
    assert "Traceback" not in result.err
    assert "no-such-command" in result.err
