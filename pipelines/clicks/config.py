"""The one configuration of a clicks-pipeline run, validated in one place.

>>> config = ClicksPipelineConfig(inputs=("logs/day1.jsonl",), format="jsonl", out="data/c")
>>> ClicksPipelineConfig(inputs=("a.tsv",), format="csv", out="o")
Traceback (most recent call last):
...
embedrec.core.errors.ConfigError: format: got 'csv', expected one of aol, jsonl, criteo

Where the job runs (LocalCluster or ``--scheduler``) is a `ClusterConfig`, kept apart: it
does not change the output, so it is not part of the dataset's recorded config.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from embedrec.core.errors import ConfigError

FORMATS = ("aol", "jsonl", "criteo")
SPLITS = ("time", "hash-user")
DEFAULT_BLOCK_SIZE = 64 * 1024 * 1024
MIN_BLOCK_SIZE = 1  # bytes; tiny blocks are only useful in tests, but they are valid


@dataclass(frozen=True, kw_only=True)
class ClicksPipelineConfig:
    """What to read, how to split and what to write.

    ``inputs``: files or directories (every non-hidden file inside, sorted), in order.
    ``format``: one of `FORMATS`. ``min_count``: values seen fewer times map to id 0.
    ``split``: ``time`` (the last ``valid_fraction`` of impressions by time; Criteo has no
    time, so by line order) or ``hash-user`` (a stable hash of the user id).
    ``aol_negatives``: sampled non-clicked docs per AOL click. ``seed``: for that sampling.
    ``block_size``: bytes of an input file per parallel partition (gzip files: whole file).
    """

    inputs: tuple[str, ...]
    format: str
    out: str
    min_count: int = 1
    split: str = "time"
    valid_fraction: float = 0.1
    aol_negatives: int = 4
    seed: int = 0
    block_size: int = DEFAULT_BLOCK_SIZE
    overwrite: bool = False

    def __post_init__(self) -> None:
        if isinstance(self.inputs, str | bytes) or not isinstance(self.inputs, tuple | list):
            raise ConfigError("inputs", self.inputs, "a list of input paths")
        object.__setattr__(self, "inputs", tuple(str(p) for p in self.inputs))
        object.__setattr__(self, "out", str(self.out))
        if not self.inputs:
            raise ConfigError("inputs", [], "at least one input file or directory")
        if self.format not in FORMATS:
            raise ConfigError("format", self.format, "one of " + ", ".join(FORMATS))
        if self.split not in SPLITS:
            raise ConfigError("split", self.split, "one of " + ", ".join(SPLITS))
        if self.split == "hash-user" and self.format == "criteo":
            raise ConfigError(
                "split", self.split, "'time' for criteo (it has no user; split by line order)"
            )
        _check_int("min_count", self.min_count, 1)
        _check_int("aol_negatives", self.aol_negatives, 0)
        _check_int("seed", self.seed, 0)
        _check_int("block_size", self.block_size, MIN_BLOCK_SIZE)
        fraction = self.valid_fraction
        if isinstance(fraction, bool) or not isinstance(fraction, int | float):
            raise ConfigError("valid_fraction", fraction, "a number in [0, 1)")
        if not 0.0 <= float(fraction) < 1.0:
            raise ConfigError("valid_fraction", fraction, "a number in [0, 1)")
        object.__setattr__(self, "valid_fraction", float(fraction))

    def to_json(self) -> dict[str, Any]:
        """The config as recorded in the dataset manifest."""
        record = dataclasses.asdict(self)
        record["inputs"] = list(self.inputs)
        return record


def _check_int(key: str, value: Any, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ConfigError(key, value, f"an integer >= {minimum}")
