"""embedrec: raw text and click logs to embeddings, FAISS indexes and a ranking service.

The four packages follow the flow, each importing only those before it:

- ``embedrec.pipelines``: raw text and click logs → Parquet datasets (Dask)
- ``embedrec.engine``: skip-gram and the click ranker on TorchRec tables
- ``embedrec.indexes``: FAISS indexes, neighbours, analogies, evaluation
- ``embedrec.serving``: the HTTP service, its Python client and the explorer page

``embedrec.core`` is what all four share (errors, artifact manifests, CLI plumbing, metrics).
Importing this package loads none of them.

>>> import embedrec
>>> embedrec.__version__ == embedrec.version()
True
"""

from __future__ import annotations

from importlib import metadata


def version() -> str:
    """The installed distribution's version (``0+unknown`` when run from a bare checkout)."""
    try:
        return metadata.version("embedrec")
    except metadata.PackageNotFoundError:
        return "0+unknown"


__version__ = version()
__all__ = ["__version__", "version"]
