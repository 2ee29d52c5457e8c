"""The synthetic text world through its public API: files, formats, determinism, truth."""

from __future__ import annotations

import collections
import json
import re
from pathlib import Path

import pytest

from embedrec.core.artifacts import read_manifest
from embedrec.core.errors import ConfigError, OutputExistsError
from embedrec.pipelines import TextWorldConfig, generate_text_world
from embedrec.pipelines.synthetic.text.lexicon import RELATIONS
from embedrec.pipelines.synthetic.text.tasks import token
from embedrec.pipelines.synthetic.text.world import (
    CORPUS_FILE,
    QUESTIONS_FILE,
    SIMILARITY_FILE,
    WORLD_FILE,
    WORLD_KIND,
)

SECTIONS = ["capital-world", "family", "gram7-past-tense", "gram8-plural"]
DATA_FILES = [CORPUS_FILE, QUESTIONS_FILE, SIMILARITY_FILE, WORLD_FILE]
SMALL = TextWorldConfig(seed=0, words=20_000)


def tokens(text: str) -> list[str]:
    return re.findall(r"[a-z]+", text.lower())


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("world") / "w"
    generate_text_world(SMALL, out)
    return out


@pytest.fixture(scope="module")
def corpus_counts(world: Path) -> dict[str, int]:
    return dict(collections.Counter(tokens((world / CORPUS_FILE).read_text(encoding="utf-8"))))


def read_questions(path: Path) -> dict[str, list[list[str]]]:
    sections: dict[str, list[list[str]]] = {}
    current = None
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith(":"):
            current = line[1:].strip()
            sections[current] = []
        else:
            assert current is not None, "a question before the first section header"
            sections[current].append(line.split(" "))
    return sections


def test_writes_every_file_and_a_manifest(world: Path) -> None:
    assert sorted(p.name for p in world.iterdir()) == sorted([*DATA_FILES, "manifest.json"])
    manifest = read_manifest(world, kinds=[WORLD_KIND])
    assert manifest["config"] == SMALL.to_dict()
    truth = json.loads((world / WORLD_FILE).read_text(encoding="utf-8"))
    assert manifest["counts"]["words"] == truth["counts"]["words"]
    assert manifest["counts"]["questions"] == sum(truth["questions"].values())


def test_same_seed_gives_byte_identical_files(world: Path, tmp_path: Path) -> None:
    again = tmp_path / "again"
    generate_text_world(SMALL, again)
    for name in DATA_FILES:
        assert (again / name).read_bytes() == (world / name).read_bytes(), name
    first, second = read_manifest(world), read_manifest(again)
    assert first["config"] == second["config"]
    assert first["counts"] == second["counts"]


def test_another_seed_gives_another_corpus(world: Path, tmp_path: Path) -> None:
    generate_text_world(TextWorldConfig(seed=1, words=20_000), tmp_path / "other")
    other = (tmp_path / "other" / CORPUS_FILE).read_bytes()
    assert other != (world / CORPUS_FILE).read_bytes()


