"""embedrec indexes: FAISS indexes over word vectors — neighbours, analogies, evaluation.

>>> from indexes import IndexConfig, build_index, load_index
>>> build_index("models/wiki", "indexes/wiki", IndexConfig(kind="auto"))  # doctest: +SKIP
>>> index = load_index("indexes/wiki")              # or a model dir: exact, in memory
>>> index.neighbors("shark", k=5)
>>> index.analogy("italy", "rome", "germany")       # italy : rome :: germany : ?
>>> index.most_similar(positive=["germany", "rome"], negative=["italy"], topn=1)  # doctest: +SKIP
>>> glove = load_index("glove.6B.50d.txt")  # doctest: +SKIP
>>> glove.to_keyed_vectors()                # doctest: +SKIP
>>> evaluate_analogies(index, "questions-words.txt").accuracy
>>> evaluate_similarity("models/wiki", "wordsim353.tsv").spearman

``glove.6B.50d.txt`` may be any word2vec text/binary, GloVe or fastText .vec file, and
``to_keyed_vectors`` gives a gensim ``KeyedVectors``. The examples are skipped under
doctest because they need those files and a trained index on disk; runnable ones are in
`indexes.vector_files`, `indexes.vector_file_index` and `indexes.gensim_verbs`.

Names are imported on first use, so ``import indexes`` loads neither FAISS nor pyarrow.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from indexes.build import BuildReport, build_index
    from indexes.config import KINDS, METRICS, IndexConfig, IndexPlan, plan_index
    from indexes.errors import (
        IndexBuildError,
        MissingDependencyError,
        UnknownWordError,
        VectorFileError,
    )
    from indexes.eval_files import read_analogy_questions, read_word_pairs
    from indexes.evaluate import (
        AnalogyReport,
        SectionScore,
        SimilarityReport,
        evaluate_analogies,
        evaluate_similarity,
    )
    from indexes.index_dir import INDEX_FILE, INDEX_KIND, exact_index_from_model, load_index
    from indexes.keyed_vectors import from_keyed_vectors
    from indexes.plot import PcaPlot, plot_pca
    from indexes.vector_files import VectorFileOptions, VectorFileReader, VectorFileReport
    from indexes.word_index import ANALOGY_METHODS, ScoredWord, WordIndex

_PUBLIC = {
    "BuildReport": "indexes.build",
    "build_index": "indexes.build",
    "KINDS": "indexes.config",
    "METRICS": "indexes.config",
    "IndexConfig": "indexes.config",
    "IndexPlan": "indexes.config",
    "plan_index": "indexes.config",
    "IndexBuildError": "indexes.errors",
    "UnknownWordError": "indexes.errors",
    "MissingDependencyError": "indexes.errors",
    "VectorFileError": "indexes.errors",
    "read_analogy_questions": "indexes.eval_files",
    "read_word_pairs": "indexes.eval_files",
    "AnalogyReport": "indexes.evaluate",
    "SectionScore": "indexes.evaluate",
    "SimilarityReport": "indexes.evaluate",
    "evaluate_analogies": "indexes.evaluate",
    "evaluate_similarity": "indexes.evaluate",
    "INDEX_FILE": "indexes.index_dir",
    "INDEX_KIND": "indexes.index_dir",
    "exact_index_from_model": "indexes.index_dir",
    "load_index": "indexes.index_dir",
    "from_keyed_vectors": "indexes.keyed_vectors",
    "PcaPlot": "indexes.plot",
    "plot_pca": "indexes.plot",
    "VectorFileOptions": "indexes.vector_files",
    "VectorFileReader": "indexes.vector_files",
    "VectorFileReport": "indexes.vector_files",
    "ANALOGY_METHODS": "indexes.word_index",
    "ScoredWord": "indexes.word_index",
    "WordIndex": "indexes.word_index",
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
    "MissingDependencyError",
    "PcaPlot",
    "ScoredWord",
    "SectionScore",
    "SimilarityReport",
    "UnknownWordError",
    "VectorFileError",
    "VectorFileOptions",
    "VectorFileReader",
    "VectorFileReport",
    "WordIndex",
    "build_index",
    "evaluate_analogies",
    "evaluate_similarity",
    "exact_index_from_model",
    "from_keyed_vectors",
    "load_index",
    "plan_index",
    "plot_pca",
    "read_analogy_questions",
    "read_word_pairs",
]


def __getattr__(name: str) -> Any:
    module = _PUBLIC.get(name)
    if module is None:
        raise AttributeError(f"module 'indexes' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_PUBLIC))
