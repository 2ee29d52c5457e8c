"""Reading word-vector test sets: analogy questions and word-pair similarity judgements.

Analogy questions (word2vec's ``questions-words.txt``)::

    : capital-common-countries
    Athens Greece Baghdad Iraq          a b c d   meaning  a : b :: c : d

Word pairs (WordSim-353, SimLex-999)::

    # comment
    tiger<TAB>cat<TAB>7.35

Words are lower-cased. Lines starting with ``#`` and blank lines are skipped; malformed
lines are counted (by line number) and left out, never silently.

>>> questions = read_analogy_questions("eval/questions-words.txt")   # doctest: +SKIP
>>> questions.sections[0].name, len(questions.sections[0].questions)  # doctest: +SKIP
('capital-common-countries', 506)
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

from embedrec.core.errors import InputError

Question = tuple[str, str, str, str]


@dataclass(frozen=True)
class AnalogySection:
    name: str
    questions: list[Question] = field(default_factory=list)


@dataclass(frozen=True)
class AnalogyQuestions:
    """Sections in file order; ``invalid_lines``: 1-based numbers of malformed lines."""

    sections: list[AnalogySection]
    invalid_lines: list[int]

    @property
    def count(self) -> int:
        return sum(len(s.questions) for s in self.sections)


@dataclass(frozen=True)
class WordPairs:
    """(word1, word2, human score) triples; ``invalid_lines`` as in `AnalogyQuestions`."""

    pairs: list[tuple[str, str, float]]
    invalid_lines: list[int]


def _read_lines(path: str | Path) -> list[str]:
    p = Path(path)
    try:
        return p.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise InputError(p, "does not exist") from None
    except IsADirectoryError:
        raise InputError(p, "is a directory, expected a text file") from None
    except UnicodeDecodeError as exc:
        raise InputError(p, f"is not UTF-8 text ({exc.reason} at byte {exc.start})") from None


def read_analogy_questions(path: str | Path) -> AnalogyQuestions:
    """Parse an analogy file; `InputError` when a question comes before any section."""
    sections: list[AnalogySection] = []
    invalid: list[int] = []
    for number, line in enumerate(_read_lines(path), start=1):
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        if text.startswith(":"):
            sections.append(AnalogySection(text.lstrip(":").strip()))
            continue
        words = text.lower().split()
        if len(words) != 4:
            invalid.append(number)
            continue
        if not sections:
            raise InputError(path, f"line {number}: question before any ': section' line")
        sections[-1].questions.append((words[0], words[1], words[2], words[3]))
    if not any(s.questions for s in sections):
        raise InputError(path, "holds no analogy questions (expected ': section' then 'a b c d')")
    return AnalogyQuestions(sections=sections, invalid_lines=invalid)


def read_word_pairs(path: str | Path) -> WordPairs:
    """Parse tab-separated ``word1 word2 score`` lines (whitespace when a line has no tab)."""
    pairs: list[tuple[str, str, float]] = []
    invalid: list[int] = []
    for number, line in enumerate(_read_lines(path), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        fields = line.strip().split("\t") if "\t" in line else line.split()
        try:
            first, second, text_score = (f.strip() for f in fields)
            score = float(text_score)
            if not math.isfinite(score) or not first or not second:
                raise ValueError(line)
            pairs.append((first.lower(), second.lower(), score))
        except ValueError:
            invalid.append(number)
    if not pairs:
        raise InputError(path, "holds no word pairs (expected 'word1<TAB>word2<TAB>score')")
    return WordPairs(pairs=pairs, invalid_lines=invalid)
