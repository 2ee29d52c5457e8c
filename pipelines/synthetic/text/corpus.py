"""Sentences of the synthetic text world, drawn from the lexicon's templates.

`iter_paragraphs` streams paragraphs (3–7 sentences each) until the requested number of
words is reached. Most sentences talk about one word of a planted pair, with its pair's
topic words and its side's role words around it; the rest are background sentences. Pairs
and pool words are drawn with Zipf-like weights, so some countries, nouns and adjectives are
common and others rare, as in real text. A *coverage* sentence for every (word, topic) is
mixed in at random places so even a small corpus holds every planted word.

>>> from random import Random
>>> from embedrec.pipelines.synthetic.text.lexicon import RELATIONS
>>> sampler = SentenceSampler(RELATIONS, Random(0))
>>> sampler.relation_sentence(RELATIONS[0], 0, "left", topic="Louvre")
Sentence(text='The skyline of Paris rises above the Louvre.', words=8)
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from random import Random
from typing import Literal

from embedrec.pipelines.synthetic.text.lexicon import Relation
from embedrec.pipelines.synthetic.text.templates import (
    ADJECTIVES,
    BACKGROUND_TEMPLATES,
    NOUNS,
    SURNAMES,
    Side,
    template_fields,
)

SideName = Literal["left", "right"]

BACKGROUND_SHARE = 0.2
PARTNER_SHARE = 0.05
PAIR_ZIPF_EXPONENT = 0.5
POOL_ZIPF_EXPONENT = 1.0
PARAGRAPH_SENTENCES = (3, 7)
_MEAN_SENTENCE_WORDS = 9  # only steers where coverage sentences land, not any count

_WORD = re.compile(r"[A-Za-z]+")
_ARTICLE_BEFORE_VOWEL = re.compile(r"\b([Aa]) (?=[AEIOUaeiou])")


@dataclass(frozen=True)
class Sentence:
    """One generated sentence and its number of words (runs of letters)."""

    text: str
    words: int


def _zipf_cumulative(count: int, exponent: float) -> list[float]:
    weights = [1.0 / (rank + 1) ** exponent for rank in range(count)]
    return list(itertools.accumulate(weights))


class _ZipfPool:
    """Words drawn with weight 1/rank**exponent; the rank order is a seeded shuffle."""

    def __init__(self, words: Sequence[str], exponent: float, rng: Random) -> None:
        self.words = list(words)
        rng.shuffle(self.words)
        self._cumulative = _zipf_cumulative(len(self.words), exponent)
        self._rng = rng

    def draw(self) -> str:
        return self._rng.choices(self.words, cum_weights=self._cumulative)[0]

    def draw_two(self) -> tuple[str, str]:
        first = self.draw()
        second = self.draw()
        while second == first:
            second = self.draw()
        return first, second


class SentenceSampler:
    """Draws sentences about the planted pairs and background sentences from one RNG."""

    def __init__(self, relations: Sequence[Relation], rng: Random) -> None:
        self.relations = list(relations)
        self._rng = rng
        self._nouns = _ZipfPool(NOUNS, POOL_ZIPF_EXPONENT, rng)
        self._adjectives = _ZipfPool(ADJECTIVES, POOL_ZIPF_EXPONENT, rng)
        self._surnames = _ZipfPool(SURNAMES, POOL_ZIPF_EXPONENT, rng)
        # Which pairs are common is itself seeded: pair order is shuffled per relation.
        self._pair_order: list[list[int]] = []
        self._pair_cumulative: list[list[float]] = []
        for relation in self.relations:
            order = list(range(len(relation.pairs)))
            rng.shuffle(order)
            self._pair_order.append(order)
            self._pair_cumulative.append(_zipf_cumulative(len(order), PAIR_ZIPF_EXPONENT))
        self._fields: dict[str, frozenset[str]] = {}

    def random_sentence(self) -> Sentence:
        """A background sentence or a sentence about a Zipf-drawn pair's word."""
        rng = self._rng
        if rng.random() < BACKGROUND_SHARE:
            return self._fill(rng.choice(BACKGROUND_TEMPLATES), {})
        r = rng.randrange(len(self.relations))
        pair_index = rng.choices(self._pair_order[r], cum_weights=self._pair_cumulative[r])[0]
        side: SideName = "left" if rng.random() < 0.5 else "right"
        return self.relation_sentence(self.relations[r], pair_index, side)

    def relation_sentence(
        self,
        relation: Relation,
        pair_index: int,
        side: SideName,
        *,
        topic: str | None = None,
    ) -> Sentence:
        """A sentence about one word of a pair; ``topic`` forces which topic word appears."""
        rng = self._rng
        pair = relation.pairs[pair_index]
        this: Side = relation.left if side == "left" else relation.right
        word, partner = (pair.left, pair.right) if side == "left" else (pair.right, pair.left)
        if topic is not None:
            template = rng.choice([t for t in this.templates if "t" in self._fields_of(t)])
            other = rng.choice([t for t in pair.topics if t != topic])
            topics = (topic, other)
        else:
            pool = this.partner_templates if rng.random() < PARTNER_SHARE else this.templates
            template = rng.choice(pool)
            first, second = rng.sample(pair.topics, 2)
            topics = (first, second)
        return self._fill(template, {"w": word, "p": partner, "t": topics[0], "u": topics[1]})

    def _fields_of(self, template: str) -> frozenset[str]:
        fields = self._fields.get(template)
        if fields is None:
            fields = self._fields[template] = template_fields(template)
        return fields

    def _fill(self, template: str, values: dict[str, str]) -> Sentence:
        fields = self._fields_of(template)
        if "a" in fields or "b" in fields:
            values["a"], values["b"] = self._adjectives.draw_two()
        if "n" in fields or "m" in fields:
            values["n"], values["m"] = self._nouns.draw_two()
        if "x" in fields:
            values["x"] = self._surnames.draw()
        text = template.format_map(values)
        text = _ARTICLE_BEFORE_VOWEL.sub(r"\1n ", text)
        start = 1 if text.startswith('"') else 0
        text = text[:start] + text[start].upper() + text[start + 1 :]
        return Sentence(text, len(_WORD.findall(text)))


