"""Stable 64-bit hashes and counter-based random numbers (same on every machine and run).

Python's ``hash`` changes per process, so splits, negative sampling and the clicked-pair
set use these instead: blake2b for strings, splitmix64 to mix integers. Everything here is
vectorised over numpy ``uint64`` arrays (overflow wraps, as intended).

>>> int(string_hash64(["u1"])[0]) == int(string_hash64(["u1"])[0])
True
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

import numpy as np

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_TO_UNIT = 1.0 / float(1 << 53)


def string_hash64(values: Iterable[str]) -> np.ndarray:
    """blake2b-64 of each UTF-8 string, as a ``uint64`` array of the same length."""
    digests = b"".join(hashlib.blake2b(v.encode("utf-8"), digest_size=8).digest() for v in values)
    return np.frombuffer(digests, dtype="<u8").astype(np.uint64)


def splitmix64(x: np.ndarray) -> np.ndarray:
    """The splitmix64 finaliser: a bijective, well-mixed map of ``uint64`` arrays."""
    with np.errstate(over="ignore"):  # wrapping is the point; numpy warns on 0-d arrays
        z = np.asarray(x, dtype=np.uint64) + _GOLDEN
        z = (z ^ (z >> np.uint64(30))) * _M1
        z = (z ^ (z >> np.uint64(27))) * _M2
        return z ^ (z >> np.uint64(31))


def mix64(*parts: np.ndarray | np.integer | int) -> np.ndarray:
    """Hash a tuple of integers (arrays broadcast) into one ``uint64`` per element."""
    state = np.zeros((), dtype=np.uint64)
    for part in parts:
        state = splitmix64(state ^ np.asarray(part).astype(np.uint64))
    return state


def pair_key(query_hash: np.ndarray | np.integer, doc_hash: np.ndarray) -> np.ndarray:
    """Key of a (query, doc) pair from the two string hashes (order matters)."""
    return mix64(query_hash, doc_hash)


def unit_float(h: np.ndarray) -> np.ndarray:
    """Map ``uint64`` hashes to floats uniform in [0, 1) (53 bits)."""
    return (np.asarray(h, dtype=np.uint64) >> np.uint64(11)).astype(np.float64) * _TO_UNIT
