"""What index to build: the `IndexConfig` (validated in one place) and the plan it turns into.

An index design is one FAISS factory string. The named kinds are shorthands whose sizes
are picked from the vocabulary size; anything else is passed to FAISS as a factory string.

=========  ==========================  ==========================================
kind       factory (V vectors, d dims)  searched with
=========  ==========================  ==========================================
flat       ``Flat``                     exact (brute force)
hnsw       ``HNSW{hnsw_m}``             graph; ``efSearch`` tuned to the target
ivf-flat   ``IVF{nlist},Flat``          inverted lists; ``nprobe`` tuned
ivf-pq     ``IVF{nlist},PQ{m}x{bits}``  inverted lists of product-quantised codes
fp16       ``SQfp16``                   exact scan over 16-bit floats
sq8        ``SQ8``                      exact scan over 8-bit scalar codes
auto       flat below ``auto_exact_below`` vectors, hnsw below ``auto_hnsw_below``,
           ivf-flat above (building HNSW over millions of vectors takes long)
=========  ==========================  ==========================================

>>> plan_index(IndexConfig(kind="ivf-flat"), vocab_size=100_000, dim=100).factory
'IVF1024,Flat'
>>> plan_index(IndexConfig(), vocab_size=10_000, dim=100).factory
'Flat'
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

from embedrec.core.errors import ConfigError

KINDS = ("auto", "flat", "hnsw", "ivf-flat", "ivf-pq", "fp16", "sq8")
METRICS = ("cosine", "ip", "l2")
INDEX_FILE = "index.faiss"  # faiss.write_index of the whole index
INDEX_KIND = "index"  # manifest kind of an index folder
RECALL_K = 10
# FAISS's k-means wants this many training points per centroid (it warns below).
POINTS_PER_CENTROID = 39


@dataclass(frozen=True, kw_only=True)
class IndexConfig:
    """How to build an index. Saved in the index manifest's ``config``.

    ``kind``: one of `KINDS` or a FAISS factory string such as ``"IVF256,PQ20"``.
    ``metric``: ``cosine`` (L2-normalised vectors, inner product), ``ip`` or ``l2``.
    ``target_recall``: recall@10 the tuned search parameter (efSearch / nprobe) must reach.
    ``nlist``, ``pq_m``, ``hnsw_m``, ``ef_construction``: index shape overrides.
    ``ef_search`` / ``nprobe``: fix the search parameter instead of tuning it.
    ``recall_queries``: seeded sample of vocabulary words used to measure recall@10.
    ``train_size``: vectors sampled (seeded) to train IVF/PQ/SQ; None picks from the shape.
    ``auto_exact_below`` / ``auto_hnsw_below``: vocabulary sizes where ``auto`` switches.
    ``chunk_rows``: vectors normalised and added per step (bounds the extra memory).
    """

    kind: str = "auto"
    metric: str = "cosine"
    target_recall: float = 0.95
    nlist: int | None = None
    pq_m: int | None = None
    hnsw_m: int = 32
    ef_construction: int = 40
    ef_search: int | None = None
    nprobe: int | None = None
    recall_queries: int = 1000
    train_size: int | None = None
    auto_exact_below: int = 50_000
    auto_hnsw_below: int = 1_000_000
    chunk_rows: int = 65_536
    seed: int = 0

    def __post_init__(self) -> None:
        if not isinstance(self.kind, str) or not self.kind.strip():
            raise ConfigError("kind", self.kind, "one of " + ", ".join(KINDS) + " or a factory")
        if self.metric not in METRICS:
            raise ConfigError("metric", self.metric, "one of " + ", ".join(METRICS))
        if not isinstance(self.target_recall, int | float) or not 0 < self.target_recall <= 1:
            raise ConfigError("target_recall", self.target_recall, "a number in (0, 1]")
        for key in ("nlist", "pq_m", "ef_search", "nprobe", "train_size"):
            value = getattr(self, key)
            if value is not None:
                _check_int(key, value, 1)
        _check_int("hnsw_m", self.hnsw_m, 2)
        _check_int("ef_construction", self.ef_construction, 1)
        _check_int("recall_queries", self.recall_queries, 1)
        _check_int("auto_exact_below", self.auto_exact_below, 0)
        _check_int("auto_hnsw_below", self.auto_hnsw_below, 0)
        _check_int("chunk_rows", self.chunk_rows, 1)
        _check_int("seed", self.seed, 0)
        if self.auto_hnsw_below < self.auto_exact_below:
            raise ConfigError(
                "auto_hnsw_below",
                self.auto_hnsw_below,
                f">= auto_exact_below ({self.auto_exact_below})",
            )

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def _check_int(key: str, value: Any, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ConfigError(key, value, f"an integer >= {minimum}")


@dataclass(frozen=True)
class IndexPlan:
    """The concrete index for a vocabulary: FAISS factory string and how to search it.

    ``kind``: the named kind it came from (``factory`` for a user's factory string).
    ``exact``: True when search is brute force over the full-precision vectors, so recall
    needs no measuring. ``tuned``: the search parameter to tune (``nprobe``, ``efSearch``)
    or None; the plan's ``search_params`` fix it instead when the config gives a value.
    """

    kind: str
    factory: str
    exact: bool
    tuned: str | None
    search_params: dict[str, int]
    ef_construction: int | None = None


def plan_index(config: IndexConfig, *, vocab_size: int, dim: int) -> IndexPlan:
    """Turn ``config`` into a factory string and search plan for V=``vocab_size`` vectors."""
    kind = config.kind
    if kind == "auto":
        if vocab_size < config.auto_exact_below:
            kind = "flat"
        elif vocab_size < config.auto_hnsw_below:
            kind = "hnsw"
        else:
            kind = "ivf-flat"
    if kind == "flat":
        return IndexPlan("flat", "Flat", exact=True, tuned=None, search_params={})
    if kind in ("fp16", "sq8"):
        factory = "SQfp16" if kind == "fp16" else "SQ8"
        return IndexPlan(kind, factory, exact=False, tuned=None, search_params={})
    if kind == "hnsw":
        fixed = {"efSearch": config.ef_search} if config.ef_search else {}
        return IndexPlan(
            "hnsw",
            f"HNSW{config.hnsw_m}",
            exact=False,
            tuned=None if fixed else "efSearch",
            search_params=fixed,
            ef_construction=config.ef_construction,
        )
    if kind in ("ivf-flat", "ivf-pq"):
        nlist = config.nlist or default_nlist(vocab_size)
        if nlist * POINTS_PER_CENTROID > vocab_size and config.nlist is None:
            nlist = max(1, vocab_size // POINTS_PER_CENTROID)
        if nlist > vocab_size:
            raise ConfigError("nlist", nlist, f"at most the vocabulary size ({vocab_size})")
        codes = "Flat" if kind == "ivf-flat" else _pq_codes(config, vocab_size, dim)
        fixed = {"nprobe": config.nprobe} if config.nprobe else {}
        return IndexPlan(
            kind,
            f"IVF{nlist},{codes}",
            exact=False,
            tuned=None if fixed else "nprobe",
            search_params=fixed,
        )
    # Anything else is a FAISS factory string; `build_index` finds what it can tune.
    return IndexPlan("factory", kind, exact=kind.strip() == "Flat", tuned=None, search_params={})


def default_nlist(vocab_size: int) -> int:
    """About 4·√V inverted lists, a power of two (the FAISS wiki's lower bound)."""
    return max(1, 2 ** round(math.log2(max(1.0, 4 * math.sqrt(vocab_size)))))


def _pq_codes(config: IndexConfig, vocab_size: int, dim: int) -> str:
    m = config.pq_m or _default_pq_m(dim)
    if dim % m:
        raise ConfigError("pq_m", m, f"a divisor of the vector dimension {dim}")
    # 2**bits centroids per sub-quantiser need ~39 training points each; small vocabularies
    # get fewer bits rather than a k-means FAISS warns about.
    bits = min(8, int(math.log2(max(1, vocab_size // POINTS_PER_CENTROID))))
    if bits < 4:
        raise ConfigError(
            "kind",
            "ivf-pq",
            f"a vocabulary of at least {16 * POINTS_PER_CENTROID} vectors to train "
            f"(got {vocab_size}); use flat, fp16 or sq8",
        )
    return f"PQ{m}" if bits == 8 else f"PQ{m}x{bits}"


def _default_pq_m(dim: int) -> int:
    """Sub-quantisers of 4 dimensions when they divide evenly, else the largest divisor ≤ d/2."""
    if dim % 4 == 0:
        return dim // 4
    divisors = [m for m in range(1, dim // 2 + 1) if dim % m == 0]
    return divisors[-1] if divisors else dim
