"""One answer of a search: a token and its score.

>>> word, score = ScoredWord("berlin", 0.8)
>>> word
'berlin'
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class ScoredWord:
    """One answer: a vocabulary token and its score (see the module docstring)."""

    token: str
    score: float

    def __iter__(self) -> Iterator[Any]:
        """Unpacks like gensim's ``(word, score)`` pairs: ``for word, score in answers``."""
        yield self.token
        yield self.score


__all__ = ["ScoredWord"]
