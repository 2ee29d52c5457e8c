"""The evaluation files of the synthetic text world: analogy questions and similarity pairs.

``questions-words.txt`` follows the Google analogy file (``: section`` lines, then
``a b c d`` meaning a is to b as c is to d), one section per planted relation, built from
every ordered couple of its pairs (or a seeded sample when there are too many).

``similarity.tsv`` follows WordSim-353 (``#`` comment lines, then ``w1<TAB>w2<TAB>score``).
Scores come from the world's structure, from sharing the most context to sharing none:

===========  =====  ===============================================================
category     score  example
===========  =====  ===============================================================
partner      8.0    paris, france   (the two words of a pair: same topic words)
topic        7.0    paris, louvre   (a word and a topic word of its pair)
same-class   6.0    paris, rome     (one side of one relation: same role words)
same-family  3.0    paris, italy    (other side, other pair of the same relation)
unrelated    1.0    paris, cats     (words of two different relations)
===========  =====  ===============================================================

>>> analogy_questions(RELATIONS[:1], limit=1000, rng=Random(0))[:2]    # doctest: +SKIP
[': capital-world', 'paris france berlin germany']
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from random import Random

from embedrec.pipelines.synthetic.text.lexicon import Relation
from embedrec.pipelines.synthetic.text.templates import tokens_of

SIMILARITY_SCORES: dict[str, float] = {
    "partner": 8.0,
    "topic": 7.0,
    "same-class": 6.0,
    "same-family": 3.0,
    "unrelated": 1.0,
}


@dataclass(frozen=True)
class SimilarityPair:
    """Two world tokens, their score and the category the score comes from."""

    first: str
    second: str
    score: float
    category: str


def token(word: str) -> str:
    """The world token of a lexicon word (``"Paris"`` → ``"paris"``)."""
    (only,) = tokens_of(word)
    return only


def analogy_questions(relations: Sequence[Relation], *, limit: int, rng: Random) -> list[str]:
    """Lines of a Google-format analogy file: a section header, then ``a b c d`` lines.

    Each section holds every ordered couple of distinct pairs (n·(n-1) questions for n
    pairs), or a seeded sample of ``limit`` of them kept in file order.
    """
    lines: list[str] = []
    for relation in relations:
        pairs = [(token(p.left), token(p.right)) for p in relation.pairs]
        couples = list(itertools.permutations(range(len(pairs)), 2))
        if len(couples) > limit:
            couples = sorted(rng.sample(couples, limit))
        lines.append(f": {relation.section}")
        lines.extend(" ".join((*pairs[i], *pairs[j])) for i, j in couples)
    return lines


def similarity_pairs(
    relations: Sequence[Relation], *, count: int, rng: Random
) -> list[SimilarityPair]:
    """A seeded sample of ``count`` scored word pairs, about equally many per category.

    No pair appears twice (in either order); the result is sorted by category then words
    so the file reads in blocks.
    """
    candidates = _candidates(relations)
    per_category = -(-count // len(SIMILARITY_SCORES))
    chosen: list[SimilarityPair] = []
    for category, score in SIMILARITY_SCORES.items():
        pool = candidates[category]
        for first, second in rng.sample(pool, min(per_category, len(pool))):
            chosen.append(SimilarityPair(first, second, score, category))
    rng.shuffle(chosen)
    chosen = chosen[:count]
    order = list(SIMILARITY_SCORES)
    chosen.sort(key=lambda pair: (order.index(pair.category), pair.first, pair.second))
    return chosen


def _candidates(relations: Sequence[Relation]) -> dict[str, list[tuple[str, str]]]:
    found: dict[str, list[tuple[str, str]]] = {category: [] for category in SIMILARITY_SCORES}
    sides: list[list[str]] = []
    for relation in relations:
        lefts = [token(p.left) for p in relation.pairs]
        rights = [token(p.right) for p in relation.pairs]
        sides.append(lefts + rights)
        for pair, left, right in zip(relation.pairs, lefts, rights, strict=True):
            found["partner"].append((left, right))
            for topic in pair.topics:
                found["topic"].append((left, token(topic)))
                found["topic"].append((right, token(topic)))
        for words in (lefts, rights):
            found["same-class"].extend(itertools.combinations(words, 2))
        for i, j in itertools.permutations(range(len(lefts)), 2):
            found["same-family"].append((lefts[i], rights[j]))
    for a, b in itertools.combinations(range(len(sides)), 2):
        found["unrelated"].extend(itertools.product(sides[a], sides[b]))
    return found


def similarity_lines(pairs: Sequence[SimilarityPair], *, seed: int) -> list[str]:
    """Lines of a WordSim-353-format file: ``#`` comments, then ``w1<TAB>w2<TAB>score``."""
    scale = ", ".join(f"{score:g} {category}" for category, score in SIMILARITY_SCORES.items())
    lines = [
        f"# embedrec synthetic text world (seed {seed}): scores from the planted structure",
        f"# {scale}",
        "# Word 1\tWord 2\tScore (0-10)",
    ]
    lines.extend(f"{p.first}\t{p.second}\t{p.score:.2f}" for p in pairs)
    return lines
