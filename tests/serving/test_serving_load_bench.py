"""bench/serving_load.py end to end on a tiny index, with wrk and with the Python fallback
load generator: a real server process, every cell answered without errors, the JSON written
where asked and naming the load generator that ran."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.slow
@pytest.mark.parametrize("client", ["wrk", "python"])
def test_load_bench_smoke(planted, tmp_path, client):
    if client == "wrk" and shutil.which("wrk") is None:
        pytest.skip("wrk is not installed (apt-get install -y wrk)")
    command = [sys.executable, str(REPO / "bench" / "serving_load.py"), str(planted.index_a)]
    command += ["--client", client]
    command += ["--setups", "w1t0,w1t2-h11", "--concurrency", "1,4", "--duration", "0.5"]
    command += ["--raw-seconds", "0.3", "--batch", "8", "--repeat", "1", "--results", str(tmp_path)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300, cwd=REPO)
    assert done.returncode == 0, done.stderr
    assert "| server | query | conc." in done.stdout
    (result,) = tmp_path.glob("serving-load-*.json")
    report = json.loads(result.read_text())
    cells = report["cells"]
    assert len(cells) == 2 * 2 * 2
    assert all(c["errors"] == 0 and c["requests"] > 0 for c in cells)
    assert {c["stack"] for c in cells} == {"httptools+uvloop", "h11+asyncio"}
    assert report["client"] == client and {c["client"] for c in cells} == {client}
    assert report["raw"]["single_1thread"] > 0 and report["index"]["vectors"] == 132
