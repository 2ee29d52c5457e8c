"""Errors of the indexes package; each one a user can act on (the CLI prints one line).

>>> raise UnknownWordError("xyzzy", vocab_size=71290, suggestion="xyz")
Traceback (most recent call last):
...
embedrec.indexes.errors.UnknownWordError: unknown word 'xyzzy': not in the 71,290-word vocabulary; \
did you mean 'xyz'?
"""

from __future__ import annotations

import re
from pathlib import Path

from embedrec.core.errors import EmbedrecError


class UnknownWordError(EmbedrecError, LookupError):
    """A queried word is not in the index's vocabulary (HTTP maps it to 404).

    ``word`` is the word as asked; ``suggestion`` a close spelling that is in the
    vocabulary, or None.
    """

    def __init__(self, word: str, *, vocab_size: int, suggestion: str | None = None) -> None:
        self.word = word
        self.vocab_size = vocab_size
        self.suggestion = suggestion
        message = f"unknown word {word!r}: not in the {vocab_size:,}-word vocabulary"
        if suggestion is not None:
            message += f"; did you mean {suggestion!r}?"
        super().__init__(message)


class IndexBuildError(EmbedrecError):
    """FAISS refused to build, train or use an index (message says what and why)."""


class VectorFileError(EmbedrecError, ValueError):
    """A word-vector file (word2vec, GloVe, fastText) is malformed at a known place.

    ``line``: 1-based line of a text file; ``offset``: byte offset of a word2vec binary
    record (in the uncompressed stream for ``.gz``); ``reason``: what was found there and
    what was expected.

    >>> str(VectorFileError("glove.txt", "'0.1x' is not a number", line=7))
    "glove.txt: line 7: '0.1x' is not a number"
    """

    def __init__(
        self, path: str | Path, reason: str, line: int | None = None, offset: int | None = None
    ) -> None:
        self.path = str(path)
        self.reason = reason
        self.line = line
        self.offset = offset
        where = f"line {line}: " if line is not None else ""
        where = f"byte {offset}: " if offset is not None and line is None else where
        super().__init__(f"{path}: {where}{reason}")

    def __reduce__(self) -> tuple[type, tuple[str, str, int | None, int | None]]:
        return (type(self), (self.path, self.reason, self.line, self.offset))


class MissingDependencyError(EmbedrecError, ImportError):
    """An optional package a feature needs is not installed (message names the install)."""

    def __init__(self, package: str, feature: str) -> None:
        self.package = package
        self.feature = feature
        super().__init__(
            f"{feature} needs {package}, which is not installed: pip install {package}"
        )

    def __reduce__(self) -> tuple[type, tuple[str, str]]:
        return (type(self), (self.package, self.feature))


_FAISS_LOCATION = re.compile(r"^Error in .*? at \S+:\d+: ", re.DOTALL)


def faiss_message(exc: BaseException) -> str:
    """The useful part of a FAISS C++ exception (drops the function signature and file).

    >>> faiss_message(RuntimeError("Error in f() at /faiss/x.cpp:12: could not parse 'IVFx'"))
    "could not parse 'IVFx'"
    """
    text = str(exc).strip()
    text = _FAISS_LOCATION.sub("", text)
    return text.removeprefix("Error: ").splitlines()[0] if text else type(exc).__name__
