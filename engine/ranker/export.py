"""The doc catalog and the doc vectors a ranker exports for retrieval.

``docs.parquet`` (the catalog): one row per doc of the model's doc vocabulary (``<unk>``
excluded) — ``id`` (the model's doc id), ``doc`` (raw id), ``title`` (the latest title the
logs showed, null when they had none), ``shown`` and ``clicks`` in the train split (the
popularity a query without known words falls back to).

``doc_embeddings/`` is a model directory of kind ``doc-embeddings`` (`engine.skipgram.files`):
row i is the doc tower v = e_doc + mean(e_title tokens) of the doc named by vocab token i.
The ranker's score holds the term q · v, so an inner-product index over these vectors
retrieves the docs whose click odds the query raises most::

    embedrec index build models/ranker/doc_embeddings --out /tmp/docs --metric ip

>>> catalog = build_doc_catalog(open_click_dataset("data/clicks"), vocab)  # doctest: +SKIP
>>> export_doc_embeddings("models/ranker")                               # doctest: +SKIP
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from embedrec.core.artifacts import fingerprint, write_manifest
from embedrec.core.errors import ArtifactError
from embedrec.engine.ranker.files import DOC_CATALOG_SCHEMA, DOC_EMBEDDINGS_DIR, DOCS_FILE
from embedrec.engine.skipgram.files import DOC_EMBEDDINGS_KIND, write_embeddings
from embedrec.pipelines.clicks.dataset import ClickDataset, ClickVocab
from embedrec.pipelines.text.dataset import Vocabulary

log = logging.getLogger(__name__)


def build_doc_catalog(dataset: ClickDataset, doc_vocab: ClickVocab) -> pa.Table:
    """The catalog of ``doc_vocab``'s docs from one pass over ``dataset`` (every split
    gives titles; only train rows count towards ``shown`` and ``clicks``)."""
    n = len(doc_vocab)
    shown = np.zeros(n, dtype=np.int64)
    clicks = np.zeros(n, dtype=np.int64)
    titles: list[str | None] = [None] * n
    columns = ["doc_id", "title", "label", "split"]
    for batch in dataset.iter_batches(rows=65_536, columns=columns):
        ids = batch.column("doc_id").to_numpy()
        train = pc.equal(batch.column("split"), "train").to_numpy(zero_copy_only=False)
        labels = batch.column("label").to_numpy().astype(np.int64)
        shown += np.bincount(ids[train], minlength=n)
        clicks += np.bincount(ids[train], weights=labels[train], minlength=n).astype(np.int64)
        has_title = pc.is_valid(batch.column("title")).to_numpy(zero_copy_only=False)
        rows = np.flatnonzero(has_title)
        if len(rows):
            # The last row of each doc in this batch carries its latest title.
            last = len(rows) - 1 - np.unique(ids[rows][::-1], return_index=True)[1]
            picked = rows[last]
            batch_titles = batch.column("title").take(pa.array(picked)).to_pylist()
            for doc_id, title in zip(ids[picked].tolist(), batch_titles, strict=True):
                titles[doc_id] = title
    keep = np.arange(1, n)
    return pa.table(
        {
            "id": pa.array(keep.astype(np.int32)),
            "doc": pa.array([doc_vocab.values[i] for i in keep.tolist()], type=pa.string()),
            "title": pa.array([titles[i] for i in keep.tolist()], type=pa.string()),
            "shown": pa.array(shown[keep]),
            "clicks": pa.array(clicks[keep]),
        },
        schema=DOC_CATALOG_SCHEMA,
    )


def export_doc_embeddings(model_dir: str | Path) -> dict[str, Any]:
    """Write ``MODEL/doc_embeddings/`` from the trained model; returns its counts."""
    from embedrec.engine.ranker.inference import Ranker

    ranker = Ranker.load(model_dir)
    if not ranker.spec.can_retrieve:
        raise ArtifactError(model_dir, "has no query and doc towers: nothing to retrieve with")
    catalog = ranker.catalog
    ids = catalog.ids
    vectors = ranker.doc_vectors(ids)
    out = Path(model_dir) / DOC_EMBEDDINGS_DIR
    out.mkdir(parents=True, exist_ok=True)
    write_embeddings(out, vectors, Vocabulary(tokens=catalog.docs, counts=catalog.shown))
    counts = {"docs": len(ids), "dim": int(vectors.shape[1])}
    write_manifest(
        out,
        kind=DOC_EMBEDDINGS_KIND,
        config={"tower": "doc row + mean of title token rows", "score": "inner product"},
        inputs=[
            fingerprint(Path(model_dir) / "model.pt"),
            fingerprint(Path(model_dir) / DOCS_FILE),
        ],
        counts=counts,
        extra={
            "dim": counts["dim"],
            "vocab_size": counts["docs"],
            "metric": "ip",
            "ranker": str(Path(model_dir).resolve()),
        },
    )
    log.info("exported %d doc vectors to %s", len(ids), out)
    return counts


__all__ = [
    "build_doc_catalog",
    "export_doc_embeddings",
]
