"""Peak memory of indexing a large word-vector file: is the table held once, or twice?

    .venv/bin/python bench/vector_file_memory.py                      # 1M × 300 binary, ~2 min
    .venv/bin/python bench/vector_file_memory.py --format glove-text --rows 200000
    .venv/bin/python bench/vector_file_memory.py --mode load          # load_index(FILE)

Writes a seeded synthetic file of ROWS × DIM vectors (word2vec binary by default; word2vec
text, GloVe and fastText .vec too) into a temporary directory (removed afterwards unless
--keep), then, in a fresh child process, runs the real CLI (`embedrec index build FILE --out
DIR --kind flat`) or `load_index(FILE)` and reads the child's peak RSS (ru_maxrss, what
`/usr/bin/time -v` calls "Maximum resident set size"). Reports the table's size (rows ×
dim × 4 bytes), the child's RSS after its imports (baseline) and its peak: the table is held
once when peak − baseline ≈ table + a few chunks and the vocabulary, twice when it nears
2 × table. Memory needs no bench lock; the seconds are indicative (a shared machine).
A JSON record goes to bench/results/vector_file_memory.json.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parent.parent
FORMATS = ("word2vec-binary", "word2vec-text", "glove-text", "fasttext-vec")
CHUNK = 65_536


def write_vectors(path: Path, rows: int, dim: int, fmt: str, seed: int = 0) -> None:
    """A seeded ROWS × DIM file in ``fmt``, written chunk by chunk (never whole in memory)."""
    rng = np.random.default_rng(seed)
    row_format = " ".join(["%.5f"] * dim)
    end = b" \n" if fmt == "fasttext-vec" else b"\n"
    with open(path, "wb") as handle:
        if fmt != "glove-text":
            handle.write(f"{rows} {dim}\n".encode())
        for start in range(0, rows, CHUNK):
            block = rng.standard_normal((min(CHUNK, rows - start), dim), dtype=np.float32)
            words = [f"w{i}".encode() for i in range(start, start + len(block))]
            if fmt == "word2vec-binary":
                body = b"".join(w + b" " + v.tobytes() for w, v in zip(words, block, strict=True))
            else:
                lines = (
                    w + b" " + (row_format % tuple(v)).encode()
                    for w, v in zip(words, block, strict=True)
                )
                body = end.join(lines) + end
            handle.write(body)


def _peak_rss() -> int:
    """This process's peak resident memory since its exec (``VmHWM``), in bytes.

    Not ``getrusage(...).ru_maxrss``: Linux carries that across exec, so a child started from
    a big parent (a pytest process with torch loaded) reports the parent's size.
    """
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # not Linux


def child(mode: str, path: str, out: str) -> None:
    """Run in a fresh process: import, note the baseline, index, print the figures as JSON."""
    import faiss  # noqa: F401  (imported lazily by the library; counted in the baseline)
    import psutil
    import pyarrow.parquet  # noqa: F401
    import tqdm  # noqa: F401

    from embedrec.cli import root
    from embedrec.core.cli_support import run_cli
    from embedrec.indexes.index_dir import load_index

    baseline = psutil.Process().memory_info().rss
    started = time.perf_counter()
    if mode == "build":
        code = run_cli(root, ["index", "build", path, "--out", out, "--kind", "flat", "--json"])
        if code != 0:
            raise SystemExit(code)
    else:
        index = load_index(path)
        index.neighbors(index.token(0), k=10)
    seconds = time.perf_counter() - started
    peak = _peak_rss()
    print(json.dumps({"baseline_rss": baseline, "peak_rss": peak, "seconds": seconds}))


def measure(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    path = workdir / "vectors.data"  # the name says nothing: the content decides the format
    started = time.perf_counter()
    write_vectors(path, args.rows, args.dim, args.format)
    written = time.perf_counter() - started
    command = [sys.executable, __file__, "--child", args.mode, str(path), str(workdir / "index")]
    result = subprocess.run(command, capture_output=True, text=True, cwd=REPO, check=False)
    if result.returncode != 0:
        raise SystemExit(f"child failed ({result.returncode}):\n{result.stderr[-3000:]}")
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    table = args.rows * args.dim * 4
    over = figures["peak_rss"] - figures["baseline_rss"]
    return {
        "mode": args.mode,
        "format": args.format,
        "rows": args.rows,
        "dim": args.dim,
        "file_bytes": path.stat().st_size,
        "table_bytes": table,
        "baseline_rss": figures["baseline_rss"],
        "peak_rss": figures["peak_rss"],
        "peak_over_baseline": over,
        "tables_held": round(over / table, 2),
        "write_seconds": round(written, 1),
        "index_seconds": round(figures["seconds"], 1),
    }


def _mib(value: int) -> str:
    return f"{value / 2**20:,.0f} MiB"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--dim", type=int, default=300)
    parser.add_argument("--format", choices=FORMATS, default="word2vec-binary")
    parser.add_argument("--mode", choices=("build", "load"), default="build")
    parser.add_argument("--workdir", type=Path, help="where the file goes (default: a temp dir)")
    parser.add_argument("--keep", action="store_true", help="keep the file and the index")
    parser.add_argument("--child", nargs=3, metavar=("MODE", "FILE", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return
    workdir = Path(tempfile.mkdtemp(prefix="vector-file-memory-", dir=args.workdir))
    try:
        record = measure(args, workdir)
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    print(
        f"| {args.mode} | {args.format} | {args.rows:,} × {args.dim} | table "
        f"{_mib(record['table_bytes'])} | baseline {_mib(record['baseline_rss'])} | peak "
        f"{_mib(record['peak_rss'])} | peak − baseline = {record['tables_held']} × table | "
        f"{record['index_seconds']} s |"
    )
    results = REPO / "bench" / "results"
    results.mkdir(parents=True, exist_ok=True)
    with open(results / "vector_file_memory.json", "a") as handle:
        handle.write(json.dumps(record) + "\n")


if __name__ == "__main__":
    main()
