"""``criteo.tsv``: one Criteo-style row per impression, for one of its shown results.

No header; tab-separated: the label (1 = clicked), 13 integer columns, 26 categorical
columns as 8-hex-digit hashes; an empty field is missing. Rows are in time order (row i+1 =
impression i, before bad lines) and describe the result at a uniformly drawn position.

Integer columns (real signals first, then noise; the share of missing values in brackets):

    I1 position (1-based)                 I8  impressions of the user in the log [20%]
    I2 impressions of the doc in the log [5%]   I9  words shared by query and title [10%]
    I3 words in the query                 I10 days since the first day of the log
    I4 hour of the day (UTC)              I11 earlier impressions of the same user [10%]
    I5 day of the week (0 = Monday)       I12 noise: Poisson(3) [40%]
    I6 words in the title [2%]            I13 noise: lognormal count [30%]
    I7 impressions of the query in the log [5%]

Categorical columns, hashed per column (same value, same hash): C1 user [3%], C2 query,
C3 doc, C4 device, C5 region, C6 doc kind, C7 doc region ("global" for none), C8 first
query word [5%], C9 first title word [5%], C10 device × region, C11 part of the day,
C12 weekday/weekend, C13 position 1–3 or lower, C14–C26 noise with 2 to 10,000 values.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from typing import Any, BinaryIO

import numpy as np

from embedrec.pipelines.synthetic.clicks.bad_lines import BadLinePlan, write_lines
from embedrec.pipelines.synthetic.clicks.config import REGIONS, ClickLogConfig
from embedrec.pipelines.synthetic.clicks.model import ClickLog, ClickWorld, component_rng

CHUNK = 32768
INTEGER_COLUMNS = 13
CATEGORICAL_COLUMNS = 26
_INT_MISSING = (0.0, 0.05, 0.0, 0.0, 0.0, 0.02, 0.05, 0.2, 0.1, 0.0, 0.1, 0.4, 0.3)
_CAT_MISSING = (0.03, 0, 0, 0, 0, 0, 0, 0.05, 0.05, 0, 0, 0, 0)
# Noise columns C14..C26: number of distinct values, Zipf exponent, share missing.
_NOISE = (
    (2, 0.0, 0.0),
    (3, 0.5, 0.0),
    (5, 1.0, 0.1),
    (10, 1.0, 0.0),
    (20, 1.2, 0.3),
    (50, 1.0, 0.0),
    (100, 0.8, 0.5),
    (300, 1.1, 0.0),
    (1000, 1.0, 0.2),
    (3000, 1.0, 0.0),
    (10000, 0.9, 0.6),
    (100, 1.5, 0.0),
    (30, 0.0, 0.05),
)
_HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
_MASK64 = np.uint64(0xFFFFFFFFFFFFFFFF)


def criteo_results(config: ClickLogConfig, log: ClickLog) -> np.ndarray:
    """(n,) the 0-based result index each impression's Criteo row describes."""
    rng = component_rng(config.seed, "criteo-results")
    return rng.integers(0, log.docs.shape[1], size=log.n_impressions)


def hash_column(column: int, codes: np.ndarray) -> np.ndarray:
    """32-bit hashes (uint32) of integer ``codes`` for categorical column C<column>.

    A splitmix64 finaliser over code and a per-column salt: stable across runs and seeds.
    """
    salt = np.uint64(zlib.crc32(f"C{column}".encode()))
    with np.errstate(over="ignore"):
        x = (codes.astype(np.uint64) + np.uint64(1)) * np.uint64(0x9E3779B97F4A7C15) + salt
        x ^= x >> np.uint64(30)
        x = (x * np.uint64(0xBF58476D1CE4E5B9)) & _MASK64
        x ^= x >> np.uint64(27)
        x = (x * np.uint64(0x94D049BB133111EB)) & _MASK64
        x ^= x >> np.uint64(31)
    return (x & np.uint64(0xFFFFFFFF)).astype(np.uint32)


def hex8(values: np.ndarray) -> np.ndarray:
    """``%08x`` of each uint32 value, as a (n,) array of str."""
    nibbles = (values[:, None] >> np.arange(28, -1, -4, dtype=np.uint32)) & np.uint32(0xF)
    return np.ascontiguousarray(_HEX[nibbles]).view("S8").ravel().astype("U8")


