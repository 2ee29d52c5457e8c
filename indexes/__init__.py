"""embedrec indexes: FAISS indexes over word vectors — neighbours, analogies, evaluation.

>>> from embedrec.indexes import IndexConfig, build_index, load_index
>>> build_index("models/wiki", "indexes/wiki", IndexConfig(kind="auto"))  # doctest: +SKIP
>>> index = load_index("indexes/wiki")          # or a model dir: exact   # doctest: +SKIP
>>> index.neighbors("shark", k=5)                                        # doctest: +SKIP
>>> index.analogy("italy", "rome", "germany")   # italy : rome :: germany : ?  # doctest: +SKIP
>>> index.most_similar(positive=["germany", "rome"], negative=["italy"], topn=1)  # doctest: +SKIP
>>> glove = load_index("glove.6B.50d.txt")  # doctest: +SKIP
>>> glove.to_keyed_vectors()                # doctest: +SKIP
>>> evaluate_analogies(index, "questions-words.txt").accuracy            # doctest: +SKIP
>>> evaluate_similarity("models/wiki", "wordsim353.tsv").spearman        # doctest: +SKIP

``glove.6B.50d.txt`` may be any word2vec text/binary, GloVe or fastText .vec file, and
``to_keyed_vectors`` gives a gensim ``KeyedVectors``. The examples are skipped under
doctest because they need those files and a trained index on disk; runnable ones are in
`embedrec.indexes.files.reader`, `embedrec.indexes.files.spool` and `embedrec.indexes.gensim_verbs`.

Names are imported on first use, so ``import embedrec.indexes`` loads neither FAISS nor pyarrow.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from embedrec.indexes.build import BuildReport, build_index
    from embedrec.indexes.config import KINDS, METRICS, IndexConfig, IndexPlan, plan_index
    from embedrec.indexes.errors import (
        IndexBuildError,
        MissingDependencyError,
        UnknownWordError,
        VectorFileError,
    )
    from embedrec.indexes.eval_files import read_analogy_questions, read_word_pairs
    from embedrec.indexes.evaluate import (
        AnalogyReport,
        SectionScore,
        SimilarityReport,
        evaluate_analogies,
        evaluate_similarity,
    )
    from embedrec.indexes.files.reader import VectorFileOptions, VectorFileReader, VectorFileReport
    from embedrec.indexes.in_memory import from_keyed_vectors
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
    "MissingDependencyError": "embedrec.indexes.errors",
    "VectorFileError": "embedrec.indexes.errors",
    "read_analogy_questions": "embedrec.indexes.eval_files",
    "read_word_pairs": "embedrec.indexes.eval_files",
    "AnalogyReport": "embedrec.indexes.evaluate",
    "SectionScore": "embedrec.indexes.evaluate",
    "SimilarityReport": "embedrec.indexes.evaluate",
    "evaluate_analogies": "embedrec.indexes.evaluate",
    "evaluate_similarity": "embedrec.indexes.evaluate",
    "INDEX_FILE": "embedrec.indexes.config",
    "INDEX_KIND": "embedrec.indexes.config",
    "exact_index_from_model": "embedrec.indexes.index_dir",
    "load_index": "embedrec.indexes.index_dir",
    "from_keyed_vectors": "embedrec.indexes.in_memory",
    "PcaPlot": "embedrec.indexes.plot",
    "plot_pca": "embedrec.indexes.plot",
    "VectorFileOptions": "embedrec.indexes.files.reader",
    "VectorFileReader": "embedrec.indexes.files.reader",
    "VectorFileReport": "embedrec.indexes.files.reader",
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
