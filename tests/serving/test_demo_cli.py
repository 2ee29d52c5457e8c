"""``embedrec demo`` with its defaults solves every planted analogy of its generated world."""

from __future__ import annotations

import re


def test_demo_solves_every_planted_analogy(run_cli, tmp_path):
    result = run_cli("demo", "--workdir", tmp_path / "demo")
    assert result.code == 0, result.err
    solved = re.search(r"planted analogies solved: ([\d.]+)% of ([\d,]+)", result.out)
    assert solved is not None, result.out
    assert float(solved.group(1)) == 100.0, result.out
    assert int(solved.group(2).replace(",", "")) > 0
    assert (tmp_path / "demo" / "map.png").stat().st_size > 0
