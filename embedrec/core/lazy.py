"""Package faces that import their names on first use.

A package's ``__init__`` lists its public names and the modules that define them; nothing is
imported until a name is read, so ``import embedrec.engine`` loads no torch and importing an
error class does not load a pipeline.

>>> getattr_, dir_ = lazy_exports("pkg", {"sqrt": "math"})
>>> getattr_("sqrt")(4.0)
2.0
>>> "sqrt" in dir_()
True
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable
from typing import Any


def lazy_exports(
    package: str, public: dict[str, str]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """``(__getattr__, __dir__)`` for a package whose ``public`` maps name → defining module."""

    def __getattr__(name: str) -> Any:
        module = public.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
        namespace = sys.modules.get(package)
        if namespace is not None:
            setattr(namespace, name, value)
        return value

    def __dir__() -> list[str]:
        namespace = sys.modules.get(package)
        own = set(vars(namespace)) if namespace is not None else set()
        return sorted(own | set(public))

    return __getattr__, __dir__
