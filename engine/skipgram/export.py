"""Export word vectors in the word2vec formats other tools read.

``word2vec-text``: a ``V dim`` header, then ``token v1 … vd`` per line.
``word2vec-binary``: the same header, then per word ``token``, a space, ``dim`` little-endian
float32 values and a newline (word2vec.c's ``-binary 1``). gensim reads both with
``KeyedVectors.load_word2vec_format(path, binary=...)``.

>>> export_word2vec("models/wiki", "wiki.vec", binary=False)        # doctest: +SKIP
ExportResult(path='wiki.vec', words=71290, dim=100, bytes=...)
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from embedrec.core.artifacts import atomic_path
from embedrec.engine.errors import EngineError
from embedrec.engine.skipgram.files import load_embeddings

FORMATS = ("word2vec-text", "word2vec-binary")
_CHUNK = 20_000


@dataclass(frozen=True)
class ExportResult:
    path: str
    format: str
    words: int
    dim: int
    bytes: int


def export_word2vec(model_dir: str | Path, out: str | Path, *, binary: bool) -> ExportResult:
    """Write the model's vectors to ``out`` (atomically), streaming in chunks."""
    emb = load_embeddings(model_dir)
    for token in emb.tokens:
        if not token or any(ch.isspace() for ch in token):
            raise EngineError(f"token {token!r} holds whitespace; word2vec formats cannot store it")
    vectors = emb.vectors
    with atomic_path(out) as tmp, open(tmp, "wb") as handle:
        handle.write(f"{len(emb)} {emb.dim}\n".encode())
        for start in range(0, len(emb), _CHUNK):
            chunk = np.asarray(vectors[start : start + _CHUNK], dtype="<f4")
            tokens = emb.tokens[start : start + _CHUNK]
            handle.write(_binary_rows(tokens, chunk) if binary else _text_rows(tokens, chunk))
    size = Path(out).stat().st_size
    return ExportResult(
        path=str(out),
        format="word2vec-binary" if binary else "word2vec-text",
        words=len(emb),
        dim=emb.dim,
        bytes=size,
    )


def _text_rows(tokens: list[str], chunk: np.ndarray) -> bytes:
    buffer = io.StringIO()
    for token, row in zip(tokens, chunk, strict=True):
        buffer.write(token)
        buffer.write(" ")
        buffer.write(" ".join(f"{x:.6g}" for x in row.tolist()))
        buffer.write("\n")
    return buffer.getvalue().encode("utf-8")


def _binary_rows(tokens: list[str], chunk: np.ndarray) -> bytes:
    parts = []
    for token, row in zip(tokens, chunk, strict=True):
        parts.append(token.encode("utf-8") + b" " + row.tobytes() + b"\n")
    return b"".join(parts)
