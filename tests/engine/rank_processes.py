"""Commands that start torchrun ranks, run so that no rank outlives its test.

``embedrec train ... --nproc N`` starts the elastic launcher (torchrun), which starts the
ranks: grandchildren of the test. ``subprocess.run(timeout=...)`` or ``Popen.kill()`` end the
first process only, so a test that timed out or failed half-way used to leave ranks running
(each holding a core on a 2-core CI machine, or blocked in a collective for gloo's 30 minutes).
Here the command runs in its own session and the whole process group is killed on exit; a
process still in the group after the launcher ended by itself is a leak, and fails the test.

>>> with launched([EMBEDREC, "train", "skipgram", DATA, "--nproc", "2"]) as run:  # doctest: +SKIP
...     stdout, stderr = run.communicate(timeout=800)
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from collections.abc import Iterator, Sequence

import psutil


@contextlib.contextmanager
def launched(cmd: Sequence[str]) -> Iterator[subprocess.Popen[str]]:
    """``Popen(cmd)`` (text pipes) in a new session; its process group is killed on exit."""
    launcher = subprocess.Popen(
        list(cmd),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    ended_by_itself = False
    try:
        yield launcher
        ended_by_itself = launcher.poll() is not None
    finally:
        left = _kill_group(launcher)
        launcher.communicate()  # reap it and close the pipes
    assert not (ended_by_itself and left), f"processes outlived {cmd[:3]}: {left}"


def run_launched(cmd: Sequence[str], timeout: float) -> subprocess.CompletedProcess[str]:
    """``subprocess.run(cmd, capture_output=True, text=True, timeout=...)``, ranks included."""
    with launched(cmd) as launcher:
        stdout, stderr = launcher.communicate(timeout=timeout)
    return subprocess.CompletedProcess(list(cmd), launcher.returncode, stdout, stderr)


def _kill_group(launcher: subprocess.Popen[str]) -> list[str]:
    """SIGKILL every process of the launcher's group; return the command lines found there."""
    members = []
    for proc in psutil.process_iter(["cmdline"]):
        with contextlib.suppress(psutil.Error, ProcessLookupError):
            if proc.pid != launcher.pid and os.getpgid(proc.pid) == launcher.pid:
                members.append(proc)
    found = [" ".join(p.info["cmdline"] or [])[:200] for p in members]
    if launcher.poll() is None or members:  # else the group is gone and its id may be reused
        with contextlib.suppress(ProcessLookupError):
            os.killpg(launcher.pid, signal.SIGKILL)
    psutil.wait_procs(members, timeout=10)
    return found
