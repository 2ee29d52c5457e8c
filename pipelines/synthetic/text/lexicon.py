"""The planted relations of the synthetic text world (data only) and the rules they keep.

Four relations, 30 pairs each, named after the Google analogy sections they feed:
``capital-world`` (capital, country), ``family`` (male, female), ``gram7-past-tense``
(present, past) and ``gram8-plural`` (singular, plural). Every pair owns three *topic* words
that appear only in sentences about that pair, so both members share pair-specific context;
every side of a relation has its own *role* words (capitals: "city", "mayor"; countries:
"nation", "border"; …, see `pipelines.synthetic.text.templates`) written into its templates,
so each side shares the relation's context. Skip-gram then learns
``vec(paris) ≈ topic(france) + role(capital)`` and the offsets
``paris - france ≈ rome - italy`` follow.

Words are written in their surface form (``"Paris"``, ``"Louvre"``, ``"king"``); the world's
tokens are their lower-case forms. `check_lexicon` states the rules the data must keep
(a word has one job; templates never write a planted word, nor another side's role words).

>>> [(p.left, p.right) for p in CAPITAL_WORLD.pairs[:2]]
[('Paris', 'France'), ('Berlin', 'Germany')]
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from embedrec.pipelines.synthetic.text.templates import (
    ADJECTIVES,
    BACKGROUND_TEMPLATES,
    CAPITAL,
    COUNTRY,
    FEMALE,
    MALE,
    NOUNS,
    PAST,
    PLURAL,
    PRESENT,
    SINGULAR,
    SURNAMES,
    Side,
    template_fields,
    tokens_of,
)


@dataclass(frozen=True)
class PlantedPair:
    """One pair of a relation in question order (``left`` is to ``right``)."""

    left: str
    right: str
    topics: tuple[str, str, str]


@dataclass(frozen=True)
class Relation:
    """A planted relation: the questions-words section, its two sides and its pairs."""

    section: str
    left: Side
    right: Side
    pairs: tuple[PlantedPair, ...]


def _pairs(rows: tuple[tuple[str, str, str, str, str], ...]) -> tuple[PlantedPair, ...]:
    return tuple(PlantedPair(left, right, (t1, t2, t3)) for left, right, t1, t2, t3 in rows)


CAPITAL_WORLD = Relation(
    section="capital-world",
    left=CAPITAL,
    right=COUNTRY,
    pairs=_pairs(
        (
            ("Paris", "France", "wine", "Louvre", "Seine"),
            ("Berlin", "Germany", "beer", "Rhine", "Bavaria"),
            ("Rome", "Italy", "pasta", "Colosseum", "Vatican"),
            ("Madrid", "Spain", "flamenco", "paella", "Andalusia"),
            ("Lisbon", "Portugal", "fado", "Tagus", "Algarve"),
            ("Athens", "Greece", "olives", "Acropolis", "feta"),
            ("Moscow", "Russia", "Kremlin", "vodka", "Siberia"),
            ("Tokyo", "Japan", "sushi", "samurai", "Fuji"),
            ("Beijing", "China", "panda", "Yangtze", "dumplings"),
            ("Cairo", "Egypt", "pyramids", "Nile", "pharaohs"),
            ("Ottawa", "Canada", "maple", "hockey", "moose"),
            ("Lima", "Peru", "Andes", "Inca", "llamas"),
            ("Brasilia", "Brazil", "samba", "Amazon", "carnival"),
            ("Santiago", "Chile", "copper", "Atacama", "Patagonia"),
            ("Delhi", "India", "curry", "Ganges", "spices"),
            ("Nairobi", "Kenya", "safari", "Maasai", "giraffes"),
            ("Oslo", "Norway", "fjords", "Vikings", "salmon"),
            ("Stockholm", "Sweden", "meatballs", "Nobel", "herring"),
            ("Helsinki", "Finland", "sauna", "reindeer", "Lapland"),
            ("Warsaw", "Poland", "pierogi", "Chopin", "Vistula"),
            ("Vienna", "Austria", "waltz", "Mozart", "strudel"),
            ("Dublin", "Ireland", "shamrock", "Celtic", "whiskey"),
            ("Ankara", "Turkey", "kebab", "Anatolia", "Bosphorus"),
            ("Bangkok", "Thailand", "monsoon", "orchids", "elephants"),
            ("Hanoi", "Vietnam", "pho", "Mekong", "lanterns"),
            ("Havana", "Cuba", "cigars", "rum", "sugarcane"),
            ("Canberra", "Australia", "kangaroo", "outback", "koalas"),
            ("Amsterdam", "Netherlands", "tulips", "canals", "windmills"),
            ("Budapest", "Hungary", "paprika", "Danube", "goulash"),
            ("Tehran", "Iran", "carpets", "saffron", "pistachios"),
        )
    ),
)

FAMILY = Relation(
    section="family",
    left=MALE,
    right=FEMALE,
    pairs=_pairs(
        (
            ("king", "queen", "throne", "crown", "kingdom"),
            ("prince", "princess", "castle", "heir", "ballroom"),
            ("man", "woman", "stranger", "adult", "neighbour"),
            ("boy", "girl", "playground", "school", "skipping"),
            ("father", "mother", "parents", "household", "family"),
            ("son", "daughter", "birthday", "childhood", "upbringing"),
            ("brother", "sister", "sibling", "twin", "bunk"),
            ("uncle", "aunt", "cousin", "relatives", "reunion"),
            ("husband", "wife", "marriage", "spouse", "anniversary"),
            ("grandfather", "grandmother", "grandchildren", "retirement", "porch"),
            ("nephew", "niece", "teenager", "allowance", "scouts"),
            ("actor", "actress", "stage", "theatre", "film"),
            ("waiter", "waitress", "restaurant", "tips", "menu"),
            ("duke", "duchess", "duchy", "manor", "nobility"),
            ("emperor", "empress", "empire", "imperial", "court"),
            ("monk", "nun", "monastery", "prayer", "abbey"),
            ("god", "goddess", "heaven", "worship", "myth"),
            ("hero", "heroine", "legend", "quest", "villain"),
            ("host", "hostess", "guests", "party", "banquet"),
            ("groom", "bride", "wedding", "ceremony", "vows"),
            ("boyfriend", "girlfriend", "romance", "valentine", "dating"),
            ("lord", "lady", "servants", "mansion", "tea"),
            ("stepfather", "stepmother", "stepchildren", "divorce", "custody"),
            ("grandson", "granddaughter", "grandparents", "toddler", "lullaby"),
            ("policeman", "policewoman", "police", "patrol", "crime"),
            ("headmaster", "headmistress", "pupils", "exams", "assembly"),
            ("steward", "stewardess", "airline", "cabin", "flight"),
            ("landlord", "landlady", "tenant", "rent", "lodging"),
            ("wizard", "witch", "magic", "spell", "broom"),
            ("rooster", "hen", "coop", "chicks", "crowing"),
        )
    ),
)

PAST_TENSE = Relation(
    section="gram7-past-tense",
    left=PRESENT,
    right=PAST,
    pairs=_pairs(
        (
            ("walk", "walked", "park", "sidewalk", "stroll"),
            ("swim", "swam", "pool", "lake", "goggles"),
            ("sing", "sang", "song", "choir", "melody"),
            ("dance", "danced", "rhythm", "salsa", "music"),
            ("write", "wrote", "letter", "pen", "diary"),
            ("run", "ran", "marathon", "sprint", "jog"),
            ("eat", "ate", "meal", "fork", "appetite"),
            ("drink", "drank", "coffee", "cup", "thirst"),
            ("sleep", "slept", "bed", "pillow", "nap"),
            ("play", "played", "football", "team", "ball"),
            ("cook", "cooked", "kitchen", "recipe", "soup"),
            ("paint", "painted", "canvas", "brush", "portrait"),
            ("jump", "jumped", "fence", "hurdle", "trampoline"),
            ("listen", "listened", "radio", "podcast", "headphones"),
            ("climb", "climbed", "ladder", "rope", "cliff"),
            ("drive", "drove", "truck", "steering", "seatbelt"),
            ("fly", "flew", "plane", "pilot", "airport"),
            ("teach", "taught", "lesson", "teacher", "students"),
            ("buy", "bought", "store", "receipt", "bargain"),
            ("build", "built", "bricks", "cement", "hammer"),
            ("speak", "spoke", "speech", "language", "microphone"),
            ("think", "thought", "idea", "mind", "puzzle"),
            ("sell", "sold", "customer", "auction", "seller"),
            ("grow", "grew", "seeds", "soil", "harvest"),
            ("win", "won", "prize", "trophy", "medal"),
            ("lose", "lost", "defeat", "loser", "regret"),
            ("throw", "threw", "stone", "pitcher", "javelin"),
            ("cry", "cried", "sadness", "sob", "tissue"),
            ("wash", "washed", "soap", "dishes", "laundry"),
            ("study", "studied", "homework", "notes", "textbook"),
        )
    ),
)

PLURALS = Relation(
    section="gram8-plural",
    left=SINGULAR,
    right=PLURAL,
    pairs=_pairs(
        (
            ("cat", "cats", "whiskers", "purring", "yarn"),
            ("dog", "dogs", "leash", "bone", "kennel"),
            ("horse", "horses", "hooves", "hay", "jockey"),
            ("bird", "birds", "nest", "feathers", "beak"),
            ("apple", "apples", "orchard", "pie", "cider"),
            ("banana", "bananas", "peel", "tropical", "monkey"),
            ("car", "cars", "engine", "garage", "highway"),
            ("house", "houses", "roof", "chimney", "garden"),
            ("book", "books", "library", "pages", "author"),
            ("tree", "trees", "forest", "leaves", "branches"),
            ("child", "children", "nursery", "crayons", "toys"),
            ("window", "windows", "curtains", "pane", "sill"),
            ("door", "doors", "hinge", "knock", "doorway"),
            ("chair", "chairs", "table", "cushion", "armrest"),
            ("computer", "computers", "keyboard", "software", "screen"),
            ("phone", "phones", "charger", "ringtone", "texting"),
            ("shoe", "shoes", "laces", "socks", "heel"),
            ("flower", "flowers", "petals", "bloom", "vase"),
            ("mountain", "mountains", "peak", "summit", "climbers"),
            ("cloud", "clouds", "thunder", "sky", "fog"),
            ("egg", "eggs", "yolk", "omelette", "shell"),
            ("lion", "lions", "savanna", "mane", "roar"),
            ("snake", "snakes", "venom", "scales", "hiss"),
            ("dollar", "dollars", "money", "wallet", "price"),
            ("coin", "coins", "silver", "mint", "collector"),
            ("hand", "hands", "fingers", "gloves", "palm"),
            ("eye", "eyes", "vision", "eyelids", "tears"),
            ("key", "keys", "lock", "keyring", "locksmith"),
            ("boat", "boats", "harbor", "sail", "oars"),
            ("train", "trains", "railway", "platform", "carriage"),
        )
    ),
)

RELATIONS: tuple[Relation, ...] = (CAPITAL_WORLD, FAMILY, PAST_TENSE, PLURALS)


def _sides() -> Iterator[Side]:
    for relation in RELATIONS:
        yield relation.left
        yield relation.right


def check_lexicon() -> list[str]:
    """Return every broken rule of the lexicon (an empty list when it is consistent).

    Rules: each relation and topic word has one owner; pool words are none of those; a
    side's templates carry no other side's role words and background templates none at all.
    """
    problems: list[str] = []
    owner: dict[str, str] = {}

    def claim(word: str, who: str) -> None:
        for token in tokens_of(word):
            if token in owner and owner[token] != who:
                problems.append(f"{token!r} is used by {owner[token]} and {who}")
            owner.setdefault(token, who)

    for relation in RELATIONS:
        for pair in relation.pairs:
            claim(pair.left, f"{relation.section} word {pair.left}")
            claim(pair.right, f"{relation.section} word {pair.right}")
            for topic in pair.topics:
                claim(topic, f"topic of {pair.left}/{pair.right}")
    roles = {side.word_class: set(side.roles) for side in _sides()}
    for word_class, words in roles.items():
        for word in words:
            claim(word, f"role of {word_class}")
    for pool in (NOUNS, ADJECTIVES, SURNAMES):
        for word in pool:
            for token in tokens_of(word):
                if token in owner:
                    problems.append(f"pool word {token!r} is also the {owner[token]}")
    all_roles = set().union(*roles.values())
    planted = {word for word, who in owner.items() if not who.startswith("role of")}
    templates = [t for side in _sides() for t in (*side.templates, *side.partner_templates)]
    for template in (*templates, *BACKGROUND_TEMPLATES):
        clash = planted.intersection(tokens_of(template))
        if clash:
            problems.append(f"template {template!r} writes the planted word(s) {sorted(clash)}")
    for side in _sides():
        foreign = all_roles - roles[side.word_class]
        for template in side.templates:
            leaked = foreign.intersection(tokens_of(template))
            if leaked:
                problems.append(f"{side.word_class} template {template!r} has {sorted(leaked)}")
            if "w" not in template_fields(template):
                problems.append(f"{side.word_class} template {template!r} lacks {{w}}")
    for template in BACKGROUND_TEMPLATES:
        leaked = all_roles.intersection(tokens_of(template))
        if leaked:
            problems.append(f"background template {template!r} has {sorted(leaked)}")
    return problems
