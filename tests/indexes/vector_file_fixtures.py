"""Small word-vector files in every format, written the way the tools that make them do.

word2vec text and binary come from gensim's own ``save_word2vec_format``; GloVe is the same
lines without the header; fastText ``.vec`` is the header plus lines ending in a space.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
from gensim.models import KeyedVectors

FORMAT_FILES = {
    "word2vec-text": "vectors.txt",
    "word2vec-binary": "vectors.bin",
    "glove-text": "glove.txt",
    "fasttext-vec": "wiki.vec",
}


def keyed_vectors(rows: int = 300, dim: int = 12, seed: int = 0) -> KeyedVectors:
    """Seeded vectors of varied lengths (as trained ones are), words ``w0``…, some non-ASCII."""
    rng = np.random.default_rng(seed)
    vectors = rng.standard_normal((rows, dim)) * rng.uniform(0.3, 4.0, size=(rows, 1))
    words = [f"w{i}" for i in range(rows)]
    words[-1], words[-2] = "straße", "東京"
    kv = KeyedVectors(dim)
    kv.add_vectors(words, vectors.astype(np.float32))
    return kv


def write_format(kv: KeyedVectors, directory: Path, fmt: str, *, gz: bool = False) -> Path:
    """Write ``kv`` as ``fmt`` (one of `FORMAT_FILES`) into ``directory``; ``.gz`` if asked.

    The file names say nothing true about the format ('vectors.bin' is the only binary), so
    tests also prove detection by content by renaming them.
    """
    path = directory / FORMAT_FILES[fmt]
    if fmt == "word2vec-text":
        kv.save_word2vec_format(str(path), binary=False)
    elif fmt == "word2vec-binary":
        kv.save_word2vec_format(str(path), binary=True)
    else:
        lines = [f"{word} {' '.join(repr(float(v)) for v in kv[word])}" for word in kv.index_to_key]
        if fmt == "fasttext-vec":
            header = f"{len(kv)} {kv.vector_size}\n"
            path.write_text(header + "".join(line + " \n" for line in lines), encoding="utf-8")
        else:
            path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    if gz:
        packed = path.with_name(path.name + ".gz")
        packed.write_bytes(gzip.compress(path.read_bytes()))
        path.unlink()
        return packed
    return path
