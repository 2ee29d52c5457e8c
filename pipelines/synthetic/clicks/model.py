"""The ground-truth model behind the synthetic click logs: a small search engine, simulated.

The world (fixed before the first impression):

- **Words**: ``topics`` groups of ``words_per_topic`` made-up words. A word's latent vector
  is its topic's unit centroid plus ``word_noise`` noise, so words of a topic are alike but
  not equal. A few generic words ("cheap", "best", …) have a zero vector.
- **Queries**: 1–4 words, mostly from one topic (unique strings). A query's latent vector
  is the *mean of its words' vectors*: a model can learn it from the query's tokens.
- **Docs**: a title of 3–6 content words, mostly from the doc's topic, its latent vector the
  mean of those words' vectors plus ``doc_noise`` of its own (learnable from the doc id).
  Each doc has a kind (guide, video, app, shop, news) and, for ``regional_doc_share`` of
  them, a home region; the title usually names the kind and always names the region.
  A doc bias (quality, ``doc_bias_std``) is correlated (0.5) with the doc's popularity.
- **Users**: each with a device (desktop, mobile, tablet) and a region (us, gb, de, …).
- **Popularity**: queries, docs and users follow Zipf laws (exponents ``*_zipf``) over a
  random order.
- **Candidates**: each query has ``candidates_per_query`` distinct docs, a share
  ``topic_candidate_share`` drawn (by popularity) from its topic, the rest from all docs.

The truth, per (impression, doc shown at 1-based ``position``)::

    logit      = latent_scale · (q · d) + doc_bias + device_effect[device, kind]
                 + region_effect · (+1 same region, −1 other region, 0 global doc)
                 + relevance_offset
    relevance  = sigmoid(logit)                      P(click | examined), position-free
    examination(position) = 1 / position ** position_exponent          (1, 0.62, 0.46, …)
    p_click    = examination(position) · relevance
    clicked    ~ Bernoulli(p_click)

Each impression: a time (weeks from ``start``, busier by day than by night; strictly
increasing, so impression ``i`` is the i-th in time), a user (Zipf), a query (Zipf), and
the top ``results_per_impression`` of the query's candidates under a *production ranker*
that sees the true logit plus Normal(0, ``production_noise``) noise — better docs tend to
be shown higher, as in real logs, but not always.

>>> world, log = simulate_clicks(ClickLogConfig(queries=50, docs=200, impressions=100, users=20))
>>> log.docs.shape, log.p_click.shape, bool((log.p_click <= log.relevance).all())
((100, 10), (100, 10), True)
"""

from __future__ import annotations

import logging
import zlib
from dataclasses import dataclass

import numpy as np

from embedrec.core.errors import PipelineError
from embedrec.pipelines.synthetic.clicks.config import (
    DEVICE_SHARES,
    DEVICES,
    DOC_KINDS,
    REGIONS,
    ClickLogConfig,
)

log = logging.getLogger(__name__)

GENERIC_WORDS = (
    "cheap", "best", "free", "online", "new", "top", "buy", "review", "how", "to", "near",
    "me", "deals", "easy", "fast", "official", "compare", "latest", "local", "what", "for",
    "with", "and", "the", "cost", "open",
)  # fmt: skip
_CONSONANTS = "bdfgklmnprstvz"
_VOWELS = "aeiou"
# Relative traffic per hour of the day (UTC), quiet at night.
_HOUR_WEIGHTS = np.array(
    [2, 1, 1, 1, 1, 2, 4, 6, 8, 9, 9, 9, 9, 9, 9, 9, 9, 9, 10, 11, 11, 10, 7, 4], dtype=float
)
_BLOCK = 65536  # impressions simulated per block (fixed: the random stream depends on it)


def component_rng(seed: int, name: str) -> np.random.Generator:
    """An independent random stream per named part, so one part's draws never shift another's."""
    return np.random.default_rng(
        np.random.SeedSequence(seed, spawn_key=(zlib.crc32(name.encode()),))
    )


