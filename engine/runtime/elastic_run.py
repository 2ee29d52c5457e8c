"""torchrun for ``--nproc``, with a rank's death reported in one line instead of a traceback.

``python -m embedrec.engine.runtime.elastic_run TORCHRUN-ARGS...`` runs exactly what ``python -m
torch.distributed.run`` runs; when the workers fail for good (restarts used up) it prints::

    embedrec: rank 1 (pid 4242) ended with signal SIGKILL; rerun the same command with \
--resume to continue from the newest checkpoint in models/wiki

and exits 1, where torchrun prints a ChildFailedError traceback. The model directory is
taken from the worker command's ``--out``.
"""

from __future__ import annotations

import signal
import sys


def _describe(exitcode: int) -> str:
    if exitcode < 0:
        try:
            return f"signal {signal.Signals(-exitcode).name}"
        except ValueError:
            return f"signal {-exitcode}"
    return f"exit code {exitcode}"


def failure_line(failures: dict[int, object], argv: list[str]) -> str:
    """The one line for a failed run: first failing rank, how it ended, what to do.

    >>> class F: exitcode, pid = -9, 42
    >>> failure_line({1: F()}, ["-m", "embedrec.engine", "--out", "m"])  # doctest: +ELLIPSIS
    'embedrec: rank 1 (pid 42) ended with signal SIGKILL; rerun ... with --resume ... in m'
    """

    # The root cause: the first to fail, preferring a rank that was not stopped by torchrun.
    def order(rank: int) -> tuple[bool, float, int]:
        failure = failures[rank]
        stopped = int(getattr(failure, "exitcode", 1)) == -signal.SIGTERM
        return stopped, float(getattr(failure, "timestamp", 0) or 0), rank

    rank = min(failures, key=order)
    failure = failures[rank]
    exitcode = int(getattr(failure, "exitcode", 1))
    pid = getattr(failure, "pid", "?")
    out = argv[argv.index("--out") + 1] if "--out" in argv[:-1] else "the model directory"
    return (
        f"embedrec: rank {rank} (pid {pid}) ended with {_describe(exitcode)}; rerun the same "
        f"command with --resume to continue from the newest checkpoint in {out}"
    )


def main(argv: list[str]) -> int:
    from torch.distributed.elastic.multiprocessing.errors import ChildFailedError
    from torch.distributed.run import parse_args, run

    try:
        run(parse_args(argv))
    except ChildFailedError as exc:
        print(failure_line(dict(exc.failures), argv), file=sys.stderr)
        return 1
    except Exception as exc:  # rendezvous and agent errors: one line, not a traceback
        print(f"embedrec: the launcher failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