def test_corpus_is_prose_with_capitals_and_punctuation(world: Path, corpus_counts) -> None:
    text = (world / CORPUS_FILE).read_text(encoding="utf-8")
    lines = text.splitlines()
    truth = json.loads((world / WORLD_FILE).read_text(encoding="utf-8"))
    assert len(lines) == truth["counts"]["paragraphs"]
    assert sum(corpus_counts.values()) == truth["counts"]["words"]
    assert len(corpus_counts) == truth["counts"]["vocabulary"]
    assert SMALL.words <= truth["counts"]["words"] < SMALL.words + 200
    assert all(line[0].isupper() or line[0] == '"' for line in lines)
    assert all(line.rstrip('"')[-1] in ".!?" for line in lines)
    for mark in (", ", "? ", "! ", '"', "Dr. ", "; "):
        assert mark in text, mark
    assert " Paris " in text or "Paris," in text  # proper nouns keep their capital
    assert " a old " not in text and " a apple" not in text  # "an" before a vowel
    # Zipf-like: the most common word is far more common than the median one.
    ranked = sorted(corpus_counts.values(), reverse=True)
    assert ranked[0] > 50 * ranked[len(ranked) // 2]


def test_questions_are_google_format_over_the_planted_pairs(world: Path, corpus_counts) -> None:
    sections = read_questions(world / QUESTIONS_FILE)
    assert list(sections) == SECTIONS
    truth = json.loads((world / WORLD_FILE).read_text(encoding="utf-8"))
    for relation in truth["relations"]:
        questions = sections[relation["section"]]
        pairs = {(p["left"], p["right"]) for p in relation["pairs"]}
        assert len(questions) == 30 * 29
        assert len({tuple(q) for q in questions}) == len(questions)
        for q in questions:
            assert len(q) == 4
            assert (q[0], q[1]) in pairs and (q[2], q[3]) in pairs and q[0] != q[2]
            assert all(corpus_counts.get(word, 0) >= 3 for word in q), q
    assert ["paris", "france", "berlin", "germany"] in sections["capital-world"]
    assert ["king", "queen", "man", "woman"] in sections["family"]
    assert ["walk", "walked", "swim", "swam"] in sections["gram7-past-tense"]
    assert ["cat", "cats", "dog", "dogs"] in sections["gram8-plural"]


def test_similarity_is_wordsim_format(world: Path, corpus_counts) -> None:
    lines = (world / SIMILARITY_FILE).read_text(encoding="utf-8").splitlines()
    comments = [line for line in lines if line.startswith("#")]
    rows = [line.split("\t") for line in lines if not line.startswith("#")]
    assert comments and lines[: len(comments)] == comments
    assert len(rows) == SMALL.similarity_pairs
    assert all(len(row) == 3 for row in rows)
    scores = [float(row[2]) for row in rows]
    assert all(0 <= s <= 10 for s in scores)
    assert len(set(scores)) == 5  # one score per category, each category sampled
    unordered = {frozenset(row[:2]) for row in rows}
    assert len(unordered) == len(rows)
    assert all(corpus_counts.get(w, 0) > 0 for row in rows for w in row[:2])
    by_pair = {(row[0], row[1]): float(row[2]) for row in rows}
    truth = json.loads((world / WORLD_FILE).read_text(encoding="utf-8"))
    partners = {(p["left"], p["right"]) for r in truth["relations"] for p in r["pairs"]}
    assert all(by_pair[pair] == 8.0 for pair in partners if pair in by_pair)


def test_world_json_truth_matches_the_corpus(world: Path, corpus_counts) -> None:
    truth = json.loads((world / WORLD_FILE).read_text(encoding="utf-8"))
    assert truth["seed"] == 0
    assert [r["section"] for r in truth["relations"]] == SECTIONS
    lines = [set(tokens(line)) for line in (world / CORPUS_FILE).read_text().splitlines()]
    for relation in truth["relations"]:
        assert len(relation["pairs"]) == 30
        for pair in relation["pairs"]:
            for word, count in pair["counts"].items():
                assert count == corpus_counts[word], word
            assert pair["counts"][pair["left"]] >= 3 and pair["counts"][pair["right"]] >= 3
            # Topic words are pair-specific: every paragraph with one names the pair.
            for topic in pair["topics"]:
                assert pair["counts"][topic] >= 2
                with_topic = [line for line in lines if topic in line]
                assert all(pair["left"] in line or pair["right"] in line for line in with_topic)
    classes = truth["word_classes"]
    assert "paris" in classes["capital"] and "france" in classes["country"]
    assert "queen" in classes["female"] and "walked" in classes["past"]
    assert "city" in classes["role"] and "louvre" in classes["topic"]


def test_fewer_pairs_and_a_question_limit(tmp_path: Path) -> None:
    config = TextWorldConfig(seed=3, words=10_000, pairs_per_relation=5, questions_per_section=7)
    summary = generate_text_world(config, tmp_path / "w")
    assert summary.questions == dict.fromkeys(SECTIONS, 7)
    sections = read_questions(tmp_path / "w" / QUESTIONS_FILE)
    assert all(len(q) == 7 for q in sections.values())
    words = set(tokens((tmp_path / "w" / CORPUS_FILE).read_text(encoding="utf-8")))
    assert all(w in words for q in sections.values() for line in q for w in line)
    truth = json.loads((tmp_path / "w" / WORLD_FILE).read_text(encoding="utf-8"))
    planted = {w for r in truth["relations"] for p in r["pairs"] for w in (p["left"], p["right"])}
    assert len(planted) == 4 * 5 * 2
    unplanted = {token(p.left) for r in RELATIONS for p in r.pairs} - planted
    assert len(unplanted) == 4 * 25 and not unplanted & words


def test_existing_output_is_refused_unless_overwrite(world: Path, tmp_path: Path) -> None:
    out = tmp_path / "w"
    generate_text_world(SMALL, out)
    before = (out / CORPUS_FILE).read_bytes()
    with pytest.raises(OutputExistsError):
        generate_text_world(TextWorldConfig(seed=5, words=10_000), out)
    assert (out / CORPUS_FILE).read_bytes() == before
    generate_text_world(TextWorldConfig(seed=5, words=10_000), out, overwrite=True)
    assert (out / CORPUS_FILE).read_bytes() != before


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("words", 5),
        ("seed", -1),
        ("pairs_per_relation", 1),
        ("pairs_per_relation", 31),
        ("questions_per_section", 0),
        ("similarity_pairs", 2),
        ("words", True),
    ],
)
def test_bad_config_names_the_key(key: str, value: object) -> None:
    with pytest.raises(ConfigError, match=key) as caught:
        TextWorldConfig(**{key: value})  # type: ignore[arg-type]
    assert caught.value.key == key