@dataclass(frozen=True)
class ClickWorld:
    """Words, queries, docs and users of the simulation (Q queries, N docs, U users, D dims).

    Arrays: ``query_topic`` (Q,), ``query_vectors`` (Q, D), ``query_weights`` (Q,) sums to 1;
    ``doc_topic``, ``doc_kind``, ``doc_region`` (N,) (region −1 = global), ``doc_bias`` (N,),
    ``doc_vectors`` (N, D), ``doc_weights`` (N,); ``user_device``, ``user_region``,
    ``user_weights`` (U,); ``device_effect`` (devices, kinds); ``candidates`` (Q, C) doc
    indices; ``base_logit`` (Q, C): the logit without the user's device and region terms.
    """

    query_text: list[str]
    query_topic: np.ndarray
    query_vectors: np.ndarray
    query_weights: np.ndarray
    doc_title: list[str]
    doc_topic: np.ndarray
    doc_kind: np.ndarray
    doc_region: np.ndarray
    doc_bias: np.ndarray
    doc_vectors: np.ndarray
    doc_weights: np.ndarray
    user_device: np.ndarray
    user_region: np.ndarray
    user_weights: np.ndarray
    device_effect: np.ndarray
    candidates: np.ndarray
    base_logit: np.ndarray


@dataclass(frozen=True)
class ClickLog:
    """The simulated impressions in time order (n impressions, R results each).

    ``time`` (n,) int64 seconds since 1970 UTC, strictly increasing; ``user``, ``query``
    (n,) int32 indices; ``docs`` (n, R) int32, column j shown at position j + 1;
    ``relevance``, ``p_click`` (n, R) float64; ``clicked`` (n, R) bool; ``examination`` (R,)
    by position, or (n, R) where it depends on the list (the cascade model).
    """

    time: np.ndarray
    user: np.ndarray
    query: np.ndarray
    docs: np.ndarray
    relevance: np.ndarray
    p_click: np.ndarray
    clicked: np.ndarray
    examination: np.ndarray

    @property
    def n_impressions(self) -> int:
        return len(self.time)


def examination_curve(results: int, exponent: float) -> np.ndarray:
    """P(examined) at positions 1..results: 1 / position ** exponent, shape (results,)."""
    return 1.0 / np.arange(1, results + 1, dtype=np.float64) ** exponent


def simulate_clicks(config: ClickLogConfig) -> tuple[ClickWorld, ClickLog]:
    """Build the world of ``config`` and simulate its impressions; same seed, same arrays."""
    config.validate()
    world = build_world(config)
    return world, simulate_impressions(config, world)


def build_world(config: ClickLogConfig) -> ClickWorld:
    """Words, queries, docs, users and each query's candidates (see the module docstring)."""
    seed, dim = config.seed, config.latent_dim
    words = _make_words(component_rng(seed, "words"), config.topics * config.words_per_topic)
    rng = component_rng(seed, "latent")
    centroids = rng.standard_normal((config.topics, dim))
    centroids /= np.linalg.norm(centroids, axis=1, keepdims=True)
    word_vectors = np.repeat(centroids, config.words_per_topic, axis=0)
    word_vectors += config.word_noise * rng.standard_normal(word_vectors.shape) / np.sqrt(dim)
    # Generic words follow the topic words; their vectors are zero.
    vocab = [*words, *GENERIC_WORDS]
    word_vectors = np.vstack([word_vectors, np.zeros((len(GENERIC_WORDS), dim))])

    query_text, query_topic, query_vectors = _make_queries(config, vocab, word_vectors)
    doc_title, doc_topic, doc_kind, doc_region, doc_vectors, doc_weights, doc_bias = _make_docs(
        config, vocab, word_vectors
    )
    rng = component_rng(seed, "users")
    user_device = rng.choice(len(DEVICES), size=config.users, p=DEVICE_SHARES).astype(np.int8)
    region_shares = np.array([share for _, _, share in REGIONS])
    user_region = rng.choice(len(REGIONS), size=config.users, p=region_shares / region_shares.sum())
    device_effect = config.device_effect_std * component_rng(seed, "device-effect").standard_normal(
        (len(DEVICES), len(DOC_KINDS))
    )
    candidates = _make_candidates(config, query_topic, doc_topic, doc_weights)
    similarity = np.einsum("qd,qcd->qc", query_vectors, doc_vectors[candidates])
    base_logit = config.latent_scale * similarity + doc_bias[candidates] + config.relevance_offset
    return ClickWorld(
        query_text=query_text,
        query_topic=query_topic,
        query_vectors=query_vectors,
        query_weights=_zipf_weights(
            component_rng(seed, "query-popularity"), config.queries, config.query_zipf
        ),
        doc_title=doc_title,
        doc_topic=doc_topic,
        doc_kind=doc_kind,
        doc_region=doc_region,
        doc_bias=doc_bias,
        doc_vectors=doc_vectors,
        doc_weights=doc_weights,
        user_device=user_device,
        user_region=user_region.astype(np.int8),
        user_weights=_zipf_weights(
            component_rng(seed, "user-activity"), config.users, config.user_zipf
        ),
        device_effect=device_effect,
        candidates=candidates,
        base_logit=base_logit,
    )


