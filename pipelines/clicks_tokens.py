"""Query and title tokens of the click pipeline: the text pipeline's tokeniser, in one seam.

Queries and titles are cut exactly like the text corpus (`pipelines.text_tokenize.tokenize`:
lower-cased Unicode words, in-word apostrophes and hyphens kept), so a query token and a
corpus word share one spelling. The tokeniser's name is recorded in the dataset manifest;
`click_dataset.remap_ids` re-tokenises raw queries with the same function.

>>> tokenize_query("Cheap flights to Zürich, 2 adults")
['cheap', 'flights', 'to', 'zürich', '2', 'adults']
"""

from __future__ import annotations

from collections.abc import Iterable

import pyarrow as pa

from pipelines.text_tokenize import tokenize

TOKENIZER_NAME = "pipelines.text_tokenize.tokenize"


def tokenize_query(text: str) -> list[str]:
    """Tokens of a query or title (empty list for text without words)."""
    return tokenize(text)


def tokenize_array(texts: Iterable[str | None]) -> pa.ListArray:
    """Tokenise each string; a null string gives an empty list. Returns ``list<string>``."""
    return pa.array(
        [tokenize(t) if t is not None else [] for t in texts], type=pa.list_(pa.string())
    )
