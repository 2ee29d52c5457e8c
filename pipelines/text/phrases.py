"""Phrase detection after Mikolov's word2phrase, on whole arrays (no Python loop per token).

One pass: count every adjacent pair ``(a, b)`` inside a sentence, score it as

    score(a, b) = (count(ab) − δ) / (count(a) · count(b)) × total_words

and accept it when ``score > threshold`` (word2phrase: δ = min-count, threshold 100; both
words must also reach min-count). Then rewrite the text left to right: an accepted pair
becomes the token ``a_b``, and the word just joined cannot start another join in the same
pass ("a b c" with ab and bc accepted gives "a_b c"). A second pass over that output can join
``a_b`` with ``c``: "new york city" → "new_york city" → "new_york_city".

Pairs are counted exactly as int64 keys ``id(a) · E + id(b)`` over the E tokens that reached
min-count, with numpy per partition; `reduce_pair_counts` merges one hash bucket of them.

>>> ids = np.array([0, 1, 2, 0, 1], dtype=np.int64)      # "new york city new york"
>>> offsets = np.array([0, 3, 5])                         # two sentences
>>> pair_keys(ids, offsets, 3).tolist()                   # pair (j, j+1); -1 = no pair
[1, 5, -1, 1]
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from embedrec.pipelines.text.encoded import EncodedTokens


def token_ids(values: pa.Array, vocabulary: pa.Array) -> np.ndarray:
    """Position of each value in ``vocabulary`` as int64, -1 where absent."""
    found = pc.index_in(values, value_set=vocabulary)
    return found.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)


def pair_keys(ids: np.ndarray, offsets: np.ndarray, n_ids: int) -> np.ndarray:
    """Key ``ids[j] * n_ids + ids[j+1]`` of each adjacent pair, -1 across a sentence end or
    where a token has no id. Shape (N - 1,) for N tokens."""
    n = len(ids)
    if n < 2:
        return np.empty(0, dtype=np.int64)
    starts = np.zeros(n, dtype=bool)
    inner = offsets[(offsets > 0) & (offsets < n)]
    starts[inner] = True
    left, right = ids[:-1], ids[1:]
    valid = (left >= 0) & (right >= 0) & ~starts[1:]
    return np.where(valid, left * n_ids + right, -1)


def count_pair_keys(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct valid keys (sorted) and their counts."""
    unique, counts = np.unique(keys[keys >= 0], return_counts=True)
    return unique, counts.astype(np.int64)


def reduce_pair_counts(
    parts: list[tuple[np.ndarray, np.ndarray]],
) -> tuple[np.ndarray, np.ndarray]:
    """Sum (keys, counts) from several partitions: sorted distinct keys and exact counts."""
    if not parts:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
    keys = np.concatenate([k for k, _ in parts])
    counts = np.concatenate([c for _, c in parts])
    unique, inverse = np.unique(keys, return_inverse=True)
    return unique, np.bincount(inverse, weights=counts, minlength=len(unique)).astype(np.int64)


def score_pairs(
    keys: np.ndarray,
    pair_counts: np.ndarray,
    unigram_counts: np.ndarray,
    total_words: int,
    delta: float,
) -> np.ndarray:
    """word2phrase score of each pair key (float64)."""
    n_ids = len(unigram_counts)
    count_a = unigram_counts[keys // n_ids].astype(np.float64)
    count_b = unigram_counts[keys % n_ids].astype(np.float64)
    return (pair_counts - delta) / (count_a * count_b) * float(total_words)


def greedy_joins(candidate: np.ndarray) -> np.ndarray:
    """Which candidate pairs join, left to right, never two overlapping ones.

    ``candidate[j]``: pair (j, j+1) is an accepted phrase. In a run of consecutive candidates
    the 1st, 3rd, 5th… join (after "a_b", b cannot join c).

    >>> greedy_joins(np.array([True, True, True, False, True])).tolist()
    [True, False, True, False, True]
    """
    n = len(candidate)
    if n == 0:
        return np.zeros(0, dtype=bool)
    index = np.arange(n)
    run_start = np.where(candidate & ~np.concatenate([[False], candidate[:-1]]), index, 0)
    run_start = np.maximum.accumulate(run_start)
    return candidate & ((index - run_start) % 2 == 0)


def merge_pairs(tokens: EncodedTokens, joined: np.ndarray) -> EncodedTokens:
    """Replace each joined pair (j, j+1) by the token ``word[j] + "_" + word[j+1]``.

    Sentences keep their boundaries; the new strings are added to the dictionary, which is
    then compacted (a phrase already in the text, or a word now only inside phrases).
    """
    left = np.flatnonzero(joined)
    if len(left) == 0:
        return tokens
    indices, dictionary = tokens.indices, tokens.dictionary
    n = len(dictionary)
    pairs = indices[left].astype(np.int64) * n + indices[left + 1]
    unique_pairs, which = np.unique(pairs, return_inverse=True)
    phrases = pc.binary_join_element_wise(
        dictionary.take(pa.array(unique_pairs // n)),
        dictionary.take(pa.array(unique_pairs % n)),
        "_",
    )
    merged = indices.astype(np.int64)
    merged[left] = n + which
    keep = np.ones(len(indices), dtype=bool)
    keep[left + 1] = False
    removed_before = np.concatenate([[0], np.cumsum(~keep)])
    return EncodedTokens(
        indices=merged[keep].astype(np.int32),
        offsets=tokens.offsets - removed_before[tokens.offsets],
        dictionary=pa.concat_arrays([dictionary, phrases]),
    ).compacted()