def simulate_impressions(config: ClickLogConfig, world: ClickWorld) -> ClickLog:
    """Draw times, users, queries, shown lists and clicks for every impression."""
    n, results = config.impressions, config.results_per_impression
    rng = component_rng(config.seed, "impressions")
    time = _impression_times(rng, config)
    user = rng.choice(config.users, size=n, p=world.user_weights).astype(np.int32)
    query = rng.choice(config.queries, size=n, p=world.query_weights).astype(np.int32)
    examination = examination_curve(results, config.position_exponent)
    docs = np.empty((n, results), dtype=np.int32)
    logit = np.empty((n, results))
    ranker_rng = component_rng(config.seed, "production-ranker")
    for start in range(0, n, _BLOCK):
        rows = slice(start, min(start + _BLOCK, n))
        q, u = query[rows], user[rows]
        cand = world.candidates[q]
        full = (
            world.base_logit[q]
            + world.device_effect[world.user_device[u][:, None], world.doc_kind[cand]]
        )
        regional = world.doc_region[cand] >= 0
        same = world.doc_region[cand] == world.user_region[u][:, None]
        full += config.region_effect * np.where(regional, np.where(same, 1.0, -1.0), 0.0)
        shown_score = full + config.production_noise * ranker_rng.standard_normal(full.shape)
        top = np.argsort(-shown_score, axis=1, kind="stable")[:, :results]
        docs[rows] = np.take_along_axis(cand, top, axis=1)
        logit[rows] = np.take_along_axis(full, top, axis=1)
    relevance = 1.0 / (1.0 + np.exp(-logit))
    p_click = relevance * examination[None, :]
    clicked = component_rng(config.seed, "clicks").random(p_click.shape) < p_click
    return ClickLog(
        time=time,
        user=user,
        query=query,
        docs=docs,
        relevance=relevance,
        p_click=p_click,
        clicked=clicked,
        examination=examination,
    )


