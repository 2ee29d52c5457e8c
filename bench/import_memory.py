"""Resident memory each library adds on import, one after another in a fresh interpreter.

    .venv/bin/python bench/import_memory.py          # ~30 s; prints the markdown table

Each step imports more of what a skip-gram run needs and reads VmRSS of the child process
(Linux ``/proc/self/status``), so the "added" column is what that import brought in on top
of the ones before it.
"""

from __future__ import annotations

import json
import subprocess
import sys

STEPS = (
    ("python", ""),
    ("numpy + pyarrow", "import numpy, pyarrow, pyarrow.parquet"),
    ("torch", "import torch"),
    ("fbgemm_gpu (CPU)", "import fbgemm_gpu"),
    ("torchrec", "import torchrec, torchrec.distributed"),
    ("numba", "import numba"),
    (
        "embedrec's engine",
        "import embedrec.engine.skipgram.train, embedrec.engine.skipgram.hogwild_kernel",
    ),
)

CHILD = r"""
import json, sys
def rss():
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
out = []
for name, code in json.loads(sys.argv[1]):
    exec(code)
    out.append([name, rss()])
print(json.dumps(out))
"""


def main() -> None:
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, json.dumps(STEPS)], check=True, capture_output=True, text=True
    )
    rows = json.loads(proc.stdout.strip().splitlines()[-1])
    print("| import | RSS after | added |")
    print("|---|---:|---:|")
    before = 0
    for name, rss in rows:
        print(f"| {name} | {rss / 2**20:.0f} MB | {(rss - before) / 2**20:.0f} MB |")
        before = rss


if __name__ == "__main__":
    main()