class CriteoColumns:
    """Every column of every row as integer codes (−1 = missing), built once."""

    def __init__(
        self, config: ClickLogConfig, world: ClickWorld, log: ClickLog, results: np.ndarray
    ) -> None:
        n = log.n_impressions
        rng = component_rng(config.seed, "criteo-columns")
        imp = np.arange(n)
        doc = log.docs[imp, results]
        query, user = log.query, log.user
        seconds = log.time - int(config.start_time().timestamp())
        day, hour = seconds // 86400, (seconds % 86400) // 3600
        weekday = (log.time // 86400 + 3) % 7  # 1970-01-01 was a Thursday
        query_words = [text.split() for text in world.query_text]
        title_words = [title.split() for title in world.doc_title]
        query_set = [set(words) for words in query_words]
        shared = np.array(
            [
                len(query_set[q].intersection(title_words[d]))
                for q, d in zip(query.tolist(), doc.tolist(), strict=True)
            ]
        )
        earlier = np.empty(n, dtype=np.int64)
        by_user = np.argsort(user, kind="stable")
        sorted_user = user[by_user]
        first = np.searchsorted(sorted_user, sorted_user, side="left")
        earlier[by_user] = np.arange(n) - first
        integers = [
            results + 1,
            np.bincount(log.docs.ravel(), minlength=len(world.doc_title))[doc],
            np.array([len(w) for w in query_words])[query],
            hour,
            weekday,
            np.array([len(w) for w in title_words])[doc],
            np.bincount(query, minlength=len(world.query_text))[query],
            np.bincount(user, minlength=config.users)[user],
            shared,
            day,
            earlier,
            rng.poisson(3.0, size=n),
            np.floor(rng.lognormal(1.5, 1.2, size=n)).astype(np.int64),
        ]
        self.label = log.clicked[imp, results]
        self.integers = [
            self._missing(rng, np.asarray(v, dtype=np.int64), p)
            for v, p in zip(integers, _INT_MISSING, strict=True)
        ]
        vocab = {
            word: i
            for i, word in enumerate(sorted({w for ws in query_words + title_words for w in ws}))
        }
        device, region = (
            world.user_device[user].astype(np.int64),
            world.user_region[user].astype(np.int64),
        )
        part_of_day = np.searchsorted([6, 12, 18], hour, side="right")
        categorical = [
            user,
            query,
            doc,
            device,
            region,
            world.doc_kind[doc],
            world.doc_region[doc].astype(np.int64) + 1,
            np.array([vocab[w[0]] for w in query_words])[query],
            np.array([vocab[w[0]] for w in title_words])[doc],
            device * len(REGIONS) + region,
            part_of_day,
            (weekday >= 5).astype(np.int64),
            (results >= 3).astype(np.int64),
        ]
        for cardinality, exponent, _ in _NOISE:
            weights = 1.0 / np.arange(1, cardinality + 1) ** exponent
            categorical.append(rng.choice(cardinality, size=n, p=weights / weights.sum()))
        missing = [*_CAT_MISSING, *(p for _, _, p in _NOISE)]
        self.categorical = [
            self._missing(rng, np.asarray(v, dtype=np.int64), p)
            for v, p in zip(categorical, missing, strict=True)
        ]

    @staticmethod
    def _missing(rng: np.random.Generator, values: np.ndarray, share: float) -> np.ndarray:
        if share <= 0:
            return values
        return np.where(rng.random(len(values)) < share, -1, values)

    def lines(self, start: int, stop: int) -> list[str]:
        """Lines (without line endings) of rows ``start`` to ``stop - 1``."""
        columns: list[list[str]] = [np.where(self.label[start:stop], "1", "0").tolist()]
        for values in self.integers:
            chunk = values[start:stop]
            columns.append(np.where(chunk >= 0, chunk.astype(str), "").tolist())
        for k, values in enumerate(self.categorical, start=1):
            chunk = values[start:stop]
            columns.append(np.where(chunk >= 0, hex8(hash_column(k, chunk)), "").tolist())
        return ["\t".join(fields) for fields in zip(*columns, strict=True)]

    def chunks(self) -> Iterator[list[str]]:
        """All rows, in chunks of `CHUNK`."""
        n = len(self.label)
        for start in range(0, n, CHUNK):
            yield self.lines(start, min(start + CHUNK, n))


def write_criteo(
    handle: BinaryIO,
    config: ClickLogConfig,
    world: ClickWorld,
    log: ClickLog,
    results: np.ndarray,
    plan: BadLinePlan,
) -> list[dict[str, Any]]:
    """Write one row per impression, plus ``plan``'s bad lines; returns the planted entries."""
    columns = CriteoColumns(config, world, log, results)
    return write_lines(handle, columns.chunks(), plan, lambda i: columns.lines(i, i + 1)[0])
