"""Word → row id, the way a user expects: exact, or case-insensitive for a lower-case
vocabulary, with a close-spelling suggestion when the word is unknown.

>>> lookup = VocabLookup(["the", "king", "queen"])
>>> lookup.id("King")
1
>>> lookup.suggest("quen")      # lookup.id("quen") raises UnknownWordError naming both
'queen'
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence

from embedrec.indexes.errors import UnknownWordError

# Suggestions come from the most frequent words only: difflib over a million tokens would
# make a typo cost seconds.
SUGGEST_FROM = 50_000


class VocabLookup:
    """Token ids of a vocabulary (ids are positions in ``tokens``)."""

    def __init__(self, tokens: Sequence[str]) -> None:
        self.tokens = tokens
        self._ids = {token: i for i, token in enumerate(tokens)}
        self.lowercase = all(token == token.lower() for token in tokens)

    def __len__(self) -> int:
        return len(self.tokens)

    def __contains__(self, word: object) -> bool:
        return isinstance(word, str) and self.find(word) is not None

    def find(self, word: str) -> int | None:
        """The id of ``word`` or None."""
        found = self._ids.get(word)
        if found is None and self.lowercase:
            found = self._ids.get(word.lower())
        return found

    def id(self, word: str) -> int:
        """The id of ``word``; `UnknownWordError` (with a suggestion) when absent."""
        found = self.find(word)
        if found is None:
            raise UnknownWordError(word, vocab_size=len(self.tokens), suggestion=self.suggest(word))
        return found

    def suggest(self, word: str) -> str | None:
        """A frequent vocabulary word spelled like ``word``, or None."""
        probe = word.lower() if self.lowercase else word
        matches = difflib.get_close_matches(probe, self.tokens[:SUGGEST_FROM], n=1, cutoff=0.75)
        return matches[0] if matches else None


def first_ids_casefolded(tokens: Sequence[str], words: Iterable[str]) -> dict[str, int]:
    """Lower-cased ``words`` → id of their first case-insensitive match in ``tokens``.

    The evaluation lookup of word2vec's compute-accuracy and gensim's
    ``case_insensitive=True``: with several case variants the first (most frequent) wins.
    Words with no match are left out.

    >>> first_ids_casefolded(["Paris", "paris", "Rome"], ["paris", "berlin"])
    {'paris': 0}
    """
    wanted = {w.lower() for w in words}
    found: dict[str, int] = {}
    for i, token in enumerate(tokens):
        folded = token.lower()
        if folded in wanted and folded not in found:
            found[folded] = i
            if len(found) == len(wanted):
                break
    return found