def coverage_plan(relations: Sequence[Relation]) -> list[tuple[int, int, SideName, str]]:
    """(relation, pair, side, topic) for every word and topic word: each appears at least once.

    Every planted word gets one sentence per topic word of its pair (3 mentions), every topic
    word one sentence per side (2 mentions).
    """
    sides: tuple[SideName, SideName] = ("left", "right")
    return [
        (r, p, side, topic)
        for r, relation in enumerate(relations)
        for p, pair in enumerate(relation.pairs)
        for side in sides
        for topic in pair.topics
    ]


def iter_paragraphs(
    relations: Sequence[Relation], rng: Random, words: int
) -> Iterator[list[Sentence]]:
    """Yield paragraphs (lists of sentences) until at least ``words`` words were yielded.

    The coverage sentences are always all included, so the total can exceed a very small
    ``words``; otherwise it overshoots by less than one paragraph.
    """
    sampler = SentenceSampler(relations, rng)
    coverage = coverage_plan(relations)
    rng.shuffle(coverage)
    written = 0
    low, high = PARAGRAPH_SENTENCES
    while written < words or coverage:
        paragraph: list[Sentence] = []
        for _ in range(rng.randint(low, high)):
            slots_left = max(1, (words - written) // _MEAN_SENTENCE_WORDS)
            if coverage and rng.random() * slots_left < len(coverage):
                r, p, side, topic = coverage.pop()
                sentence = sampler.relation_sentence(relations[r], p, side, topic=topic)
            else:
                sentence = sampler.random_sentence()
            paragraph.append(sentence)
            written += sentence.words
        yield paragraph
