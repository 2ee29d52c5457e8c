"""The text pipeline's configuration: one frozen dataclass, validated in one place.

>>> TextPipelineConfig(inputs=("wiki.gz",), out="data/wiki", phrases=2).delta
5.0
>>> TextPipelineConfig(inputs=("wiki.gz",), out="data/wiki", min_count=0)
Traceback (most recent call last):
...
embedrec.core.errors.ConfigError: min_count: got 0, expected an integer >= 1
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from embedrec.core.errors import ConfigError

MIB = 1 << 20
_MAX_PARTITION_BYTES = 1 << 30  # Arrow string offsets are int32 within a partition


@dataclass(frozen=True, kw_only=True)
class TextPipelineConfig:
    """Everything that shapes a text dataset; saved in its manifest.

    ``phrase_delta`` None means "the min-count", as in word2phrase. ``partition_bytes`` only
    changes how the work is cut, never the result.
    """

    inputs: tuple[str, ...]
    out: str
    min_count: int = 5
    max_vocab: int | None = None
    phrases: int = 0
    phrase_threshold: float = 100.0
    phrase_delta: float | None = None
    max_sentence_length: int = 1000
    partition_bytes: int = 8 * MIB
    overwrite: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "inputs", tuple(str(i) for i in self.inputs))
        object.__setattr__(self, "out", str(self.out))
        if not self.inputs:
            raise ConfigError("inputs", [], "at least one file, directory or glob")
        _check_int("min_count", self.min_count, 1)
        if self.max_vocab is not None:
            _check_int("max_vocab", self.max_vocab, 1)
        _check_int("phrases", self.phrases, 0)
        _check_int("max_sentence_length", self.max_sentence_length, 1)
        _check_int("partition_bytes", self.partition_bytes, 1, _MAX_PARTITION_BYTES)
        if not _is_number(self.phrase_threshold) or self.phrase_threshold < 0:
            raise ConfigError("phrase_threshold", self.phrase_threshold, "a number >= 0")
        if self.phrase_delta is not None and (
            not _is_number(self.phrase_delta) or self.phrase_delta < 0
        ):
            raise ConfigError("phrase_delta", self.phrase_delta, "a number >= 0 (or None)")

    @property
    def delta(self) -> float:
        """The discount δ of the phrase score (the min-count unless set)."""
        return float(self.min_count if self.phrase_delta is None else self.phrase_delta)

    def to_json(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["inputs"] = list(self.inputs)
        return data


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and value == value


def _check_int(key: str, value: Any, low: int, high: int | None = None) -> None:
    ok = isinstance(value, int) and not isinstance(value, bool) and value >= low
    if ok and high is not None:
        ok = value <= high
    if not ok:
        bound = f"an integer >= {low}" + (f" and <= {high}" if high is not None else "")
        raise ConfigError(key, value, bound)
