"""Analogy and similarity evaluation: same numbers as gensim on the same vectors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from index_fixtures import planted_analogies, unit
from scipy import stats

from embedrec.core.errors import ConfigError, InputError
from embedrec.indexes import (
    IndexConfig,
    build_index,
    evaluate_analogies,
    evaluate_similarity,
    load_index,
    read_analogy_questions,
)
from embedrec.indexes.evaluate import _average_ranks

DATA = Path("/work/shared/data/eval")
needs_data = pytest.mark.skipif(not DATA.exists(), reason="shared evaluation data not present")


def _keyed_vectors(vectors: np.ndarray, tokens: list[str]):
    from gensim.models import KeyedVectors

    kv = KeyedVectors(vector_size=vectors.shape[1])
    kv.add_vectors(tokens, vectors)
    return kv


def _gensim_sections(kv, path: Path, restrict_vocab: int) -> tuple[dict[str, tuple[int, int]], int]:
    _, sections = kv.evaluate_word_analogies(str(path), restrict_vocab=restrict_vocab)
    counts = {
        s["section"]: (len(s["correct"]), len(s["correct"]) + len(s["incorrect"])) for s in sections
    }
    total = counts.pop("Total accuracy")
    return counts, total[0]


def _ours(report) -> dict[str, tuple[int, int]]:
    return {s.name: (s.correct, s.total) for s in report.sections}


def _write_questions(path: Path, pairs: list[tuple[str, str]]) -> Path:
    lines = [": capitals"]
    lines += [f"{a} {b} {c} {d}" for a, b in pairs for c, d in pairs if a != c]
    lines += [
        ": noise",
        "noise1 noise2 noise3 noise4",
        "Noise5 NOISE6 noise7 noise8",  # case must not matter
        "noise9 noise10 noise11 capital0",
        "noise9 noise10 unknownword noise12",  # out of vocabulary
        "noise1 noise2 noise140 noise3",  # noise140 is beyond restrict_vocab below
        "only three words",  # malformed: counted, not evaluated
        "noise20 noise21 noise22 noise23",
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_analogies_match_gensim_on_planted_vectors(make_model, tmp_path):
    vectors, tokens, pairs = planted_analogies()
    questions = _write_questions(tmp_path / "questions.txt", pairs)
    report = evaluate_analogies(make_model(vectors, tokens), questions, restrict_vocab=100)
    expected, correct = _gensim_sections(_keyed_vectors(vectors, tokens), questions, 100)
    assert _ours(report) == expected
    assert report.correct == correct
    capitals = report.sections[0]
    assert capitals.correct == capitals.total == 8 * 7  # every planted answer found
    assert report.skipped_oov == 2 and report.invalid_lines == 1
    assert report.questions == 8 * 7 + 6
    assert report.to_dict()["oov_ratio"] == pytest.approx(2 / report.questions)


@pytest.mark.parametrize("method", ["3cosadd", "3cosmul"])
def test_analogies_on_an_index_equal_those_on_the_model(make_model, tmp_path, method):
    vectors, tokens, pairs = planted_analogies(seed=3)
    questions = _write_questions(tmp_path / "questions.txt", pairs)
    model = make_model(vectors, tokens)
    build_index(model, tmp_path / "index", IndexConfig(kind="flat"))
    on_model = evaluate_analogies(model, questions, method=method)
    on_index = evaluate_analogies(tmp_path / "index", questions, method=method)
    on_loaded = evaluate_analogies(load_index(tmp_path / "index"), questions, method=method)
    assert on_model == on_index == on_loaded
    assert on_model.sections[0].accuracy == 1.0


def test_3cosmul_evaluation_matches_a_numpy_reference(make_model, tmp_path):
    rng = np.random.default_rng(11)
    vectors = rng.standard_normal((120, 6)).astype(np.float32)
    tokens = [f"t{i}" for i in range(120)]
    quads = rng.integers(0, 120, size=(300, 4))
    quads = quads[[len(set(q)) == 4 for q in quads]]
    path = tmp_path / "q.txt"
    path.write_text(": random\n" + "".join(" ".join(f"t{i}" for i in q) + "\n" for q in quads))
    report = evaluate_analogies(make_model(vectors, tokens), path, method="3cosmul")
    x = unit(vectors.astype(np.float64))
    correct = 0
    for a, b, c, d in quads:
        shifted = (1 + x @ x[[a, b, c]].T) / 2
        score = shifted[:, 1] * shifted[:, 2] / (shifted[:, 0] + 1e-3)
        score[[a, b, c]] = -np.inf
        correct += int(np.argmax(score) == d)
    assert report.total == len(quads)
    assert report.correct == correct
    assert correct > 0


@needs_data
def test_google_analogies_match_gensim_with_restricted_vocab(make_model, tmp_path):
    path = DATA / "questions-words.txt"
    questions = read_analogy_questions(path)
    words = sorted({w for s in questions.sections for q in s.questions for w in q})
    rng = np.random.default_rng(0)
    rng.shuffle(words)
    # Low dimension so that some answers are right by chance and counts are not all zero.
    vectors = rng.standard_normal((len(words), 4)).astype(np.float32)
    report = evaluate_analogies(make_model(vectors, words), path, restrict_vocab=650)
    expected, correct = _gensim_sections(_keyed_vectors(vectors, words), path, 650)
    assert _ours(report) == expected
    assert report.correct == correct > 0
    assert report.questions == questions.count == 19544
    assert 0 < report.skipped_oov < report.questions


def _write_pairs(path: Path, lines: list[str]) -> Path:
    path.write_text("# comment line\n" + "\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_similarity_matches_gensim_and_scipy(make_model, tmp_path):
    rng = np.random.default_rng(2)
    tokens = [f"w{i}" for i in range(60)]
    vectors = rng.standard_normal((60, 8)).astype(np.float32)
    pair_ids = rng.integers(0, 60, size=(80, 2))
    gold = np.round(rng.uniform(0, 10, size=80), 0)  # rounded: many tied human scores
    lines = [f"w{a}\tw{b}\t{g}" for (a, b), g in zip(pair_ids, gold, strict=True)]
    lines += ["W1\tw2\t3.5", "w1\tunknown\t2.0", "nounk\tw3\t1.0", "not a valid line"]
    path = _write_pairs(tmp_path / "pairs.tsv", lines)
    report = evaluate_similarity(make_model(vectors, tokens), path)

    pearson, spearman, oov_ratio = _keyed_vectors(vectors, tokens).evaluate_word_pairs(str(path))
    assert report.spearman == pytest.approx(spearman[0], abs=1e-6)
    assert report.pearson == pytest.approx(pearson[0], abs=1e-6)
    assert report.oov_ratio * 100 == pytest.approx(oov_ratio)
    assert (report.pairs, report.oov_pairs, report.invalid_lines) == (81, 2, 1)

    x = unit(vectors.astype(np.float64))
    ids = [*map(tuple, pair_ids), (1, 2)]
    model = [x[a] @ x[b] for a, b in ids]
    expected = stats.spearmanr([*gold, 3.5], model).statistic
    assert report.spearman == pytest.approx(expected, abs=1e-9)


def test_average_ranks_equal_scipy_rankdata():
    values = np.array([3.0, 1.0, 3.0, 2.0, 2.0, 2.0, 5.0, -1.0])
    np.testing.assert_array_equal(_average_ranks(values), stats.rankdata(values))


@needs_data
@pytest.mark.parametrize("name", ["wordsim353.tsv", "simlex999.txt"])
def test_real_pair_files_match_gensim(make_model, name):
    path = DATA / name
    words = sorted(
        {
            w.lower()
            for line in path.read_text().splitlines()
            if line and not line.startswith("#")
            for w in line.split("\t")[:2]
        }
    )
    rng = np.random.default_rng(5)
    kept = [w for w in words if rng.random() > 0.1]  # ~10% of words made unknown
    vectors = rng.standard_normal((len(kept), 16)).astype(np.float32)
    report = evaluate_similarity(make_model(vectors, kept), path)
    pearson, spearman, oov_ratio = _keyed_vectors(vectors, kept).evaluate_word_pairs(str(path))
    assert report.spearman == pytest.approx(spearman[0], abs=1e-6)
    assert report.pearson == pytest.approx(pearson[0], abs=1e-6)
    assert report.oov_ratio * 100 == pytest.approx(oov_ratio)
    assert report.oov_pairs > 0 and report.invalid_lines == 0


def test_bad_inputs_are_clear_errors(make_model, tmp_path):
    vectors, tokens, pairs = planted_analogies()
    model = make_model(vectors, tokens)
    orphan = tmp_path / "orphan.txt"
    orphan.write_text("a b c d\n: late section\n")
    with pytest.raises(InputError, match="line 1"):
        evaluate_analogies(model, orphan)
    with pytest.raises(InputError, match="does not exist"):
        evaluate_analogies(model, tmp_path / "missing.txt")
    questions = _write_questions(tmp_path / "q.txt", pairs)
    with pytest.raises(ConfigError, match="restrict_vocab"):
        evaluate_analogies(model, questions, restrict_vocab=0)
    with pytest.raises(ConfigError, match="method"):
        evaluate_analogies(model, questions, method="3cosdiv")
    unknown = _write_pairs(tmp_path / "unknown.tsv", ["zz\tyy\t1.0"])
    with pytest.raises(InputError, match="none of its 1 pairs"):
        evaluate_similarity(model, unknown)
