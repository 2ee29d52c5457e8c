"""Query and title tokens of the click pipeline: the text pipeline's tokeniser, in one seam.

Queries and titles are cut exactly like the text corpus (`pipelines.text.tokenize.tokenize`:
lower-cased Unicode words, in-word apostrophes and hyphens kept), so a query token and a
corpus word share one spelling. The tokeniser's name is recorded in the dataset manifest;
`click_dataset.remap_ids` re-tokenises raw queries with the same function.

>>> tokenize_query("Cheap flights to Zürich, 2 adults")
['cheap', 'flights', 'to', 'zürich', '2', 'adults']
"""

from __future__ import annotations

from collections.abc import Iterable

import pyarrow as pa
import pyarrow.compute as pc

from embedrec.pipelines.text.tokenize import tokenize

TOKENIZER_NAME = "embedrec.pipelines.text.tokenize.tokenize"


def tokenize_query(text: str) -> list[str]:
    """Tokens of a query or title (empty list for text without words)."""
    return tokenize(text)


def tokenize_array(texts: pa.Array | pa.ChunkedArray | Iterable[str | None]) -> pa.ListArray:
    """Tokenise each string; a null string gives an empty list. Returns ``list<string>``.

    Each distinct string is tokenised once (queries repeat: an impression's results, AOL
    negatives and popular queries all share one).
    """
    if isinstance(texts, pa.ChunkedArray):
        texts = texts.combine_chunks()
    if not isinstance(texts, pa.Array):
        texts = pa.array(list(texts), type=pa.string())
    encoded = texts.dictionary_encode()
    distinct = pa.array(
        [tokenize(t) for t in encoded.dictionary.to_pylist()], type=pa.list_(pa.string())
    )
    indices = pc.fill_null(encoded.indices, -1).to_numpy(zero_copy_only=False).copy()
    empty = indices < 0
    if empty.any():  # nulls: point them at an extra empty list
        distinct = pa.concat_arrays([distinct, pa.array([[]], type=pa.list_(pa.string()))])
        indices[empty] = len(distinct) - 1
    return distinct.take(pa.array(indices))
