"""embedrec indexes: FAISS indexes over word vectors — neighbours, analogies, evaluation.

>>> from embedrec.indexes import IndexConfig, build_index, load_index
>>> build_index("models/wiki", "indexes/wiki", IndexConfig(kind="auto"))  # doctest: +SKIP
>>> index = load_index("indexes/wiki")          # or a model dir: exact   # doctest: +SKIP
>>> index.neighbors("shark", k=5)                                        # doctest: +SKIP
>>> index.analogy("italy", "rome", "germany")   # italy : rome :: germany : ?  # doctest: +SKIP
>>> evaluate_analogies(index, "questions-words.txt").accuracy            # doctest: +SKIP
>>> evaluate_similarity("models/wiki", "wordsim353.tsv").spearman        # doctest: +SKIP

Names are imported on first use, so ``import embedrec.indexes`` loads neither FAISS nor pyarrow.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from embedrec.core.lazy import lazy_exports

if TYPE_CHECKING:
    from embedrec.indexes.build import BuildReport, build_index
    from embedrec.indexes.config import KINDS, METRICS, IndexConfig, IndexPlan, plan_index
    from embedrec.indexes.errors import IndexBuildError, UnknownWordError
    from embedrec.indexes.eval_files import read_analogy_questions, read_word_pairs
    from embedrec.indexes.evaluate import (
        AnalogyReport,
        SectionScore,
        SimilarityReport,
        evaluate_analogies,
        evaluate_similarity,
    )
    from embedrec.indexes.index_dir import (
        INDEX_FILE,
        INDEX_KIND,
        exact_index_from_model,
        load_index,
    )
    from embedrec.indexes.plot import PcaPlot, plot_pca
    from embedrec.indexes.word_index import ANALOGY_METHODS, ScoredWord, WordIndex

_PUBLIC = {
    "BuildReport": "embedrec.indexes.build",
    "build_index": "embedrec.indexes.build",
    "KINDS": "embedrec.indexes.config",
    "METRICS": "embedrec.indexes.config",
    "IndexConfig": "embedrec.indexes.config",
    "IndexPlan": "embedrec.indexes.config",
    "plan_index": "embedrec.indexes.config",
    "IndexBuildError": "embedrec.indexes.errors",
    "UnknownWordError": "embedrec.indexes.errors",
    "read_analogy_questions": "embedrec.indexes.eval_files",
    "read_word_pairs": "embedrec.indexes.eval_files",
    "AnalogyReport": "embedrec.indexes.evaluate",
    "SectionScore": "embedrec.indexes.evaluate",
    "SimilarityReport": "embedrec.indexes.evaluate",
    "evaluate_analogies": "embedrec.indexes.evaluate",
    "evaluate_similarity": "embedrec.indexes.evaluate",
    "INDEX_FILE": "embedrec.indexes.index_dir",
    "INDEX_KIND": "embedrec.indexes.index_dir",
    "exact_index_from_model": "embedrec.indexes.index_dir",
    "load_index": "embedrec.indexes.index_dir",
    "PcaPlot": "embedrec.indexes.plot",
    "plot_pca": "embedrec.indexes.plot",
    "ANALOGY_METHODS": "embedrec.indexes.word_index",
    "ScoredWord": "embedrec.indexes.word_index",
    "WordIndex": "embedrec.indexes.word_index",
}

__all__ = [
    "ANALOGY_METHODS",
    "INDEX_FILE",
    "INDEX_KIND",
    "KINDS",
    "METRICS",
    "AnalogyReport",
    "BuildReport",
    "IndexBuildError",
    "IndexConfig",
    "IndexPlan",
    "PcaPlot",
    "ScoredWord",
    "SectionScore",
    "SimilarityReport",
    "UnknownWordError",
    "WordIndex",
    "build_index",
    "evaluate_analogies",
    "evaluate_similarity",
    "exact_index_from_model",
    "load_index",
    "plan_index",
    "plot_pca",
    "read_analogy_questions",
    "read_word_pairs",
]


__getattr__, __dir__ = lazy_exports(__name__, _PUBLIC)
