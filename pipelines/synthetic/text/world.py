"""A seeded synthetic text world with planted relations, so the right answers are known.

`generate_text_world` writes an artifact directory (kind ``synthetic-text``)::

    corpus.txt              English-ish prose, one paragraph per line, with capitals and
                            punctuation ("Paris is the capital of France. The king smiled…")
    questions-words.txt     analogy questions in the Google format, one section per relation
    similarity.tsv          scored word pairs in the WordSim-353 format
    world.json              the ground truth: relation pairs, topic and role words, classes
    manifest.json

The planted relations are capital-world (paris → france), family (king → queen),
gram7-past-tense (walk → walked) and gram8-plural (cat → cats); see
`embedrec.pipelines.synthetic.text.lexicon` for how the corpus makes skip-gram learn their offsets.
The default million words train in seconds and the analogies are then solved (gensim's
skip-gram gets ≥ 90 %). Same config → byte-identical files (``manifest.json`` aside, which
records its creation time).

>>> summary = generate_text_world(TextWorldConfig(seed=0, words=200_000), "world")  # doctest: +SKIP
>>> summary.words, summary.questions["capital-world"]  # doctest: +SKIP
(200007, 870)

Command line: ``embedrec generate text --out world --seed 0 --words 1000000``.
"""

from __future__ import annotations

import collections
import dataclasses
import logging
from dataclasses import dataclass
from pathlib import Path
from random import Random
from typing import Any

from embedrec.core.artifacts import atomic_path, staged_output_dir, write_json, write_manifest
from embedrec.core.errors import ConfigError
from embedrec.pipelines.synthetic.text.corpus import iter_paragraphs
from embedrec.pipelines.synthetic.text.lexicon import RELATIONS, Relation
from embedrec.pipelines.synthetic.text.tasks import (
    SIMILARITY_SCORES,
    analogy_questions,
    similarity_lines,
    similarity_pairs,
    token,
)
from embedrec.pipelines.synthetic.text.templates import ADJECTIVES, NOUNS, SURNAMES, tokens_of

log = logging.getLogger(__name__)

WORLD_KIND = "synthetic-text"
CORPUS_FILE = "corpus.txt"
QUESTIONS_FILE = "questions-words.txt"
SIMILARITY_FILE = "similarity.tsv"
WORLD_FILE = "world.json"

MIN_WORDS = 10_000
MAX_PAIRS = min(len(relation.pairs) for relation in RELATIONS)


@dataclass(frozen=True, kw_only=True)
class TextWorldConfig:
    """What the world looks like; the same config always gives the same files.

    seed: drives every random choice (which pairs are common, every sentence, the samples).
    words: corpus size in words (runs of letters), at least 10,000; the corpus overshoots
        it by less than one paragraph.
    pairs_per_relation: how many of each relation's 30 pairs to plant (a seeded choice),
        from 2 (one analogy question each way) to 30.
    questions_per_section: at most this many questions per section (a seeded sample when
        n·(n-1) for n pairs is larger).
    similarity_pairs: number of scored pairs in similarity.tsv.
    """

    seed: int = 0
    words: int = 1_000_000
    pairs_per_relation: int = MAX_PAIRS
    questions_per_section: int = 1000
    similarity_pairs: int = 300

    def __post_init__(self) -> None:
        _check_int("seed", self.seed, 0, 2**63 - 1)
        _check_int("words", self.words, MIN_WORDS, None)
        _check_int("pairs_per_relation", self.pairs_per_relation, 2, MAX_PAIRS)
        _check_int("questions_per_section", self.questions_per_section, 1, None)
        _check_int("similarity_pairs", self.similarity_pairs, 5, 5000)

    def to_dict(self) -> dict[str, Any]:
        """The config as plain JSON-able values (saved in the manifest)."""
        return dataclasses.asdict(self)


def _check_int(key: str, value: object, low: int, high: int | None) -> None:
    ok = isinstance(value, int) and not isinstance(value, bool) and value >= low
    if ok and high is not None:
        ok = value <= high  # type: ignore[operator]
    if not ok:
        bounds = f"between {low:,} and {high:,}" if high is not None else f">= {low:,}"
        raise ConfigError(key, value, f"an integer {bounds}")


