"""Artifact directories: atomic writes, manifests and the overwrite rule.

Every artifact directory (dataset, model, index) carries ``manifest.json`` saying what made
it: command, config, versions, input fingerprints, row counts and creation time. Writes are
atomic (temp name, fsync, rename) so a crash never leaves a half file that looks whole, and a
whole output directory is built beside its final name and renamed into place at the end.

>>> with staged_output_dir(tmp / "out", overwrite=False) as stage:   # doctest: +SKIP
...     write_json(stage / "config.json", {"dim": 100})
...     write_manifest(stage, kind="text-dataset", config={}, counts={"rows": 3})
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import functools
import hashlib
import importlib.metadata
import json
import os
import platform
import shutil
import sys
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from embedrec.core.errors import ArtifactError, OutputExistsError

MANIFEST = "manifest.json"
MANIFEST_VERSION = 1
_VERSIONED_PACKAGES = (
    "embedrec",
    "torch",
    "torchrec",
    "fbgemm-gpu-cpu",
    "fbgemm-gpu",
    "faiss-cpu",
    "dask",
    "pyarrow",
    "numpy",
)
# Inputs up to this size are hashed whole; larger ones by head, tail and size, which is
# enough to notice a changed file without reading gigabytes on every run.
_FULL_HASH_LIMIT = 256 * 1024 * 1024
_PARTIAL_HASH_CHUNK = 4 * 1024 * 1024


@functools.cache
def _umask() -> int:
    current = os.umask(0)  # the only way to read it; done once, before any worker threads
    os.umask(current)
    return current


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success fsync it and rename it into place.

    For writers that want a file name (pyarrow, faiss, torch.save). On an exception the
    temporary file is removed and ``path`` is untouched.
    """
    final = Path(path)
    final.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{final.name}.", suffix=".tmp", dir=final.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; artifacts are shared like any file
    try:
        yield tmp
        with open(tmp, "rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, final)
        _fsync_dir(final.parent)
    finally:
        if tmp.exists():
            tmp.unlink()


def write_bytes(path: str | Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically."""
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def write_text(path: str | Path, text: str) -> None:
    """Write UTF-8 ``text`` to ``path`` atomically."""
    write_bytes(path, text.encode("utf-8"))


def write_json(path: str | Path, obj: Any) -> None:
    """Write ``obj`` as indented JSON to ``path`` atomically."""
    write_text(path, json.dumps(obj, indent=2, sort_keys=True, default=_json_default) + "\n")


def read_json(path: str | Path) -> Any:
    """Read a JSON file, turning a missing or garbled file into an `ArtifactError`."""
    p = Path(path)
    try:
        return json.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ArtifactError(p, "is missing") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ArtifactError(p, f"is not valid JSON ({exc})") from None


def _json_default(value: Any) -> Any:
    if isinstance(value, Path):
        return str(value)
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    if isinstance(value, set | frozenset):
        return sorted(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


@contextlib.contextmanager
def staged_output_dir(out: str | Path, *, overwrite: bool) -> Iterator[Path]:
    """Build an artifact directory beside ``out`` and move it into place on success.

    Refuses with `OutputExistsError` when ``out`` exists and is not empty unless
    ``overwrite``. On an exception the staging directory is removed and ``out`` is untouched.
    """
    final = Path(out)
    check_output_dir(final, overwrite=overwrite)
    final.parent.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=f".{final.name}.", suffix=".staging", dir=final.parent))
    os.chmod(stage, 0o777 & ~_umask())
    try:
        yield stage
        if final.exists():
            trash = final.with_name(f".{final.name}.old-{os.getpid()}")
            os.replace(final, trash)
            os.replace(stage, final)
            shutil.rmtree(trash, ignore_errors=True)
        else:
            os.replace(stage, final)
        _fsync_dir(final.parent)
    finally:
        if stage.exists():
            shutil.rmtree(stage, ignore_errors=True)


def check_output_dir(out: str | Path, *, overwrite: bool) -> None:
    """Raise `OutputExistsError` when ``out`` holds anything and ``overwrite`` is false."""
    final = Path(out)
    if final.exists() and not final.is_dir():
        raise ArtifactError(final, "exists and is not a directory")
    if final.exists() and any(final.iterdir()) and not overwrite:
        raise OutputExistsError(final)


def fingerprint(path: str | Path) -> dict[str, Any]:
    """Identify an input file or directory: size, mtime and sha256 (partial for huge files).

    >>> fingerprint("corpus.txt")                                       # doctest: +SKIP
    {'path': '/abs/corpus.txt', 'bytes': 12, 'sha256': '…', 'hashed': 'full', ...}
    """
    p = Path(path)
    if p.is_dir():
        files = sorted(f for f in p.rglob("*") if f.is_file() and not f.name.startswith("."))
        digest = hashlib.sha256()
        total = 0
        for f in files:
            fp = fingerprint(f)
            total += fp["bytes"]
            digest.update(f"{f.relative_to(p)}:{fp['sha256']}\n".encode())
        return {
            "path": str(p.resolve()),
            "bytes": total,
            "files": len(files),
            "sha256": digest.hexdigest(),
            "hashed": "tree",
        }
    stat = p.stat()
    digest = hashlib.sha256()
    with open(p, "rb") as handle:
        if stat.st_size <= _FULL_HASH_LIMIT:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
            how = "full"
        else:
            digest.update(handle.read(_PARTIAL_HASH_CHUNK))
            handle.seek(stat.st_size - _PARTIAL_HASH_CHUNK)
            digest.update(handle.read(_PARTIAL_HASH_CHUNK))
            digest.update(str(stat.st_size).encode())
            how = "head+tail+size"
    mtime = _dt.datetime.fromtimestamp(stat.st_mtime, _dt.UTC).isoformat()
    return {
        "path": str(p.resolve()),
        "bytes": stat.st_size,
        "mtime": mtime,
        "sha256": digest.hexdigest(),
        "hashed": how,
    }


def package_versions() -> dict[str, str]:
    """Versions of the packages whose behaviour shapes an artifact (absent ones left out)."""
    versions = {"python": platform.python_version()}
    for name in _VERSIONED_PACKAGES:
        with contextlib.suppress(importlib.metadata.PackageNotFoundError):
            versions[name] = importlib.metadata.version(name)
    return versions


def write_manifest(
    directory: str | Path,
    *,
    kind: str,
    config: Mapping[str, Any] | None = None,
    inputs: Sequence[Mapping[str, Any]] = (),
    counts: Mapping[str, Any] | None = None,
    extra: Mapping[str, Any] | None = None,
    command: Sequence[str] | None = None,
) -> dict[str, Any]:
    """Write ``manifest.json`` into ``directory`` and return what was written.

    ``kind`` names the artifact (``text-dataset``, ``click-dataset``, ``skipgram-model``,
    ``ranker-model``, ``index``); readers check it with `read_manifest`.
    """
    manifest: dict[str, Any] = {
        "manifest_version": MANIFEST_VERSION,
        "kind": kind,
        "created_at": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "command": list(command) if command is not None else list(sys.argv),
        "versions": package_versions(),
        "config": dict(config or {}),
        "inputs": [dict(i) for i in inputs],
        "counts": dict(counts or {}),
    }
    manifest.update(extra or {})
    write_json(Path(directory) / MANIFEST, manifest)
    return manifest


def read_manifest(directory: str | Path, *, kinds: Sequence[str] | None = None) -> dict[str, Any]:
    """Read ``manifest.json``; raise `ArtifactError` when missing or of another kind."""
    d = Path(directory)
    if not d.exists():
        raise ArtifactError(d, "does not exist")
    if not d.is_dir():
        raise ArtifactError(d, "is not a directory (expected an embedrec artifact directory)")
    manifest = read_json(d / MANIFEST)
    if kinds is not None and manifest.get("kind") not in kinds:
        expected = " or ".join(kinds)
        raise ArtifactError(d, f"is a {manifest.get('kind')!r} artifact, expected {expected}")
    return dict(manifest)
