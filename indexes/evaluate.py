"""Word-vector evaluation: analogy accuracy and word-pair similarity correlation.

`evaluate_analogies` matches word2vec's compute-accuracy and gensim's
``KeyedVectors.evaluate_word_analogies``: questions are lower-cased, only the
``restrict_vocab`` most frequent words are candidates, a question with any word outside
them is skipped (and counted), and the three question words are never the answer. It is
batched: one FAISS search answers every b − a + c of the file at once (3CosAdd), or one
matrix product per block of questions scores all candidates (3CosMul).

`evaluate_similarity` matches gensim's ``evaluate_word_pairs``: Spearman and Pearson
correlation of cosine similarities with human scores, pairs with an unknown word skipped
and counted.

Vectors are compared by cosine whatever the index metric; an index is evaluated on the
vectors it stores (decoded for quantised kinds), a model on its full-precision vectors.

>>> report = evaluate_analogies("models/wiki", "eval/questions-words.txt")  # doctest: +SKIP
>>> round(report.accuracy, 3), report.correct, report.total, report.skipped_oov  # doctest: +SKIP
(0.412, 7632, 18519, 1025)
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from embedrec.core.errors import ConfigError, InputError
from embedrec.engine.skipgram.files import Embeddings
from embedrec.indexes.eval_files import read_analogy_questions, read_word_pairs
from embedrec.indexes.faiss_support import flat_index, stored_range
from embedrec.indexes.vector_chunks import normalize_rows
from embedrec.indexes.vector_source import VectorSource, open_vectors
from embedrec.indexes.vocab_lookup import first_ids_casefolded
from embedrec.indexes.word_index import ANALOGY_METHODS, COSMUL_EPSILON, WordIndex

log = logging.getLogger(__name__)

# Answers looked at per question: the three question words (and their case variants)
# may take the first places.
CANDIDATES = 10
# Memory for a 3CosMul block: about 7 float32 (rows × questions) matrices live at once.
COSMUL_BLOCK_BYTES = 192 * 1024 * 1024

IndexOrModel = WordIndex | Embeddings | str | Path


@dataclass(frozen=True)
class SectionScore:
    """One section of an analogy file. ``total`` counts questions answered (all in vocab)."""

    name: str
    correct: int
    total: int
    skipped_oov: int

    @property
    def accuracy(self) -> float:
        return self.correct / self.total if self.total else 0.0


@dataclass(frozen=True)
class AnalogyReport:
    """Per-section and overall analogy accuracy (see `evaluate_analogies`)."""

    sections: list[SectionScore]
    method: str
    restrict_vocab: int
    invalid_lines: int

    @property
    def correct(self) -> int:
        return sum(s.correct for s in self.sections)

    @property
    def total(self) -> int:
        return sum(s.total for s in self.sections)

    @property
    def skipped_oov(self) -> int:
        return sum(s.skipped_oov for s in self.sections)

    @property
    def questions(self) -> int:
        return self.total + self.skipped_oov

    @property
    def accuracy(self) -> float:
        return self.correct / self.total if self.total else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "restrict_vocab": self.restrict_vocab,
            "accuracy": self.accuracy,
            "correct": self.correct,
            "total": self.total,
            "questions": self.questions,
            "skipped_oov": self.skipped_oov,
            "oov_ratio": self.skipped_oov / self.questions if self.questions else 0.0,
            "invalid_lines": self.invalid_lines,
            "sections": [asdict(s) | {"accuracy": s.accuracy} for s in self.sections],
        }


@dataclass(frozen=True)
class SimilarityReport:
    """Correlation of model cosines with human scores over the in-vocabulary pairs."""

    spearman: float | None
    pearson: float | None
    pairs: int
    oov_pairs: int
    invalid_lines: int

    @property
    def oov_ratio(self) -> float:
        """Share of pairs skipped for an unknown word (gensim reports it ×100)."""
        total = self.pairs + self.oov_pairs
        return self.oov_pairs / total if total else 0.0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self) | {"oov_ratio": self.oov_ratio}


def evaluate_analogies(
    index_or_model: IndexOrModel,
    questions_path: str | Path,
    *,
    restrict_vocab: int = 30_000,
    method: str = "3cosadd",
) -> AnalogyReport:
    """Accuracy on an analogy file (``a b c d``: a is to b as c is to d).

    ``index_or_model``: a `WordIndex`, `Embeddings`, or a MODEL|INDEX directory.
    """
    if method not in ANALOGY_METHODS:
        raise ConfigError("method", method, "one of " + ", ".join(ANALOGY_METHODS))
    if (
        isinstance(restrict_vocab, bool)
        or not isinstance(restrict_vocab, int)
        or restrict_vocab < 1
    ):
        raise ConfigError("restrict_vocab", restrict_vocab, "an integer >= 1")
    questions = read_analogy_questions(questions_path)
    if questions.invalid_lines:
        log.warning(
            "%s: %d malformed lines skipped (first at line %d)",
            questions_path,
            len(questions.invalid_lines),
            questions.invalid_lines[0],
        )
    source = open_vectors(index_or_model)
    n = min(restrict_vocab, len(source))
    tokens = source.tokens[:n]
    words = {w for s in questions.sections for q in s.questions for w in q}
    ids = first_ids_casefolded(tokens, words)

    # Question rows whose four words are all among the first n tokens.
    known: list[tuple[int, int, int, int]] = []
    section_of: list[int] = []
    skipped = [0] * len(questions.sections)
    for number, section in enumerate(questions.sections):
        for q in section.questions:
            if all(w in ids for w in q):
                known.append((ids[q[0]], ids[q[1]], ids[q[2]], ids[q[3]]))
                section_of.append(number)
            else:
                skipped[number] += 1
    question_ids = np.array(known, dtype=np.int64).reshape(-1, 4)

    correct = np.zeros(len(question_ids), dtype=bool)
    if len(question_ids):
        index = _unit_index(source, n)
        unit = stored_range(index, 0, n)
        if method == "3cosadd":
            candidates = _candidates_3cosadd(index, unit, question_ids)
        else:
            candidates = _candidates_3cosmul(unit, question_ids)
        folded = [t.lower() for t in tokens]
        correct = _judge(candidates, question_ids, folded)

    section_numbers = np.array(section_of, dtype=np.int64)
    scores = [
        SectionScore(
            name=section.name,
            correct=int(correct[section_numbers == number].sum()),
            total=int((section_numbers == number).sum()),
            skipped_oov=skipped[number],
        )
        for number, section in enumerate(questions.sections)
    ]
    return AnalogyReport(
        sections=scores,
        method=method,
        restrict_vocab=n,
        invalid_lines=len(questions.invalid_lines),
    )


def _check_restrict(value: Any, expected: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError("restrict_vocab", value, expected)


def _unit_index(source: VectorSource, n: int) -> Any:
    """Exact inner-product index over the unit-length first ``n`` vectors (one copy)."""
    index = flat_index(source.dim, "cosine")
    for _, block in source.iter_rows(n):
        block = np.array(block, dtype=np.float32, copy=True)
        normalize_rows(block)
        index.add(block)
    return index


def _candidates_3cosadd(index: Any, unit: np.ndarray, q: np.ndarray) -> np.ndarray:
    """(M, CANDIDATES) ids nearest to b − a + c, best first (one FAISS search)."""
    queries = unit[q[:, 1]] - unit[q[:, 0]] + unit[q[:, 2]]
    _, found = index.search(np.ascontiguousarray(queries), min(CANDIDATES, index.ntotal))
    return found


def _candidates_3cosmul(unit: np.ndarray, q: np.ndarray) -> np.ndarray:
    """(M, CANDIDATES) ids by 3CosMul, best first, question words excluded, blockwise."""
    n = len(unit)
    take = min(CANDIDATES, n)
    block = max(1, COSMUL_BLOCK_BYTES // (7 * 4 * n))
    out = np.empty((len(q), take), dtype=np.int64)
    for start in range(0, len(q), block):
        rows = q[start : start + block]
        m = len(rows)
        sims = unit @ unit[rows[:, :3].reshape(-1)].T  # (n, 3m): a, b, c of each question
        sims = (1.0 + sims.reshape(n, m, 3)) / 2.0
        scores = sims[:, :, 1] * sims[:, :, 2] / (sims[:, :, 0] + COSMUL_EPSILON)
        columns = np.arange(m)
        for word in range(3):
            scores[rows[:, word], columns] = -np.inf
        top = np.argpartition(-scores, take - 1, axis=0)[:take]
        order = np.argsort(-np.take_along_axis(scores, top, axis=0), axis=0, kind="stable")
        out[start : start + m] = np.take_along_axis(top, order, axis=0).T
    return out


def _judge(candidates: np.ndarray, q: np.ndarray, folded: Sequence[str]) -> np.ndarray:
    """The first candidate that is not a question word (in any case) is the answer."""
    correct = np.zeros(len(q), dtype=bool)
    for i, (row, question) in enumerate(zip(candidates, q, strict=True)):
        inputs = {folded[question[0]], folded[question[1]], folded[question[2]]}
        expected = folded[question[3]]
        for candidate in row:
            if candidate < 0:
                break
            word = folded[candidate]
            if word not in inputs:
                correct[i] = word == expected
                break
    return correct


def evaluate_similarity(
    index_or_model: IndexOrModel,
    pairs_path: str | Path,
    *,
    restrict_vocab: int | None = None,
) -> SimilarityReport:
    """Spearman and Pearson correlation of cosine similarity with human pair scores.

    ``restrict_vocab``: only the first N words count as known (None: the whole vocabulary).
    """
    if restrict_vocab is not None and (
        isinstance(restrict_vocab, bool)
        or not isinstance(restrict_vocab, int)
        or restrict_vocab < 1
    ):
        raise ConfigError("restrict_vocab", restrict_vocab, "an integer >= 1 or None")
    pairs = read_word_pairs(pairs_path)
    source = open_vectors(index_or_model)
    n = len(source) if restrict_vocab is None else min(restrict_vocab, len(source))
    ids = first_ids_casefolded(source.tokens[:n], {w for p in pairs.pairs for w in p[:2]})
    used = [(ids[a], ids[b], gold) for a, b, gold in pairs.pairs if a in ids and b in ids]
    oov = len(pairs.pairs) - len(used)
    if not used:
        raise InputError(
            pairs_path, f"none of its {len(pairs.pairs)} pairs has both words in the vocabulary"
        )
    wanted = np.array(sorted({i for a, b, _ in used for i in (a, b)}), dtype=np.int64)
    unit = source.rows(wanted).astype(np.float64)
    unit /= np.maximum(np.linalg.norm(unit, axis=1, keepdims=True), np.finfo(np.float64).tiny)
    position = {int(row): i for i, row in enumerate(wanted)}
    model = np.array([unit[position[a]] @ unit[position[b]] for a, b, _ in used])
    gold = np.array([g for _, _, g in used], dtype=np.float64)
    return SimilarityReport(
        spearman=_correlation(_average_ranks(gold), _average_ranks(model)),
        pearson=_correlation(gold, model),
        pairs=len(used),
        oov_pairs=oov,
        invalid_lines=len(pairs.invalid_lines),
    )


def _average_ranks(values: np.ndarray) -> np.ndarray:
    """1-based ranks, ties sharing their average rank (``scipy.stats.rankdata``'s default)."""
    order = np.argsort(values, kind="mergesort")
    ordered = values[order]
    starts_group = np.r_[True, ordered[1:] != ordered[:-1]]
    group = np.cumsum(starts_group) - 1
    starts = np.flatnonzero(starts_group)
    ends = np.r_[starts[1:], len(values)]
    ranks = np.empty(len(values), dtype=np.float64)
    ranks[order] = ((starts + ends - 1) / 2.0 + 1.0)[group]
    return ranks


def _correlation(x: np.ndarray, y: np.ndarray) -> float | None:
    """Pearson's r, or None when either side is constant (undefined)."""
    if len(x) < 2 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return None
    return float(np.corrcoef(x, y)[0, 1])
