"""Errors a user can act on.

`EmbedrecError` is the root of every error caused by the caller (a bad path, a bad flag value,
an artifact of the wrong kind). It lives here, at the top of the flow, so every package can
derive from it; the CLI turns any of them into one line on stderr and a non-zero exit.
Messages name the bad value and the expected form.

>>> raise ConfigError("window", 0, "an integer >= 1")
Traceback (most recent call last):
...
embedrec.core.errors.ConfigError: window: got 0, expected an integer >= 1
"""

from __future__ import annotations

from pathlib import Path
from typing import Any


class EmbedrecError(Exception):
    """Root of the errors a user can fix; the CLI prints ``str(error)`` and exits 2."""


class ConfigError(EmbedrecError, ValueError):
    """A configuration value is out of range or of the wrong form."""

    def __init__(self, key: str, value: Any, expected: str) -> None:
        self.key = key
        self.value = value
        self.expected = expected
        super().__init__(f"{key}: got {value!r}, expected {expected}")

    def __reduce__(self) -> tuple[type, tuple[str, Any, str]]:  # picklable across Dask workers
        return (type(self), (self.key, self.value, self.expected))


class InputError(EmbedrecError):
    """An input path is missing, unreadable or holds nothing usable."""

    def __init__(self, path: str | Path, reason: str) -> None:
        self.path = str(path)
        self.reason = reason
        super().__init__(f"{path}: {reason}")

    def __reduce__(self) -> tuple[type, tuple[str, str]]:
        return (type(self), (self.path, self.reason))


class ArtifactError(EmbedrecError):
    """An artifact directory is missing, of the wrong kind, incomplete or corrupt."""

    def __init__(self, path: str | Path, reason: str) -> None:
        self.path = str(path)
        self.reason = reason
        super().__init__(f"{path}: {reason}")

    def __reduce__(self) -> tuple[type, tuple[str, str]]:
        return (type(self), (self.path, self.reason))


class OutputExistsError(ArtifactError):
    """The output directory exists and ``--overwrite`` was not given."""

    def __init__(self, path: str | Path, reason: str = "") -> None:
        super().__init__(path, reason or "already exists; pass --overwrite to replace it")


class PipelineError(EmbedrecError):
    """A pipeline job could not finish (after its bad rows were counted and kept aside)."""
