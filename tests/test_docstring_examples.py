"""Every ``>>>`` example in the ``embedrec`` namespace runs (or says ``# doctest: +SKIP``).

Modules are found with ``pkgutil.walk_packages`` under each of the five package roots and
imported by their installed names; ``pytest --doctest-modules`` cannot be used, because with
package-dir it would import ``engine/x.py`` a second time as top-level ``engine.x``.
Examples that need data, a server or a GPU carry ``# doctest: +SKIP``.
"""

from __future__ import annotations

import doctest
import importlib
import pkgutil
from pathlib import Path

import pytest

ROOTS = (
    "embedrec",
    "embedrec.engine",
    "embedrec.pipelines",
    "embedrec.indexes",
    "embedrec.serving",
)
# Examples in modules being rewritten on another branch (issue 11 point 3) that still lack
# `# doctest: +SKIP` on their follow-on lines; the launch example would start torchrun.
# Remove an entry once its module's examples carry the marker.
PENDING: dict[str, str] = {}  # module → why its examples cannot run yet
NOT_IMPORTABLE = ("__main__",)  # `embedrec.__main__`, `embedrec.engine.__main__` run the CLI


def _module_names() -> list[str]:
    names = set(ROOTS)
    for root in ROOTS:
        package = importlib.import_module(root)
        for info in pkgutil.walk_packages(package.__path__, prefix=f"{root}."):
            names.add(info.name)
    return sorted(n for n in names if n.rsplit(".", 1)[-1] not in NOT_IMPORTABLE)


MODULES = _module_names()


def test_every_package_is_walked():
    for name in ("embedrec.core.errors", "embedrec.engine.skipgram.files", "embedrec.cli"):
        assert name in MODULES
    assert len(MODULES) > 120


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    if name in PENDING:
        pytest.skip(PENDING[name])
    module = importlib.import_module(name)
    monkeypatch.chdir(tmp_path)  # an example that writes files writes them here
    finder = doctest.DocTestFinder(exclude_empty=True)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    report: list[str] = []
    for test in finder.find(module, name):
        runner.run(test, out=report.append)
    failed, attempted = runner.summarize(verbose=False)
    assert failed == 0, f"{failed} of {attempted} examples failed in {name}:\n" + "".join(report)