def _make_words(rng: np.random.Generator, count: int) -> list[str]:
    """``count`` distinct pronounceable made-up words of 2–3 syllables (none generic)."""
    syllables = [c + v for c in _CONSONANTS for v in _VOWELS]
    s = len(syllables)
    space = s**2 + s**3
    codes = rng.choice(space, size=count + len(GENERIC_WORDS), replace=False)
    words: list[str] = []
    taken = set(GENERIC_WORDS) | {word for _, word, _ in REGIONS} | set(DOC_KINDS)
    for code in codes.tolist():
        if code < s**2:
            word = syllables[code // s] + syllables[code % s]
        else:
            code -= s**2
            word = syllables[code // s**2] + syllables[(code // s) % s] + syllables[code % s]
        if word not in taken:
            taken.add(word)
            words.append(word)
        if len(words) == count:
            return words
    raise PipelineError(f"could not make {count} distinct words")  # pragma: no cover


def _make_queries(
    config: ClickLogConfig, vocab: list[str], word_vectors: np.ndarray
) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Distinct queries of 1–4 words: (texts, topic (Q,), latent (Q, D) = mean word vector)."""
    rng = component_rng(config.seed, "queries")
    texts: list[str] = []
    topics: list[np.ndarray] = []
    vectors: list[np.ndarray] = []
    seen: set[str] = set()
    for _ in range(50):
        batch = 2 * (config.queries - len(texts)) + 16
        topic = rng.integers(config.topics, size=batch)
        length = rng.choice(4, size=batch, p=[0.2, 0.4, 0.28, 0.12]) + 1
        words = _draw_words(rng, config, topic, length, rng.binomial(length - 1, 0.3))
        keep = []
        for i, text in enumerate(_join_words(vocab, words)):
            if text not in seen and len(texts) < config.queries:
                seen.add(text)
                texts.append(text)
                keep.append(i)
        topics.append(topic[keep])
        vectors.append(_mean_vectors(word_vectors, words[keep]))
        if len(texts) == config.queries:
            return texts, np.concatenate(topics).astype(np.int32), np.vstack(vectors)
    raise PipelineError(
        f"could not make {config.queries} distinct queries; raise topics or words_per_topic"
    )


def _make_docs(
    config: ClickLogConfig, vocab: list[str], word_vectors: np.ndarray
) -> tuple[list[str], np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Titles, topic, kind, region (−1 global), latent (N, D), popularity and bias per doc."""
    rng = component_rng(config.seed, "docs")
    n = config.docs
    topic = (rng.permutation(n) % config.topics).astype(np.int32)
    kind = rng.integers(len(DOC_KINDS), size=n).astype(np.int8)
    region_shares = np.array([share for _, _, share in REGIONS])
    region = np.where(
        rng.random(n) < config.regional_doc_share,
        rng.choice(len(REGIONS), size=n, p=region_shares / region_shares.sum()),
        -1,
    ).astype(np.int8)
    names_kind = rng.random(n) < 0.8
    length = rng.integers(3, 7, size=n)
    words = _draw_words(rng, config, topic, length, rng.binomial(length - 2, 0.15))
    vectors = _mean_vectors(word_vectors, words)
    vectors += config.doc_noise * rng.standard_normal(vectors.shape) / np.sqrt(config.latent_dim)
    kind_words = [DOC_KINDS[k] for k in kind.tolist()]
    region_words = [REGIONS[r][1] if r >= 0 else "" for r in region.tolist()]
    titles = [
        " ".join(filter(None, (content, kind_word if named else "", region_word)))
        for content, kind_word, named, region_word in zip(
            _join_words(vocab, words), kind_words, names_kind.tolist(), region_words, strict=True
        )
    ]
    weights = _zipf_weights(component_rng(config.seed, "doc-popularity"), n, config.doc_zipf)
    log_weights = np.log(weights)
    z_popularity = (log_weights - log_weights.mean()) / max(log_weights.std(), 1e-12)
    bias = config.doc_bias_std * (0.5 * z_popularity + np.sqrt(0.75) * rng.standard_normal(n))
    return titles, topic, kind, region, vectors, weights, bias


def _draw_words(
    rng: np.random.Generator,
    config: ClickLogConfig,
    topic: np.ndarray,
    length: np.ndarray,
    generic: np.ndarray,
) -> np.ndarray:
    """(n, max length) word ids, −1 padded: per row ``length − generic`` distinct words of
    its ``topic`` (Zipf 0.8 within the topic) and ``generic`` distinct generic words, in a
    random order."""
    n, per_topic = len(topic), config.words_per_topic
    width = int(length.max(initial=1))
    # Gumbel-top-k: the top k of log p + Gumbel noise is a draw of k without replacement ∝ p.
    keys = np.log(_zipf_probabilities(per_topic, 0.8)) + rng.gumbel(size=(n, per_topic))
    topic_words = topic[:, None] * per_topic + np.argsort(-keys, axis=1)[:, :width]
    generic_words = (
        config.topics * per_topic
        + np.argsort(rng.random((n, len(GENERIC_WORDS))), axis=1)[:, :width]
    )
    column = np.arange(width)[None, :]
    from_topic = (length - generic)[:, None]
    words = np.where(
        column < from_topic,
        topic_words,
        np.take_along_axis(generic_words, np.clip(column - from_topic, 0, width - 1), axis=1),
    )
    words = np.where(column < length[:, None], words, -1)
    shuffle = np.where(words >= 0, rng.random(words.shape), np.inf)
    return np.take_along_axis(words, np.argsort(shuffle, axis=1), axis=1)


def _join_words(vocab: list[str], words: np.ndarray) -> list[str]:
    return [" ".join(vocab[i] for i in row if i >= 0) for row in words.tolist()]


def _mean_vectors(word_vectors: np.ndarray, words: np.ndarray) -> np.ndarray:
    """(n, D) mean vector of each row's words (−1 = padding)."""
    valid = words >= 0
    summed = (word_vectors[np.maximum(words, 0)] * valid[..., None]).sum(axis=1)
    return summed / np.maximum(valid.sum(axis=1), 1)[:, None]


def _make_candidates(
    config: ClickLogConfig, query_topic: np.ndarray, doc_topic: np.ndarray, doc_weights: np.ndarray
) -> np.ndarray:
    """(Q, C) distinct doc indices per query: mostly from its topic, by popularity."""
    rng = component_rng(config.seed, "candidates")
    q, c, n = config.queries, config.candidates_per_query, config.docs
    # Docs sorted by topic with each topic's popularity normalised to 1 and offset by the
    # topic number: one searchsorted samples within any topic.
    by_topic = np.argsort(doc_topic, kind="stable")
    topic_total = np.bincount(doc_topic, weights=doc_weights, minlength=config.topics)
    within = np.cumsum(doc_weights[by_topic]) - np.repeat(
        np.cumsum(topic_total) - topic_total, np.bincount(doc_topic, minlength=config.topics)
    )
    offsets = doc_topic[by_topic] + within / topic_total[doc_topic[by_topic]]
    global_cdf = np.cumsum(doc_weights) / doc_weights.sum()

    def draw_global(size: int) -> np.ndarray:
        return np.minimum(np.searchsorted(global_cdf, rng.random(size), side="right"), n - 1)

    local = rng.random((q, c)) < config.topic_candidate_share
    target = query_topic[:, None] + rng.random((q, c))
    picked = by_topic[np.minimum(np.searchsorted(offsets, target, side="right"), n - 1)]
    # A draw past the end of its topic's range (rounding) falls into the next topic; those
    # and the non-local slots take a global draw.
    picked = np.where(
        local & (doc_topic[picked] == query_topic[:, None]),
        picked,
        draw_global(q * c).reshape(q, c),
    )
    for _ in range(100):
        dup = _duplicates(picked)
        if not dup.any():
            return picked.astype(np.int32)
        picked[dup] = draw_global(int(dup.sum()))
    for row in np.flatnonzero(_duplicates(picked).any(axis=1)):
        unique = list(dict.fromkeys(picked[row].tolist()))
        rest = np.setdiff1d(np.arange(n), unique)[: c - len(unique)]
        picked[row] = np.concatenate([unique, rest])
    return picked.astype(np.int32)


def _duplicates(rows: np.ndarray) -> np.ndarray:
    """Mask of entries equal to an earlier entry of the same row."""
    order = np.argsort(rows, axis=1, kind="stable")
    sorted_rows = np.take_along_axis(rows, order, axis=1)
    dup_sorted = np.zeros_like(rows, dtype=bool)
    dup_sorted[:, 1:] = sorted_rows[:, 1:] == sorted_rows[:, :-1]
    mask = np.zeros_like(dup_sorted)
    np.put_along_axis(mask, order, dup_sorted, axis=1)
    return mask


def _impression_times(rng: np.random.Generator, config: ClickLogConfig) -> np.ndarray:
    """(n,) strictly increasing seconds since 1970: uniform days, day-shaped hours."""
    n = config.impressions
    start = int(config.start_time().timestamp())
    day = rng.integers(0, 7 * config.weeks, size=n)
    hour = rng.choice(24, size=n, p=_HOUR_WEIGHTS / _HOUR_WEIGHTS.sum())
    seconds = np.sort(start + day * 86400 + hour * 3600 + rng.integers(0, 3600, size=n))
    # Nudge equal times apart (by a second at a time) so time alone orders impressions.
    steps = np.arange(n)
    return np.maximum.accumulate(seconds - steps) + steps


def _zipf_probabilities(count: int, exponent: float) -> np.ndarray:
    weights = 1.0 / np.arange(1, count + 1, dtype=np.float64) ** exponent
    return weights / weights.sum()


def _zipf_weights(rng: np.random.Generator, count: int, exponent: float) -> np.ndarray:
    """Zipf probabilities (count,) assigned to the items in a random order."""
    return _zipf_probabilities(count, exponent)[rng.permutation(count)]


# Names as the logs write them: users u1.., docs d1.., impressions i0000000.. (time order).


def user_names(indices: np.ndarray) -> list[str]:
    """``u<index + 1>`` per user index (the AOL log writes the bare number)."""
    return [f"u{i + 1}" for i in indices.tolist()]


def doc_names(indices: np.ndarray) -> list[str]:
    """``d<index + 1>`` per doc index."""
    return [f"d{i + 1}" for i in indices.tolist()]


def impression_ids(n: int) -> list[str]:
    """``i`` + the zero-padded time-order index (at least 7 digits) of each of n impressions."""
    width = max(7, len(str(max(n - 1, 0))))
    return [f"i{i:0{width}d}" for i in range(n)]


def utc_times(seconds: np.ndarray) -> np.ndarray:
    """``YYYY-MM-DDTHH:MM:SS`` strings (UTC, no zone suffix) for seconds since 1970."""
    return np.datetime_as_string(seconds.astype("datetime64[s]"), unit="s")
