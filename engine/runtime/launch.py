"""``--nproc N``: run the same command line on N local ranks under torchrun.

The launcher settles what must be decided once (is the output directory new, to be
overwritten, or resumed?) and then starts ``torchrun --standalone --nproc-per-node N
--max-restarts R -m embedrec.engine <the same command> --resume``. Every rank — and every rank of an
elastic restart after a crash — therefore resumes from the newest whole checkpoint, so a
killed worker costs at most the steps since that checkpoint.

>>> argv = command_argv(ctx, drop={"nproc", "max_restarts", "overwrite"})  # doctest: +SKIP
>>> launch(2, ["train", "skipgram", "data/wiki", "--out", "m"], max_restarts=3)  # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
import importlib
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import click

from embedrec.core.artifacts import check_output_dir
from embedrec.core.cli_support import emit

F = TypeVar("F", bound=Callable[..., Any])


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
    """Run ``python -m embedrec.engine ARGV`` on ``nproc`` local ranks; return its exit code."""
    # Imported here: distributed imports torch, and every `embedrec` command (the service's
    # too, whose processes must not load torch) imports this module to build its options.
    from embedrec.engine.runtime.distributed import under_torchrun

    if under_torchrun():
        raise click.UsageError("--nproc cannot be used inside torchrun (it is torchrun's job)")
    cmd = [
        sys.executable,
        "-m",
        "embedrec.engine.runtime.elastic_run",  # torchrun, with a failed rank reported in one line
        "--standalone",
        f"--nproc-per-node={nproc}",
        f"--max-restarts={max_restarts}",
        "-m",
        "embedrec.engine",
        *argv,
    ]
    env = dict(os.environ)
    env.setdefault("OMP_NUM_THREADS", str(max(1, (os.cpu_count() or 1) // nproc)))
    # Restarted workers hang in init_process_group when they share the rendezvous's TCP
    # store with the workers they replace (pytorch/pytorch#135712); give each its own.
    env.setdefault("TORCH_DISABLE_SHARE_RDZV_TCP_STORE", "1")
    return subprocess.call(cmd, env=env)


def training_options(command: F) -> F:
    """The options every ``train`` command shares: checkpoints, resume, ranks, output."""
    options = [
        click.option(
            "--checkpoint-every",
            "checkpoint_every",
            type=int,
            default=None,
            help="Checkpoint every N steps (default: every 10 minutes).",
        ),
        click.option(
            "--resume", is_flag=True, help="Continue from the newest checkpoint in --out."
        ),
        click.option(
            "--nproc", default=1, show_default=True, help="Ranks to launch with torchrun."
        ),
        click.option(
            "--max-restarts",
            default=3,
            show_default=True,
            help="With --nproc: elastic restarts after a rank dies (each resumes).",
        ),
        click.option("--overwrite", is_flag=True, help="Replace an existing model directory."),
        click.option("--progress/--no-progress", default=True, help="Progress bar on stderr."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def train_or_launch(
    ctx: click.Context,
    trainer: str,
    *,
    data: Path,
    out: Path,
    config: Any,
    resume: bool,
    overwrite: bool,
    progress: bool,
    nproc: int,
    max_restarts: int,
    as_json: bool,
    summary: Callable[[dict[str, Any]], str],
) -> None:
    """Train here (one rank, or one of torchrun's), or relaunch this command on ``nproc`` ranks.

    ``trainer`` names the library function (``"module:function"``, imported only to train, so
    ``--help`` loads no torch). Under torchrun only rank 0 reports its result, as ``--json``
    or through ``summary``. A launcher whose workers failed exits with their code.
    """
    if nproc > 1:
        prepare_output(out, resume=resume, overwrite=overwrite)
        argv = command_argv(ctx, drop={"nproc", "max_restarts", "overwrite", "resume"})
        code = launch(nproc, [*argv, "--resume"], max_restarts=max_restarts)
        if code != 0:
            raise click.exceptions.Exit(code)
        return
    module, name = trainer.split(":")
    train = getattr(importlib.import_module(module), name)
    result = train(
        data,
        out,
        config,
        resume=resume,
        overwrite=overwrite,
        show_progress=progress,
        echo=lambda line: click.echo(line, err=True),
    )
    if int(os.environ.get("RANK", "0")) == 0:
        emit(dataclasses.asdict(result), as_json=as_json, human=summary)
