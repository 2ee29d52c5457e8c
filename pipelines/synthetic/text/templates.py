"""Sentence templates and word pools of the synthetic text world (data only).

Each side of a planted relation (`Side`) has *role* words and templates that write them
next to the side's word: capitals with "city", "mayor"; countries with "nation", "border";
male words with "he", "his"; female with "she", "her"; singular nouns with "one", "single";
plurals with "many", "two"; present verbs with "today", "now"; past verbs with "yesterday",
"ago". Background templates and the noun, adjective and surname pools fill the rest of the
text. `embedrec.pipelines.synthetic.text.lexicon.check_lexicon` keeps them apart from planted words.

Template fields: ``{w}`` the word, ``{p}`` its partner (partner templates only),
``{t}``/``{u}`` two topic words of the pair, ``{a}``/``{b}`` adjectives, ``{n}``/``{m}``
nouns, ``{x}`` a surname.

>>> sorted(template_fields("The mayor of {w} argued about the {t}."))
['t', 'w']
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass


@dataclass(frozen=True)
class Side:
    """One side of a relation: its word class, role words and sentence templates."""

    word_class: str
    roles: tuple[str, ...]
    templates: tuple[str, ...]
    partner_templates: tuple[str, ...]


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


CAPITAL = Side(
    word_class="capital",
    roles=_words(
        "city mayor downtown streets metro skyline district suburbs council tram traffic tourists"
    ),
    templates=(
        "{w} is a {a} city, famous for its {t}.",
        "The mayor of {w} argued about the {t} and the {n}.",
        "Downtown {w} was full of {t} and {n}.",
        "In {w}, the metro runs under the {a} streets near the {t}.",
        "The skyline of {w} rises above the {t}.",
        "Traffic in {w} slowed near the {t} district.",
        "The city council of {w} voted to protect the {t}.",
        "The suburbs around {w} are {a}, but the {t} draws tourists.",
        "Tourists ride the tram across {w} to see the {t}.",
        "Every district of {w} has a {a} square and a {t} shop.",
        "The streets of {w} were {a} after the {t} festival.",
        "Is {w} a {a} city for {t}?",
    ),
    partner_templates=(
        "{w} is the capital of {p}.",
        "{w}, the capital of {p}, is known for its {t}.",
    ),
)

COUNTRY = Side(
    word_class="country",
    roles=_words(
        "nation border government population president economy flag province citizens "
        "treaty republic exports"
    ),
    templates=(
        "{w} is a {a} nation known for its {t}.",
        "The government of {w} invested in {t} and {n}.",
        "The border of {w} runs past the {t}.",
        "The population of {w} rose as {t} exports increased.",
        "The president of {w} praised the {t}.",
        "The economy of {w} depends on {t} and {u}.",
        "The flag of {w} waved over every province, from the {t} to the coast.",
        "Citizens of {w} are proud of their {t}.",
        "Each province of {w} has its own {t}.",
        "{w} signed a treaty with its neighbours about the {t}.",
        "The republic of {w} exports {t} and {n}.",
        "Why does {w} guard its border near the {t}?",
    ),
    partner_templates=(
        "The capital of {w} is {p}.",
        "{w}, whose capital is {p}, is known for its {t}.",
    ),
)

MALE = Side(
    word_class="male",
    roles=_words("he his him himself"),
    templates=(
        "The {w} said that he would return to the {t}.",
        "The {w} smiled, and his {t} was {a}.",
        "Everyone knew the {w} and his {t}.",
        "He was a {a} {w} who loved the {t}.",
        '"I am the {w} of this {t}," he said.',
        "The {w} kept the {t} for himself.",
        "They gave him the {t} because he was the {w}.",
        "When the {w} saw the {t}, he laughed.",
        "His {t} made the {w} {a}.",
        "Was he really the {w} of the {t}?",
    ),
    partner_templates=("The {w} and the {p} talked about the {t}.",),
)

FEMALE = Side(
    word_class="female",
    roles=_words("she her hers herself"),
    templates=(
        "The {w} said that she would return to the {t}.",
        "The {w} smiled, and her {t} was {a}.",
        "Everyone knew the {w} and her {t}.",
        "She was a {a} {w} who loved the {t}.",
        '"I am the {w} of this {t}," she said.',
        "The {w} kept the {t} for herself.",
        "They gave her the {t} because she was the {w}.",
        "When the {w} saw the {t}, she laughed.",
        "Her {t} made the {w} {a}.",
        "Was she really the {w} of the {t}?",
    ),
    partner_templates=("The {w} and the {p} talked about the {t}.",),
)

SINGULAR = Side(
    word_class="singular",
    roles=_words("single one lone"),
    templates=(
        "A {w} is sitting near the {t}.",
        "One {w} was left by the {t}.",
        "There is a single {w} next to the {t}.",
        "This {w} has a {a} {t}.",
        "The {w} is {a}, and its {t} is {b}.",
        "Only one {w} fits beside the {t}.",
        "A lone {w} stood by the {t}.",
        "Look at that {w} near the {t}!",
        "Each {w} needs its own {t}.",
        "Is that {w} {a}?",
    ),
    partner_templates=("One {w} became many {p} near the {t}.",),
)

PLURAL = Side(
    word_class="plural",
    roles=_words("many two three several few those both"),
    templates=(
        "Many {w} are sitting near the {t}.",
        "Two {w} were left by the {t}.",
        "There are several {w} next to the {t}.",
        "These {w} have a {a} {t}.",
        "The {w} are {a}, and their {t} is {b}.",
        "Three {w} fit beside the {t}.",
        "A few {w} stood by the {t}.",
        "Look at those {w} near the {t}!",
        "Both {w} need their own {t}.",
        "Are those {w} {a}?",
    ),
    partner_templates=("Two {w} are more than one {p}, said the {t} expert.",),
)

PRESENT = Side(
    word_class="present",
    roles=_words("today now usually often always tomorrow will soon"),
    templates=(
        "Today we {w} near the {t}.",
        "We often {w} at the {t}.",
        "They usually {w} with a {t}.",
        "I like to {w} near the {t} every morning.",
        "Tomorrow they will {w} at the {t}.",
        "You can {w} with the {t} now.",
        "We always {w} after the {t}.",
        "Now I {w} at the {a} {t}.",
        "Do you {w} near the {t} today?",
        "They will {w} with the {t} soon.",
    ),
    partner_templates=("Today we {w}; yesterday we {p} at the {t}.",),
)

PAST = Side(
    word_class="past",
    roles=_words("yesterday ago last earlier once night"),
    templates=(
        "Yesterday we {w} near the {t}.",
        "We {w} at the {t} long ago.",
        "They once {w} with a {t}.",
        "I {w} near the {t} last night.",
        "Last week they {w} at the {t}.",
        "You {w} with the {t} earlier.",
        "We {w} after the {t} a while ago.",
        "Earlier I {w} at the {a} {t}.",
        "Yesterday you {w} near the {t}, didn't you?",
        "Long ago they {w} with the {t}.",
    ),
    partner_templates=("Yesterday we {w}, and today we {p} again near the {t}.",),
)


# Background sentences: the everyday text around the planted facts. They use no relation,
# topic or role word, so they add realistic noise and function-word mass without leaking.
BACKGROUND_TEMPLATES: tuple[str, ...] = (
    "The {a} {n} was {b} in the {m}.",
    "People said that the {n} and the {m} were {a}.",
    "It is {a} to find a {n} in the {m}.",
    "Dr. {x} published a paper on the {n} and the {m}.",
    "Mr. {x} kept a {a} {n} at home.",
    "After the {n}, the {m} seemed {a}; nobody knew why.",
    "What a {a} {n}!",
    "Where is the {a} {n}?",
    "In the {a} {n}, there was a {m}.",
    "Nobody expected the {n} to be so {a}.",
    "According to {x}, the {n} is {a} and {b}.",
    "The {n} (a {a} sort, by all accounts) stood in the {m}.",
    "The {n} had been {a} for years, or so {x} claimed.",
    "If the {n} is {a}, the {m} should be {b} as well.",
)

NOUNS = _words(
    """
    people world life place story evening weather market question answer problem reason
    history picture paper report meeting plan road village island valley bridge box lamp coat
    hat jacket clock mirror candle basket blanket bucket bottle glass bag map ticket camera
    painting wall floor corner gate tower field hill beach ocean desert storm wind snow rain
    sun moon star noise silence light shadow voice colour shape number result moment memory
    message secret journey holiday festival square shop coast museum office factory
    """
)

ADJECTIVES = _words(
    """
    old new big small long short great little good bad young important large public quiet busy
    bright dark warm cold strange simple famous beautiful modern ancient happy green red blue
    white black heavy empty full rich poor calm loud narrow wide gentle wild clean fresh rare
    common clever safe sudden proud unusual
    """
)

SURNAMES = _words(
    """
    Smith Jones Taylor Brown Wilson Evans Thomas Roberts Johnson Wright Hall Clarke Hughes
    Edwards Lewis Harris Martin Cooper Baker Morgan Bennett Turner
    """
)

_WORD = re.compile(r"[A-Za-z]+")


def tokens_of(text: str) -> list[str]:
    """Lower-cased runs of letters: the tokens of the world (``"Didn't"`` → didn, t)."""
    return [match.lower() for match in _WORD.findall(text)]


def template_fields(template: str) -> frozenset[str]:
    """The ``{field}`` names a template uses."""
    return frozenset(name for _, name, _, _ in string.Formatter().parse(template) if name)
