"""Tokeniser, sentence splitter and sentence chunking (embedrec.pipelines.text.tokenize)."""

from __future__ import annotations

import random
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from embedrec.pipelines.text.tokenize import chunk_lengths, split_sentences, tokenize, tokenize_line

ASSETS = Path(__file__).resolve().parents[1] / "assets" / "text"


@pytest.mark.parametrize(
    ("text", "tokens"),
    [
        ("Hello, World!", ["hello", "world"]),
        ("don't stop — well-known", ["don't", "stop", "well-known"]),
        ("'quoted' -dash- --", ["quoted", "dash"]),
        ("a'-b", ["a", "b"]),  # two joiners in a row are not in-word
        ("pi is 3.14, about 1,000.", ["pi", "is", "3.14", "about", "1,000"]),
        ("ends with 3. Next", ["ends", "with", "3", "next"]),
        ("ÉCOLE Straße ΣΟΦΊΑ", ["école", "straße", "σοφία"]),
        ("हिन्दी भाषा", ["हिन्दी", "भाषा"]),  # combining vowel signs stay in the word
        ("snake_case x2 ½", ["snake_case", "x2", "½"]),
        (
            "http://en.wikipedia.org/wiki?curid=12",
            ["http", "en", "wikipedia", "org", "wiki", "curid", "12"],
        ),
        ("", []),
    ],
)
def test_tokenize(text, tokens):
    assert tokenize(text) == tokens


def test_split_sentences_at_end_marks_followed_by_a_new_sentence():
    line = 'It rained. Then it stopped! Did it? "Yes." He left... (Twice.) Done'
    assert split_sentences(line) == [
        "It rained. ",
        "Then it stopped! ",
        "Did it? ",
        '"Yes." ',
        "He left... ",
        "(Twice.) ",
        "Done",
    ]


def test_split_sentences_keeps_abbreviations_before_lower_case_and_marks_without_space():
    assert split_sentences("See e.g. the list, i.e. this one. 3.14 is pi.") == [
        "See e.g. the list, i.e. this one. ",
        "3.14 is pi.",
    ]
    assert split_sentences("no end mark") == ["no end mark"]
    assert split_sentences("") == []


def test_tokenize_line_drops_sentences_without_tokens():
    assert tokenize_line("Hi. ... !!! Bye.") == [["hi"], ["bye"]]


def test_plain_fixture_sentences():
    lines = (ASSETS / "plain.txt").read_text(encoding="utf-8").split("\n")
    sentences = [s for line in lines for s in tokenize_line(line)]
    assert sentences == [
        ["the", "quick", "brown", "fox", "jumps", "over", "the", "lazy", "dog"],
        ["the", "dog", "sleeps"],
        ["is", "the", "fox", "quick"],
        ["yes", "e", "g", "very", "quick"],
        [
            "naïve",
            "café",
            "owners",
            "don't",
            "like",
            "well-known",
            "crème",
            "brûlée",
            "it",
            "costs",
            "3.50",
            "euros",
        ],
    ]


def test_counts_equal_counter_of_split_on_lower_case_ascii():
    rng = random.Random(7)
    words = [
        "".join(rng.choice("abcdefghij") for _ in range(rng.randint(1, 6))) for _ in range(300)
    ]
    text = "\n".join(
        " ".join(rng.choice(words) for _ in range(rng.randint(0, 40))) for _ in range(200)
    )
    assert Counter(tokenize(text)) == Counter(text.split())


def test_counts_equal_counter_of_split_on_lower_case_non_ascii():
    text = (ASSETS / "lower_nonascii.txt").read_text(encoding="utf-8")
    assert "cafe\u0301" in text  # a decomposed accent is part of the fixture
    assert Counter(tokenize(text)) == Counter(text.split())
    rng = random.Random(11)
    alphabet = (
        "абвгдеёжзийклмнопрстуфхцчшщъыьэюяαβγδεζηθικλμνξοπρσςτυφχψωäöüßéèçñ日本語中文" + "e\u0301"
    )
    words = ["".join(rng.choice(alphabet) for _ in range(rng.randint(1, 7))) for _ in range(500)]
    words = [w for w in words if not w[0].isspace() and w[0] != "\u0301"]
    lines = (" ".join(rng.choice(words) for _ in range(rng.randint(1, 30))) for _ in range(300))
    text = "\n".join(lines)
    assert Counter(tokenize(text)) == Counter(text.split())


def test_chunk_lengths_cuts_long_sentences_and_drops_empty_ones():
    rows, per_sentence = chunk_lengths(np.array([5, 0, 1000, 1001, 2500]), 1000)
    assert rows.tolist() == [5, 1000, 1000, 1, 1000, 1000, 500]
    assert per_sentence.tolist() == [1, 0, 1, 2, 3]
    rows, per_sentence = chunk_lengths(np.array([], dtype=np.int64), 3)
    assert rows.tolist() == [] and per_sentence.tolist() == []
