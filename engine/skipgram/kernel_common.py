"""Pieces the compiled kernels share: the random generator, the sigmoid tables, subsampling.

word2vec's own choices are kept where they matter for quality (a linear congruential
generator per thread, sigmoid from a 1000-entry table clipped at ±6); high bits of the
generator are used for every draw because its low bits are weak.
"""

from __future__ import annotations

import numba
import numpy as np

MAX_EXP = 6.0
EXP_TABLE_SIZE = 1000
_LCG_MULTIPLIER = np.uint64(25214903917)
_LCG_INCREMENT = np.uint64(11)


def sigmoid_tables() -> tuple[np.ndarray, np.ndarray]:
    """``(sigmoid, log_sigmoid)`` sampled on [-MAX_EXP, MAX_EXP): float32 (EXP_TABLE_SIZE,)."""
    x = (np.arange(EXP_TABLE_SIZE) / EXP_TABLE_SIZE * 2.0 - 1.0) * MAX_EXP
    sig = 1.0 / (1.0 + np.exp(-x))
    return sig.astype(np.float32), np.log(sig).astype(np.float32)


@numba.njit(inline="always", cache=True)
def lcg_next(state: np.uint64) -> np.uint64:  # pragma: no cover - jitted
    return state * _LCG_MULTIPLIER + _LCG_INCREMENT


@numba.njit(inline="always", cache=True)
def uniform24(state: np.uint64) -> float:  # pragma: no cover - jitted
    """A uniform in [0, 1) from the top 24 bits of the generator state."""
    return float(state >> np.uint64(40)) / 16777216.0


@numba.njit(inline="always", cache=True)
def draw_alias(state: np.uint64, prob: np.ndarray, alias: np.ndarray) -> int:  # pragma: no cover
    """One draw from an alias table using the top 32 bits of ``state``."""
    u = float(state >> np.uint64(32)) / 4294967296.0 * prob.shape[0]
    col = int(u)
    if col >= prob.shape[0]:
        col = prob.shape[0] - 1
    return col if (u - col) < prob[col] else int(alias[col])


@numba.njit(cache=True)
def seed_state(seed: int, stream: int) -> np.uint64:  # pragma: no cover - jitted
    """A well-mixed starting state for (seed, stream) (splitmix64 of both)."""
    z = np.uint64(seed) * np.uint64(0x9E3779B97F4A7C15) + np.uint64(stream) * np.uint64(
        0xBF58476D1CE4E5B9
    )
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


@numba.njit(cache=True)
def subsample(
    tokens: np.ndarray, start: int, stop: int, keep: np.ndarray, state: np.uint64, out: np.ndarray
) -> tuple[int, np.uint64]:  # pragma: no cover - jitted
    """Copy the kept tokens of ``tokens[start:stop]`` into ``out``; return (count, state)."""
    n = 0
    for j in range(start, stop):
        w = tokens[j]
        state = lcg_next(state)
        if keep[w] < 1.0 and keep[w] < uniform24(state):
            continue
        out[n] = w
        n += 1
    return n, state
