"""``--nproc N``: run the same command line on N local ranks under torchrun.

The launcher settles what must be decided once (is the output directory new, to be
overwritten, or resumed?) and then starts ``torchrun --standalone --nproc-per-node N
--max-restarts R -m engine <the same command> --resume``. Every rank — and every rank of an
elastic restart after a crash — therefore resumes from the newest whole checkpoint, so a
killed worker costs at most the steps since that checkpoint.

>>> argv = command_argv(ctx, drop={"nproc", "max_restarts", "overwrite"})  # doctest: +SKIP
>>> launch(2, ["train", "skipgram", "data/wiki", "--out", "m", "--resume"], max_restarts=3)
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path

import click

from engine.distributed import under_torchrun
from pipelines.artifacts import check_output_dir


def prepare_output(out: Path, *, resume: bool, overwrite: bool) -> None:
    """Apply the overwrite/resume rules once, before any rank starts."""
    if resume:
        return
    check_output_dir(out, overwrite=overwrite)
    if out.exists() and overwrite:
        shutil.rmtree(out)


def command_argv(ctx: click.Context, *, drop: Iterable[str]) -> list[str]:
    """Rebuild the invoked command's argv from its parsed parameters, without ``drop``."""
    dropped = set(drop)
    path = ctx.command_path.split()[1:]  # without the program name
    argv: list[str] = list(path)
    for param in ctx.command.params:
        name = param.name or ""
        if name in dropped:
            continue
        value = ctx.params.get(name)
        if isinstance(param, click.Argument):
            argv.append(str(value))
            continue
        if not isinstance(param, click.Option) or value is None:
            continue
        if param.is_flag and param.secondary_opts:  # --x/--no-x
            argv.append(param.opts[0] if value else param.secondary_opts[0])
        elif param.is_flag:
            if value:
                argv.append(param.opts[0])
        else:
            argv.extend([_longest(param.opts), str(value)])
    return argv


def _longest(opts: Sequence[str]) -> str:
    return max(opts, key=len)


def launch(nproc: int, argv: list[str], *, max_restarts: int) -> int:
    """Run ``python -m engine ARGV`` on ``nproc`` local ranks; return torchrun's exit code."""
    if under_torchrun():
        raise click.UsageError("--nproc cannot be used inside torchrun (it is torchrun's job)")
    cmd = [
        sys.executable,
        "-m",
        "engine.elastic_run",  # torchrun, with a failed rank reported in one line
        "--standalone",
        f"--nproc-per-node={nproc}",
        f"--max-restarts={max_restarts}",
        "-m",
        "engine",
        *argv,
    ]
    env = dict(os.environ)
    env.setdefault("OMP_NUM_THREADS", str(max(1, (os.cpu_count() or 1) // nproc)))
    # Restarted workers hang in init_process_group when they share the rendezvous's TCP
    # store with the workers they replace (pytorch/pytorch#135712); give each its own.
    env.setdefault("TORCH_DISABLE_SHARE_RDZV_TCP_STORE", "1")
    return subprocess.call(cmd, env=env)
