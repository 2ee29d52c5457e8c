"""Fixtures of the index tests (helpers live in index_fixtures.py)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pytest
from index_fixtures import write_model

MakeModel = Callable[..., Path]


@pytest.fixture
def make_model(tmp_path: Path) -> MakeModel:
    """``make_model(vectors, tokens=None, name="model")`` → a model directory."""

    def make(vectors: np.ndarray, tokens: Sequence[str] | None = None, name: str = "model") -> Path:
        tokens = list(tokens) if tokens is not None else [f"w{i}" for i in range(len(vectors))]
        return write_model(tmp_path / name, vectors, tokens)

    return make
