"""The ranker model directory: what training writes and what inference reads.

::

    MODEL/
      manifest.json        kind "ranker-model": config, features, dataset, plan, figures
      config.json          {"ranker": RankerConfig, "features": FeatureSpec, "dataset": …}
      model.pt             the whole network, unsharded: a state dict of plain tensors
                           (torch.save; read back with weights_only=True — no pickle code)
      vocabs/<table>.parquet   the vocabularies of the model's tables (id 0 = <unk>)
      docs.parquet         doc catalog: id, doc, title, shown, clicks (train split)
      doc_embeddings/      the doc tower's vectors, kind "doc-embeddings" (`indexes` reads it)
      doc_index/           FAISS index over doc_embeddings/ (made by ``embedrec serve``)
      metrics.jsonl        training curve;  checkpoints/step-N/  DCP checkpoints

>>> config, spec, dataset = read_ranker_config("models/ranker")      # doctest: +SKIP
>>> state = load_model_state("models/ranker")                       # doctest: +SKIP
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import torch

from embedrec.core.artifacts import atomic_path, read_json, read_manifest
from embedrec.core.errors import ArtifactError
from embedrec.engine.ranker.config import RankerConfig
from embedrec.engine.ranker.features import FeatureSpec

RANKER_MODEL_KIND = "ranker-model"
CONFIG_FILE = "config.json"
MODEL_FILE = "model.pt"
DOCS_FILE = "docs.parquet"
DOC_EMBEDDINGS_DIR = "doc_embeddings"
DOC_INDEX_DIR = "doc_index"

DOC_CATALOG_SCHEMA = pa.schema(
    [
        pa.field("id", pa.int32(), nullable=False),
        pa.field("doc", pa.string(), nullable=False),
        pa.field("title", pa.string(), nullable=True),
        pa.field("shown", pa.int64(), nullable=False),
        pa.field("clicks", pa.int64(), nullable=False),
    ]
)


def save_model_state(model_dir: str | Path, state: dict[str, torch.Tensor]) -> None:
    """Write ``model.pt`` atomically (plain tensors only)."""
    plain = {key: value.detach().to("cpu").contiguous() for key, value in state.items()}
    with atomic_path(Path(model_dir) / MODEL_FILE) as tmp:
        torch.save(plain, tmp)


def load_model_state(model_dir: str | Path) -> dict[str, torch.Tensor]:
    """Read ``model.pt`` with ``weights_only=True`` (tensors, never arbitrary objects)."""
    path = Path(model_dir) / MODEL_FILE
    if not path.exists():
        raise ArtifactError(
            model_dir, f"has no {MODEL_FILE}; the training did not finish (resume it)"
        )
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except (RuntimeError, OSError, ValueError, EOFError) as exc:
        raise ArtifactError(path, f"is not a readable model state ({exc})") from None
    if not isinstance(state, dict):
        raise ArtifactError(path, "does not hold a state dict")
    return state


def read_ranker_config(model_dir: str | Path) -> tuple[RankerConfig, FeatureSpec, dict[str, Any]]:
    """The config, feature spec and training-dataset identity of a ranker directory."""
    d = Path(model_dir)
    read_manifest(d, kinds=[RANKER_MODEL_KIND])
    saved = read_json(d / CONFIG_FILE)
    try:
        config = RankerConfig.from_dict(saved["ranker"])
        spec = FeatureSpec.from_dict(saved["features"])
    except KeyError as exc:
        raise ArtifactError(d / CONFIG_FILE, f"lacks {exc}") from None
    return config, spec, dict(saved.get("dataset", {}))


def write_doc_catalog(model_dir: str | Path, catalog: pa.Table) -> None:
    with atomic_path(Path(model_dir) / DOCS_FILE) as tmp:
        pq.write_table(catalog, tmp)


def read_doc_catalog(model_dir: str | Path) -> pa.Table:
    path = Path(model_dir) / DOCS_FILE
    if not path.exists():
        raise ArtifactError(model_dir, f"has no {DOCS_FILE} (a ranker trained without docs?)")
    try:
        table = pq.read_table(path)
    except (pa.ArrowInvalid, OSError) as exc:
        raise ArtifactError(path, f"is not a readable Parquet file ({exc})") from None
    missing = [f.name for f in DOC_CATALOG_SCHEMA if f.name not in table.column_names]
    if missing:
        raise ArtifactError(path, f"lacks column(s) {', '.join(missing)}")
    return table
