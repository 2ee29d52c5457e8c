"""Names of the indexes one service serves: ``embedrec serve NAME=DIR [NAME=DIR ...]``.

A bare ``DIR`` is named after its folder (``indexes/wiki-hnsw`` → ``wiki-hnsw``), or
``default`` when the folder name is not a usable name. Names are what requests pick an
index by (``?index=wiki``) and what the explorer shows instead of a server path.

>>> parse_index_spec("wiki=indexes/wiki-hnsw")
('wiki', 'indexes/wiki-hnsw')
>>> parse_index_spec("indexes/wiki-hnsw")
('wiki-hnsw', 'indexes/wiki-hnsw')
>>> parse_index_spec("/")
('default', '/')
>>> check_index_name("no spaces")  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
embedrec.core.errors.ConfigError: index name: got 'no spaces', expected 1 to 64 letters, ...
"""

from __future__ import annotations

import re
from pathlib import PurePath

from embedrec.core.errors import ConfigError

DEFAULT_NAME = "default"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
NAME_RULE = "1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit"


def is_index_name(name: object) -> bool:
    return isinstance(name, str) and bool(_NAME.match(name))


def check_index_name(name: object, key: str = "index name") -> str:
    """``name`` if it is a valid index name, else `ConfigError` naming ``key``."""
    if not is_index_name(name):
        raise ConfigError(key, name, NAME_RULE)
    return str(name)


def name_from_path(path: str) -> str:
    """The folder's name when it is a valid index name, else ``default``."""
    folder = PurePath(path.rstrip("/") or "/").name
    return folder if is_index_name(folder) else DEFAULT_NAME


def parse_index_spec(spec: str) -> tuple[str, str]:
    """``NAME=DIR`` → ``(NAME, DIR)``; a bare ``DIR`` → ``(name_from_path(DIR), DIR)``.

    A ``=`` counts as a separator only when what precedes it is a valid name and the
    rest is not empty, so a directory whose name holds ``=`` can still be given with a
    ``./`` in front.
    """
    name, sep, path = spec.partition("=")
    if sep and path and "/" not in name:
        return check_index_name(name, f"index name in {spec!r}"), path
    return name_from_path(spec), spec
