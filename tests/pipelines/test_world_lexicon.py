"""The world's word lists and templates keep their rules (one job per word, no leaks)."""

from __future__ import annotations

import dataclasses
from random import Random

import pytest

from embedrec.pipelines.synthetic.text import lexicon, templates
from embedrec.pipelines.synthetic.text.corpus import SentenceSampler


def test_the_shipped_lexicon_is_consistent() -> None:
    assert lexicon.check_lexicon() == []
    assert [len(r.pairs) for r in lexicon.RELATIONS] == [30, 30, 30, 30]


def test_a_pool_word_that_is_planted_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(lexicon, "NOUNS", (*templates.NOUNS, "Louvre"))
    assert any("'louvre'" in problem for problem in lexicon.check_lexicon())


def test_a_template_writing_a_planted_word_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    leaky = (*templates.BACKGROUND_TEMPLATES, "Dr. {x} wrote about the {n}.")
    monkeypatch.setattr(lexicon, "BACKGROUND_TEMPLATES", leaky)
    assert any("'wrote'" in problem for problem in lexicon.check_lexicon())


def test_a_role_word_on_the_wrong_side_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    capital = lexicon.CAPITAL_WORLD.left
    leaky = dataclasses.replace(capital, templates=(*capital.templates, "The nation of {w}."))
    relation = dataclasses.replace(lexicon.CAPITAL_WORLD, left=leaky)
    monkeypatch.setattr(lexicon, "RELATIONS", (relation, *lexicon.RELATIONS[1:]))
    assert any("['nation']" in problem for problem in lexicon.check_lexicon())


def test_sentences_put_the_word_beside_its_topic_and_role() -> None:
    sampler = SentenceSampler(lexicon.RELATIONS, Random(0))
    relation = lexicon.CAPITAL_WORLD
    for _ in range(50):
        sentence = sampler.relation_sentence(relation, 0, "left", topic="Louvre")
        words = templates.tokens_of(sentence.text)
        assert "paris" in words and "louvre" in words
        assert sentence.words == len(words)
        assert sentence.text[0].isupper() and sentence.text[-1] in ".!?"
        assert not set(words) & set(relation.right.roles)
