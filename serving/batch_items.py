"""Batches answered item by item: an unknown word spoils only its own item.

``POST /v1/neighbors {"words": ["city", "qqzzxx"], "k": 3}`` answers 200; the item of
``qqzzxx`` carries the fields the single-word route's 404 carries (``error``:
``unknown_word``, ``detail``, ``word``, ``suggestion``, ``vocab_size``) and no neighbours,
and every known word is answered, all of them in one FAISS search. Errors that concern the
whole request (a ``k`` the index cannot give, a batch over the limit) still fail it.

Needs a built index, so not run as a doctest:

>>> from indexes import load_index                                      # doctest: +SKIP
>>> answer = words_item_by_item(load_index("idx"), ["city", "qqzzxx"], 3)  # doctest: +SKIP
>>> answer["results"][1]["error"], answer["results"][1]["neighbors"]     # doctest: +SKIP
('unknown_word', [])
"""

from __future__ import annotations

from typing import Any

from embedrec.core.errors import ConfigError
from embedrec.indexes.errors import UnknownWordError
from embedrec.indexes.word_index import WordIndex
from embedrec.serving.errors import error_body


def unknown_word_item(query: str, exc: UnknownWordError) -> dict[str, Any]:
    """The batch item of an unknown word: the 404 body of the single route, no neighbours."""
    _, body = error_body(exc)
    return {"query": query, **body, "neighbors": []}


def words_item_by_item(index: WordIndex, words: list[str], k: int) -> dict[str, Any]:
    """The answer of a words batch (blocking: runs in the search pool).

    Known words are searched together; each unknown word gets an error item in its place.
    """
    errors: dict[int, UnknownWordError] = {}
    known: list[int] = []
    ids: list[int] = []
    for position, word in enumerate(words):
        try:
            ids.append(index.id(word))
        except UnknownWordError as exc:
            errors[position] = exc
        else:
            known.append(position)
    found = neighbor_lists(index, ids, k) if known else []
    answered = dict(zip(known, found, strict=True))
    results: list[dict[str, Any]] = []
    for position, word in enumerate(words):
        if position in errors:
            results.append(unknown_word_item(word, errors[position]))
        else:
            results.append({"query": word, "neighbors": answered[position]})
    return {"k": k, "metric": index.metric, "results": results}


# One query's answer items, nearest first: [{"token": ..., "score": ...}, ...].
Neighbors = list[dict[str, Any]]


def search_word(index: WordIndex, word: str, k: int) -> Neighbors:
    """``index.neighbors(word, k)`` as answer items (blocking); raises what it raises."""
    return neighbor_lists(index, [index.id(word)], k)[0]


def neighbor_lists(index: WordIndex, ids: list[int], k: int) -> list[Neighbors]:
    """``index.neighbors_batch`` of the words with row ``ids``, as answer items
    (``{"token", "score"}``): the same search and the same numbers, without the per-answer
    objects a library caller gets (this is the service's hot loop)."""
    limit = len(index) - 1
    if not 1 <= k <= limit:  # what neighbors_batch raises
        raise ConfigError("k", k, f"an integer from 1 to {limit}")
    scores, found = index.search(index.rows(ids), k + 1)
    tokens = index.tokens
    answers = []
    for own, row_scores, row_ids in zip(ids, scores.tolist(), found.tolist(), strict=True):
        row = [
            {"token": tokens[i], "score": s}
            for s, i in zip(row_scores, row_ids, strict=True)
            if i >= 0 and i != own
        ]
        answers.append(row[:k])
    return answers
