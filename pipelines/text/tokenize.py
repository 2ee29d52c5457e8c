"""Unicode-aware tokenising and sentence splitting of one line of text.

A line is a paragraph: sentences never span line breaks. Within a line a sentence ends at
``.``, ``!`` or ``?`` (optionally followed by closing quotes or brackets), then white space,
then the next sentence — unless the next character is a lower-case letter, which keeps
"e.g. the" and "approx. five" in one sentence.

A token is a run of letters (any script), combining marks, digits and ``_``, lower-cased.
Single apostrophes and hyphens inside a word keep it whole ("don't", "well-known"), as do
``.`` and ``,`` between digits ("3.14", "1,000"); anywhere else punctuation separates tokens
and is dropped. On text that is already lower-case words separated by white space the tokens
are exactly ``text.split()``.

>>> for sentence in tokenize_line('He said "Hi!" Then he left. The U.N. met e.g. twice.'):
...     print(sentence)
['he', 'said', 'hi']
['then', 'he', 'left']
['the', 'u', 'n', 'met', 'e', 'g', 'twice']

Long sentences are cut into rows of at most ``max_sentence_length`` tokens, as word2vec does
(see `chunk_lengths`).
"""

from __future__ import annotations

import functools
import re
import sys
import unicodedata

import numpy as np

# In-word joiners: ASCII and typographic apostrophes, ASCII hyphen, U+2010/U+2011 hyphens.
_JOINERS = "'’\\-\u2010\u2011"
_CLOSERS = "\"'”’»)\\]"


@functools.cache
def _combining_marks_class() -> str:
    """Character-class body of every combining mark (Mn, Mc, Me).

    Python's ``\\w`` leaves them out, which would cut words of Indic scripts (and decomposed
    accents) apart; the ``re`` module has no ``\\p{M}``, so the ranges come from unicodedata.
    """
    ranges: list[tuple[int, int]] = []
    for cp in range(sys.maxunicode + 1):
        if unicodedata.category(chr(cp))[0] == "M":
            if ranges and ranges[-1][1] == cp - 1:
                ranges[-1] = (ranges[-1][0], cp)
            else:
                ranges.append((cp, cp))
    return "".join(f"\\U{lo:08x}" if lo == hi else f"\\U{lo:08x}-\\U{hi:08x}" for lo, hi in ranges)


@functools.cache
def word_pattern() -> re.Pattern[str]:
    """The compiled token pattern (built once per process; ~0.1 s)."""
    w = f"[\\w{_combining_marks_class()}]"
    return re.compile(f"{w}+(?:(?:[{_JOINERS}]|(?<=\\d)[.,](?=\\d)){w}+)*")


_SENTENCE_END = re.compile(f"[.!?]+[{_CLOSERS}]*\\s+")


def split_sentences(line: str) -> list[str]:
    """Split one line (a paragraph) into sentences; see the module docstring for the rule.

    >>> split_sentences("It rained. Then it stopped! Did it? yes, e.g. twice")
    ['It rained. ', 'Then it stopped! ', 'Did it? yes, e.g. twice']
    """
    pieces: list[str] = []
    start = 0
    for match in _SENTENCE_END.finditer(line):
        end = match.end()
        if end < len(line) and line[end].islower():
            continue
        pieces.append(line[start:end])
        start = end
    if start < len(line):
        pieces.append(line[start:])
    return pieces


def tokenize(text: str) -> list[str]:
    """Lower-case ``text`` and return its tokens in order.

    >>> tokenize("Straße, naïve — l'homme well-known 3.14")
    ['straße', 'naïve', "l'homme", 'well-known', '3.14']
    """
    return word_pattern().findall(text.lower())


def tokenize_line(line: str) -> list[list[str]]:
    """Sentences of tokens of one line; sentences without any token are left out."""
    findall = word_pattern().findall
    sentences = []
    for sentence in split_sentences(line):
        tokens = findall(sentence.lower())
        if tokens:
            sentences.append(tokens)
    return sentences


def chunk_lengths(lengths: np.ndarray, max_length: int) -> tuple[np.ndarray, np.ndarray]:
    """Cut sentences longer than ``max_length`` into consecutive rows, dropping empty ones.

    ``lengths``: int (S,) tokens per sentence. Returns ``(row_lengths, rows_per_sentence)``:
    int64 (R,) lengths of the output rows in order, and int64 (S,) how many rows each
    sentence became (0 for an empty sentence).

    >>> chunk_lengths(np.array([3, 0, 7]), 3)
    (array([3, 3, 3, 1]), array([1, 0, 3]))
    """
    if max_length < 1:
        raise ValueError(f"max_length must be >= 1, got {max_length}")
    lengths = np.asarray(lengths, dtype=np.int64)
    rows_per_sentence = (lengths + max_length - 1) // max_length
    total_rows = int(rows_per_sentence.sum())
    row_lengths = np.full(total_rows, max_length, dtype=np.int64)
    nonempty = rows_per_sentence > 0
    last_row = np.cumsum(rows_per_sentence)[nonempty] - 1
    row_lengths[last_row] = lengths[nonempty] - (rows_per_sentence[nonempty] - 1) * max_length
    return row_lengths, rows_per_sentence
