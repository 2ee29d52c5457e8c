"""embedrec engine package: TorchRec training and the model files it writes.

The click ranker's public API (imported on first use, so ``import embedrec.engine`` loads no torch):

>>> from embedrec.engine import RankerConfig, train_ranker, evaluate_ranker, Ranker
>>> train_ranker("data/clicks", "models/ranker", RankerConfig(epochs=3))   # doctest: +SKIP
>>> evaluate_ranker("models/ranker", "data/clicks")["with_position"]["auc"]  # doctest: +SKIP
>>> Ranker.load("models/ranker").rank("cheap flights", ["d17", "d3"])     # doctest: +SKIP
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from embedrec.core.lazy import lazy_exports

if TYPE_CHECKING:
    from embedrec.engine.ranker.config import RankerConfig
    from embedrec.engine.ranker.eval import evaluate_ranker
    from embedrec.engine.ranker.explain import explain_rows
    from embedrec.engine.ranker.export import export_doc_embeddings
    from embedrec.engine.ranker.inference import RankedDoc, Ranker, RankResult, UnknownDocsError
    from embedrec.engine.ranker.train import RankerTrainResult, train_ranker
    from embedrec.engine.skipgram.config import SkipGramConfig
    from embedrec.engine.skipgram.export import export_word2vec
    from embedrec.engine.skipgram.train import TrainResult, train_skipgram

_PUBLIC = {
    "RankerConfig": "embedrec.engine.ranker.config",
    "evaluate_ranker": "embedrec.engine.ranker.eval",
    "explain_rows": "embedrec.engine.ranker.explain",
    "export_doc_embeddings": "embedrec.engine.ranker.export",
    "RankedDoc": "embedrec.engine.ranker.inference",
    "Ranker": "embedrec.engine.ranker.inference",
    "RankResult": "embedrec.engine.ranker.inference",
    "UnknownDocsError": "embedrec.engine.ranker.inference",
    "RankerTrainResult": "embedrec.engine.ranker.train",
    "train_ranker": "embedrec.engine.ranker.train",
    "SkipGramConfig": "embedrec.engine.skipgram.config",
    "export_word2vec": "embedrec.engine.skipgram.export",
    "TrainResult": "embedrec.engine.skipgram.train",
    "train_skipgram": "embedrec.engine.skipgram.train",
}

__all__ = [
    "RankResult",
    "RankedDoc",
    "Ranker",
    "RankerConfig",
    "RankerTrainResult",
    "SkipGramConfig",
    "TrainResult",
    "UnknownDocsError",
    "evaluate_ranker",
    "explain_rows",
    "export_doc_embeddings",
    "export_word2vec",
    "train_ranker",
    "train_skipgram",
]


__getattr__, __dir__ = lazy_exports(__name__, _PUBLIC)
