"""embedrec engine package: TorchRec training and the model files it writes.

The click ranker's public API (imported on first use, so ``import engine`` loads no torch):

>>> from engine import RankerConfig, train_ranker, evaluate_ranker, Ranker
>>> train_ranker("data/clicks", "models/ranker", RankerConfig(epochs=3))   # doctest: +SKIP
>>> evaluate_ranker("models/ranker", "data/clicks")["with_position"]["auc"]  # doctest: +SKIP
>>> Ranker.load("models/ranker").rank("cheap flights", ["d17", "d3"])     # doctest: +SKIP
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from engine.ranker_config import RankerConfig
    from engine.ranker_eval import evaluate_ranker
    from engine.ranker_explain import explain_rows
    from engine.ranker_export import export_doc_embeddings
    from engine.ranker_inference import RankedDoc, Ranker, RankResult, UnknownDocsError
    from engine.ranker_train import RankerTrainResult, train_ranker

_PUBLIC = {
    "RankerConfig": "engine.ranker_config",
    "evaluate_ranker": "engine.ranker_eval",
    "explain_rows": "engine.ranker_explain",
    "export_doc_embeddings": "engine.ranker_export",
    "RankedDoc": "engine.ranker_inference",
    "Ranker": "engine.ranker_inference",
    "RankResult": "engine.ranker_inference",
    "UnknownDocsError": "engine.ranker_inference",
    "RankerTrainResult": "engine.ranker_train",
    "train_ranker": "engine.ranker_train",
}

__all__ = [
    "RankResult",
    "RankedDoc",
    "Ranker",
    "RankerConfig",
    "RankerTrainResult",
    "UnknownDocsError",
    "evaluate_ranker",
    "explain_rows",
    "export_doc_embeddings",
    "train_ranker",
]


def __getattr__(name: str) -> Any:
    module = _PUBLIC.get(name)
    if module is None:
        raise AttributeError(f"module 'engine' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_PUBLIC))
