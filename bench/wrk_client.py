"""wrk (a compiled HTTP load generator, Debian's ``wrk`` package) driving one bench cell.

One wrk thread keeps C connections busy (closed loop) for whole seconds; a Lua script
rotates through the bench's requests (a different word, or a different batch of words, per
request, each connection starting at its own offset) and prints a JSON summary at the end:
requests, errors (socket errors and non-2xx answers), p50/p99 latency. ``taskset -c CPU``
pins it to its own core when asked, so it does not compete with the server for one.

    apt-get update && apt-get install -y wrk
"""

from __future__ import annotations

import json
import math
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

MARK = "WRK-JSON "


def available() -> bool:
    """True when ``wrk`` is on the PATH."""
    return shutil.which("wrk") is not None


def lua_string(text: str | bytes) -> str:
    """A Lua 5.1 string literal of ``text``'s UTF-8 bytes (any byte is safe in it).

    >>> lua_string('say "hi"\\n')
    '"say \\\\"hi\\\\"\\\\010"'
    """
    data = text.encode() if isinstance(text, str) else text
    out = []
    for byte in data:
        char = chr(byte)
        if char in '"\\':
            out.append("\\" + char)
        elif 32 <= byte < 127:
            out.append(char)
        else:
            out.append(f"\\{byte:03d}")
    return '"' + "".join(out) + '"'


_SCRIPT = """
local requests = {%(requests)s}
local method = %(method)s
local headers = {%(headers)s}
local position = 0

request = function()
  position = position + 1
  local item = requests[(position %% #requests) + 1]
  if method == "GET" then
    return wrk.format("GET", item, headers)
  end
  return wrk.format("POST", %(path)s, headers, item)
end

done = function(summary, latency, requests)
  local e = summary.errors
  local errors = e.connect + e.read + e.write + e.status + e.timeout
  io.write(string.format(
    '%(mark)s{"requests": %%d, "errors": %%d, "non_2xx": %%d, "duration_us": %%d, ' ..
    '"p50_us": %%d, "p99_us": %%d, "mean_us": %%f}\\n',
    summary.requests, errors, e.status, summary.duration,
    latency:percentile(50), latency:percentile(99), latency.mean))
end
"""


def write_script(folder: Path, kind: str, items: list[str]) -> Path:
    """The Lua script for ``kind`` ``single`` (``items``: paths with query strings) or
    ``batch`` (``items``: JSON bodies POSTed to /v1/neighbors)."""
    headers = '["Content-Type"] = "application/json"' if kind == "batch" else ""
    script = _SCRIPT % {
        "requests": ",\n".join(lua_string(item) for item in items),
        "method": lua_string("GET" if kind == "single" else "POST"),
        "headers": headers,
        "path": lua_string("/v1/neighbors"),
        "mark": MARK,
    }
    path = folder / f"{kind}.lua"
    path.write_text(script)
    return path


def run_cell(
    port: int,
    kind: str,
    items: list[str],
    *,
    concurrency: int,
    duration: float,
    cpu: int | None,
) -> dict[str, float]:
    """One cell: wrk for ``duration`` seconds (rounded up to whole seconds, wrk's unit)."""
    seconds = max(1, math.ceil(duration))
    with tempfile.TemporaryDirectory(prefix="embedrec-wrk-") as folder:
        script = write_script(Path(folder), kind, items)
        command = ["wrk", "-t1", f"-c{concurrency}", f"-d{seconds}s", "--timeout", "10s"]
        command += ["-s", str(script), f"http://127.0.0.1:{port}"]
        if cpu is not None:
            command = ["taskset", "-c", str(cpu), *command]
        done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60)
    if done.returncode != 0:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stderr or done.stdout}")
    return parse_summary(done.stdout)


def parse_summary(stdout: str) -> dict[str, float]:
    """The cell's figures from the script's JSON line (latencies in milliseconds)."""
    line = next((ln for ln in stdout.splitlines() if ln.startswith(MARK)), None)
    if line is None:
        raise RuntimeError(f"wrk printed no summary:\n{stdout}")
    raw: dict[str, Any] = json.loads(line[len(MARK) :])
    seconds = raw["duration_us"] / 1e6
    return {
        "requests": raw["requests"],
        "errors": raw["errors"],
        "seconds": seconds,
        "requests_per_s": raw["requests"] / seconds if seconds else 0.0,
        "p50_ms": raw["p50_us"] / 1000,
        "p99_ms": raw["p99_us"] / 1000,
    }
