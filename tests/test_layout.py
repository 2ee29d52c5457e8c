"""The house: one ``embedrec`` namespace, light package faces, small folders, no import circle.

The four folders stay at the top of the repository and install under ``embedrec`` through
setuptools' package-dir (pyproject.toml); these checks keep that mapping, the wheel's face
and the import graph honest. Whether the wheel installs and runs outside the checkout is
``make dist-check``'s job.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# Source folder → import prefix, as pyproject.toml's [tool.setuptools.package-dir] maps them.
FOLDERS = {
    "embedrec": "embedrec",
    "engine": "embedrec.engine",
    "pipelines": "embedrec.pipelines",
    "indexes": "embedrec.indexes",
    "serving": "embedrec.serving",
}
GENERIC_NAMES = ("engine", "pipelines", "indexes", "serving")
HEAVY = ("torch", "pyarrow", "dask")
MAX_MODULES_PER_FOLDER = 20


def _pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def _package_dirs() -> Iterator[tuple[Path, str]]:
    """Every folder with an ``__init__.py`` in the five roots, with its import name."""
    for folder, prefix in FOLDERS.items():
        for init in sorted((ROOT / folder).rglob("__init__.py")):
            rel = init.parent.relative_to(ROOT / folder)
            yield init.parent, ".".join([prefix, *rel.parts])


def _modules() -> dict[str, Path]:
    """Import name → source file, for every module of the namespace."""
    found: dict[str, Path] = {}
    for directory, package in _package_dirs():
        for path in sorted(directory.glob("*.py")):
            found[package if path.stem == "__init__" else f"{package}.{path.stem}"] = path
    return found


def _python(code: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run ``python -c code`` in ``cwd`` (outside the checkout, so only installed names count)."""
    return subprocess.run(
        [sys.executable, "-c", code], cwd=cwd, capture_output=True, text=True, timeout=120
    )


def test_declared_packages_are_the_folders_with_init():
    declared = _pyproject()["tool"]["setuptools"]["packages"]
    assert sorted(declared) == sorted(name for _, name in _package_dirs())
    mapping = _pyproject()["tool"]["setuptools"]["package-dir"]
    assert mapping == {prefix: folder for folder, prefix in FOLDERS.items()}


def test_namespace_imports_and_generic_names_do_not(tmp_path: Path):
    code = f"""
import importlib.util, json
import embedrec, embedrec.engine, embedrec.pipelines, embedrec.indexes, embedrec.serving
print(json.dumps({{n: importlib.util.find_spec(n) is not None for n in {GENERIC_NAMES!r}}}))
"""
    result = _python(code, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == dict.fromkeys(GENERIC_NAMES, False)


def test_python_dash_m_embedrec_is_the_cli(tmp_path: Path):
    result = subprocess.run(
        [sys.executable, "-m", "embedrec", "--help"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "Usage:" in result.stdout
    for command in ("demo", "text-pipeline", "train", "index", "query", "serve"):
        assert command in result.stdout


def test_py_typed_ships():
    assert (ROOT / "embedrec" / "py.typed").is_file()
    assert "py.typed" in _pyproject()["tool"]["setuptools"]["package-data"]["embedrec"]


@pytest.mark.parametrize(
    "module",
    [
        "embedrec",
        "embedrec.core.errors",
        "embedrec.engine.errors",
        "embedrec.indexes.errors",
        "embedrec.engine",
        "embedrec.pipelines",
        "embedrec.indexes",
        "embedrec.serving",
    ],
)
def test_light_imports_load_no_pipeline_and_no_heavy_library(module: str, tmp_path: Path):
    code = f"""
import json, sys
import {module}
print(json.dumps(sorted(sys.modules)))
"""
    result = _python(code, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    loaded = json.loads(result.stdout)
    pipelines = [name for name in loaded if name.startswith("embedrec.pipelines.")]
    heavy = [name for name in loaded if name.split(".")[0] in HEAVY]
    assert pipelines == [], f"import {module} loads pipelines modules"
    assert heavy == [], f"import {module} loads heavy libraries"


def test_no_folder_holds_more_than_20_modules():
    crowded = {
        str(directory.relative_to(ROOT)): count
        for directory, _ in _package_dirs()
        if (count := len(list(directory.glob("*.py")))) > MAX_MODULES_PER_FOLDER
    }
    assert crowded == {}


def _resolve(module: str, is_package: bool, node: ast.ImportFrom) -> str:
    """The absolute module name of a ``from ... import`` (relative ones resolved)."""
    if node.level == 0:
        return node.module or ""
    parts = module.split(".")
    base = parts if is_package else parts[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def _is_type_checking(node: ast.stmt) -> bool:
    test = node.test if isinstance(node, ast.If) else None
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(tree: ast.Module, *, deferred: bool) -> Iterator[ast.Import | ast.ImportFrom]:
    """Imports that run when the module is imported (never those under TYPE_CHECKING);
    with ``deferred``, also those inside functions and classes."""
    pending: list[ast.AST] = list(tree.body)
    while pending:
        node = pending.pop()
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
        elif isinstance(node, ast.If) and _is_type_checking(node):
            pending.extend(node.orelse)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            if deferred:
                pending.extend(node.body)
        elif isinstance(node, ast.stmt):
            pending.extend(
                child for child in ast.iter_child_nodes(node) if isinstance(child, ast.stmt)
            )
            if isinstance(node, ast.Try):
                pending.extend(stmt for handler in node.handlers for stmt in handler.body)


def _import_graph(*, deferred: bool = False) -> dict[str, set[str]]:
    modules = _modules()
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in _imports(tree, deferred=deferred):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            else:
                base = _resolve(name, path.stem == "__init__", node)
                targets = [
                    f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base
                    for alias in node.names
                ]
            graph[name].update(t for t in targets if t in modules and t != name)
    return graph


def _find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import circle as ``[a, b, ..., a]``, or None (iterative depth-first search)."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    for start in sorted(graph):
        if state.get(start):
            continue
        path: list[str] = [start]
        children = [iter(sorted(graph[start]))]
        state[start] = 1
        while children:
            child = next(children[-1], None)
            if child is None:
                state[path.pop()] = 2
                children.pop()
            elif state.get(child) == 1:
                return [*path[path.index(child) :], child]
            elif not state.get(child):
                state[child] = 1
                path.append(child)
                children.append(iter(sorted(graph[child])))
    return None


def test_cycle_finder_reports_the_circle():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert _find_cycle(graph) == ["a", "b", "c", "a"]
    assert _find_cycle({"a": {"b"}, "b": set()}) is None


def test_no_import_circle_among_project_modules():
    graph = _import_graph()
    assert len(graph) > 100 and graph["embedrec.cli"], "the import graph looks empty"
    cycle = _find_cycle(graph)
    assert cycle is None, "import circle: " + " → ".join(cycle or [])


def test_no_import_circle_counting_deferred_imports():
    cycle = _find_cycle(_import_graph(deferred=True))
    assert cycle is None, "import circle through a deferred import: " + " → ".join(cycle or [])


MAX_FUNCTION_LINES = 80


def test_no_function_over_80_lines():
    """Long work reads as a short recipe over named steps (issue 11): no def over 80 lines."""
    long = []
    for name, path in _modules().items():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                lines = (node.end_lineno or node.lineno) - node.lineno + 1
                if lines > MAX_FUNCTION_LINES:
                    long.append(f"{name}.{node.name}: {lines} lines")
    assert not long, "functions over 80 lines: " + "; ".join(long)
