"""A missing torchrec, fbgemm, faiss, torch or serving/plot library is one line naming the fix.

Each case runs the real CLI in a subprocess in which the library cannot be imported
(``sys.modules[name] = None`` makes every ``import name`` raise ModuleNotFoundError).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

LEGACY = Path(__file__).parent / "assets" / "legacy"
BLOCKED_CLI = """
import sys
for name in sys.argv[1].split(","):
    sys.modules[name] = None
from embedrec.cli import main
main(sys.argv[2:])
"""


def _embedrec_without(blocked: str, *args: object, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", BLOCKED_CLI, blocked, *map(str, args)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_help_needs_none_of_the_heavy_libraries(tmp_path):
    result = _embedrec_without(
        "torch,torchrec,fbgemm_gpu,faiss,fastapi,uvicorn,matplotlib,pyarrow,dask", "--help",
        cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "Usage: embedrec" in result.stdout


@pytest.mark.parametrize(
    ("blocked", "command", "fix"),
    [
        (
            "torchrec",
            ["train", "skipgram", LEGACY / "text", "--out", "m", "--epochs", "1"],
            "torchrec is not installed — pip install --no-deps torchrec==1.8.0",
        ),
        (
            "fbgemm_gpu",
            ["train", "skipgram", LEGACY / "text", "--out", "m", "--epochs", "1"],
            'fbgemm-gpu is not installed — pip install "embedrec[cpu]"',
        ),
        (
            "torch",
            ["train", "skipgram", LEGACY / "text", "--out", "m", "--epochs", "1"],
            "torch is not installed — pip install torch==2.13.0 --index-url "
            "https://download.pytorch.org/whl/cpu",
        ),
        (
            "faiss",
            ["query", "neighbors", LEGACY / "index", "lisbon"],
            'faiss is not installed — pip install "embedrec[cpu]"',
        ),
        (
            "matplotlib",
            ["plot", "pca", LEGACY / "model", "--words", "lisbon", "portugal", "--out", "p.png"],
            'matplotlib is not installed — pip install "embedrec[plot]"',
        ),
        (
            "fastapi",
            ["serve", LEGACY / "index", "--port", "0"],
            'fastapi is not installed — pip install "embedrec[serve]"',
        ),
    ],
)
def test_a_missing_library_is_one_line_naming_the_fix(blocked, command, fix, tmp_path):
    result = _embedrec_without(blocked, *command, cwd=tmp_path)
    assert result.returncode == 3, result.stderr
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.startswith("embedrec: error:")]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"embedrec: error: {fix}"), result.stderr
    assert lines[0].endswith('(see README "Install")')
