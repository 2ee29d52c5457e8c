"""Start the ranker's token table from a skip-gram model (``--warm-start MODEL``).

Tokens are matched by string: row i of the token table (the click dataset's ``query_token``
vocabulary) takes the skip-gram vector of the same word when the skip-gram vocabulary has
it; other rows keep their random start. Both use the same tokeniser
(`embedrec.pipelines.text.tokenize.tokenize`), so spellings agree. The skip-gram dim must equal
``--dim``: the table cannot hold a vector of another width.

>>> warm_start(sharded, vocabs, config)                               # doctest: +SKIP
{'path': '/abs/models/wiki', 'matched': 1312, 'rows': 1480, 'dim': 32}
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np

from embedrec.core.errors import ConfigError
from embedrec.engine.errors import EngineError
from embedrec.engine.ranker.config import RankerConfig
from embedrec.engine.ranker.features import TOKEN_TABLE
from embedrec.engine.ranker.sharding import ShardedRanker
from embedrec.engine.skipgram.files import SKIPGRAM_MODEL_KIND, load_embeddings
from embedrec.pipelines.clicks.dataset import ClickVocab

log = logging.getLogger(__name__)


def warm_start(
    sharded: ShardedRanker, vocabs: dict[str, ClickVocab], config: RankerConfig
) -> dict[str, Any]:
    """Copy matching skip-gram vectors into the token table; returns what was matched."""
    path = Path(str(config.warm_start))
    if TOKEN_TABLE not in vocabs:
        raise EngineError("--warm-start needs a dataset with query or title tokens")
    embeddings = load_embeddings(path)
    if embeddings.manifest.get("kind") != SKIPGRAM_MODEL_KIND:
        raise ConfigError(
            "warm_start", str(path), f"a {SKIPGRAM_MODEL_KIND} directory (embedrec train skipgram)"
        )
    if embeddings.dim != config.dim:
        raise ConfigError(
            "dim",
            config.dim,
            f"{embeddings.dim}, the dim of the --warm-start model {path} "
            f"(pass --dim {embeddings.dim} or train a skip-gram model of dim {config.dim})",
        )
    index = {token: i for i, token in enumerate(embeddings.tokens)}
    values = vocabs[TOKEN_TABLE].values
    rows, sources = [], []
    for row in range(1, len(values)):  # row 0 is <unk>: no word to match
        source = index.get(values[row])
        if source is not None:
            rows.append(row)
            sources.append(source)
    row_ids = np.asarray(rows, dtype=np.int64)
    vectors = np.asarray(embeddings.vectors[np.asarray(sources, dtype=np.int64)], dtype=np.float32)
    sharded.warm_start_tokens(row_ids, vectors.reshape(len(rows), embeddings.dim))
    report = {
        "path": str(path.resolve()),
        "matched": len(rows),
        "rows": len(values),
        "dim": embeddings.dim,
    }
    log.info("warm start: %d of %d token rows from %s", len(rows), len(values), path)
    if not rows:
        log.warning("--warm-start %s shares no word with the click dataset's tokens", path)
    return report