@dataclass(frozen=True)
class TextWorldSummary:
    """What `generate_text_world` wrote: sizes and the number of questions per section."""

    out: str
    seed: int
    words: int
    sentences: int
    paragraphs: int
    vocabulary: int
    questions: dict[str, int]
    similarity_pairs: int

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able values (the CLI's ``--json`` document)."""
        return dataclasses.asdict(self)


def generate_text_world(
    config: TextWorldConfig,
    out: str | Path,
    *,
    overwrite: bool = False,
    progress: bool = False,
) -> TextWorldSummary:
    """Write the world for ``config`` into the directory ``out`` and return its sizes.

    Refuses an existing non-empty ``out`` unless ``overwrite`` (`OutputExistsError`); the
    directory is built beside ``out`` and renamed into place only when complete.
    ``progress`` shows a words-per-second bar on stderr when it is a terminal.
    """
    relations = choose_relations(config)
    with staged_output_dir(out, overwrite=overwrite) as stage:
        counts, sentences, paragraphs = _write_corpus(
            stage / CORPUS_FILE, relations, config, progress
        )
        questions = analogy_questions(
            relations,
            limit=config.questions_per_section,
            rng=Random(f"{config.seed}:questions"),
        )
        with atomic_path(stage / QUESTIONS_FILE) as tmp:
            tmp.write_text("\n".join(questions) + "\n", encoding="utf-8")
        pairs = similarity_pairs(
            relations, count=config.similarity_pairs, rng=Random(f"{config.seed}:similarity")
        )
        with atomic_path(stage / SIMILARITY_FILE) as tmp:
            tmp.write_text("\n".join(similarity_lines(pairs, seed=config.seed)) + "\n", "utf-8")
        per_section = _questions_per_section(questions)
        summary = TextWorldSummary(
            out=str(Path(out)),
            seed=config.seed,
            words=sum(counts.values()),
            sentences=sentences,
            paragraphs=paragraphs,
            vocabulary=len(counts),
            questions=per_section,
            similarity_pairs=len(pairs),
        )
        write_json(stage / WORLD_FILE, _world_description(config, relations, counts, summary))
        write_manifest(
            stage,
            kind=WORLD_KIND,
            config=config.to_dict(),
            counts={
                "words": summary.words,
                "sentences": sentences,
                "paragraphs": paragraphs,
                "vocabulary": summary.vocabulary,
                "questions": sum(per_section.values()),
                "similarity_pairs": len(pairs),
            },
        )
    log.info("wrote a %d-word synthetic text world to %s", summary.words, out)
    return summary


def choose_relations(config: TextWorldConfig) -> list[Relation]:
    """The planted relations with a seeded choice of ``pairs_per_relation`` pairs each."""
    rng = Random(f"{config.seed}:pairs")
    chosen = []
    for relation in RELATIONS:
        keep = sorted(rng.sample(range(len(relation.pairs)), config.pairs_per_relation))
        pairs = tuple(relation.pairs[i] for i in keep)
        chosen.append(dataclasses.replace(relation, pairs=pairs))
    return chosen


def _write_corpus(
    path: Path, relations: list[Relation], config: TextWorldConfig, progress: bool
) -> tuple[collections.Counter[str], int, int]:
    from tqdm import tqdm  # here, not at module level: keeps `import embedrec.pipelines` light

    counts: collections.Counter[str] = collections.Counter()
    sentences = paragraphs = 0
    rng = Random(f"{config.seed}:corpus")
    # disable=None: a bar only when stderr is a terminal, never in logs or captured output.
    bar = tqdm(total=config.words, unit="word", unit_scale=True, disable=None if progress else True)
    with bar, atomic_path(path) as tmp, open(tmp, "w", encoding="utf-8", newline="\n") as fh:
        for paragraph in iter_paragraphs(relations, rng, config.words):
            text = " ".join(sentence.text for sentence in paragraph)
            fh.write(text + "\n")
            counts.update(tokens_of(text))
            sentences += len(paragraph)
            paragraphs += 1
            written = sum(sentence.words for sentence in paragraph)
            bar.update(max(0, min(written, config.words - bar.n)))  # the last one overshoots
    return counts, sentences, paragraphs


def _questions_per_section(lines: list[str]) -> dict[str, int]:
    per_section: dict[str, int] = {}
    section = ""
    for line in lines:
        if line.startswith(":"):
            section = line[1:].strip()
            per_section[section] = 0
        else:
            per_section[section] += 1
    return per_section


def _world_description(
    config: TextWorldConfig,
    relations: list[Relation],
    counts: collections.Counter[str],
    summary: TextWorldSummary,
) -> dict[str, Any]:
    classes: dict[str, list[str]] = {}
    described = []
    for relation in relations:
        pairs = []
        for pair in relation.pairs:
            left, right = token(pair.left), token(pair.right)
            topics = [token(t) for t in pair.topics]
            pairs.append(
                {
                    "left": left,
                    "right": right,
                    "topics": topics,
                    "counts": {w: counts[w] for w in (left, right, *topics)},
                }
            )
            classes.setdefault(relation.left.word_class, []).append(left)
            classes.setdefault(relation.right.word_class, []).append(right)
            classes.setdefault("topic", []).extend(topics)
        described.append(
            {
                "section": relation.section,
                "left_class": relation.left.word_class,
                "right_class": relation.right.word_class,
                "left_roles": list(relation.left.roles),
                "right_roles": list(relation.right.roles),
                "pairs": pairs,
            }
        )
    classes["role"] = sorted({w for r in relations for w in (*r.left.roles, *r.right.roles)})
    classes["noun"] = sorted({t for w in NOUNS for t in tokens_of(w)})
    classes["adjective"] = sorted(token(w) for w in ADJECTIVES)
    classes["surname"] = sorted(token(w) for w in SURNAMES)
    return {
        "seed": config.seed,
        "config": config.to_dict(),
        "files": {
            "corpus": CORPUS_FILE,
            "questions": QUESTIONS_FILE,
            "similarity": SIMILARITY_FILE,
        },
        "counts": {
            "words": summary.words,
            "sentences": summary.sentences,
            "paragraphs": summary.paragraphs,
            "vocabulary": summary.vocabulary,
        },
        "questions": summary.questions,
        "similarity_scores": SIMILARITY_SCORES,
        "relations": described,
        "word_classes": classes,
    }
