"""The engine's errors: all derive from `EmbedrecError`, so the CLI prints one line."""

from __future__ import annotations

from embedrec.core.errors import ArtifactError, EmbedrecError


class EngineError(EmbedrecError):
    """Training or export cannot proceed for a reason the user can fix."""


class DeviceError(EngineError):
    """The requested device (``--device cuda``) is not available here."""


class CheckpointError(ArtifactError):
    """A checkpoint is missing, partial or does not match the model being resumed."""
