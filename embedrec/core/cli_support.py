"""What every package's CLI shares: the error boundary, ``--json`` output, group lookup.

Each package defines its commands in its own ``cli.py`` with a ``register(root)`` function;
``embedrec.cli`` assembles them into the one ``embedrec`` console script. The error boundary
lives here so ``python -m embedrec.engine`` (run under torchrun) behaves exactly like ``embedrec``.
"""

from __future__ import annotations

import json
import logging
import sys
import warnings
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import click

from embedrec.core.errors import EmbedrecError
from embedrec.core.install_hints import install_hint

F = TypeVar("F", bound=Callable[..., Any])

EXIT_USER_ERROR = 2
EXIT_MISSING_DEPENDENCY = 3
EXIT_INTERRUPTED = 130


def run_cli(
    group: click.Group, argv: Sequence[str] | None = None, prog_name: str = "embedrec"
) -> int:
    """Run a click group; user mistakes become one line on stderr and a non-zero exit.

    So does a missing optional library (torchrec, fbgemm, faiss, the serving stack, ...):
    one line naming the pip command that installs it, exit status 3.

    Returns the exit status instead of raising, so console scripts can ``sys.exit`` it.
    """
    try:
        # Without standalone mode click returns (not raises) the code of `ctx.exit(n)` /
        # `Exit(n)`, e.g. a torchrun launcher passing on its workers' failure.
        status = group.main(
            args=list(argv) if argv is not None else None,
            prog_name=prog_name,
            standalone_mode=False,
        )
        if isinstance(status, int) and status != 0:
            return status
    except click.exceptions.Exit as exc:
        return int(exc.exit_code)
    except click.UsageError as exc:
        command = exc.ctx.command_path if exc.ctx is not None else prog_name
        click.echo(f"{prog_name}: error: {exc.format_message()} (see {command} --help)", err=True)
        return EXIT_USER_ERROR
    except click.ClickException as exc:
        click.echo(f"{prog_name}: error: {exc.format_message()}", err=True)
        return exc.exit_code
    except (click.exceptions.Abort, KeyboardInterrupt):
        click.echo(f"{prog_name}: interrupted", err=True)
        return EXIT_INTERRUPTED
    except EmbedrecError as exc:
        click.echo(f"{prog_name}: error: {exc}", err=True)
        return EXIT_USER_ERROR
    except (FileNotFoundError, PermissionError, IsADirectoryError, NotADirectoryError) as exc:
        click.echo(f"{prog_name}: error: {exc.filename}: {exc.strerror}", err=True)
        return EXIT_USER_ERROR
    except ModuleNotFoundError as exc:
        hint = install_hint(exc.name)
        if hint is None:  # not an optional dependency: a bug, keep the traceback
            raise
        click.echo(f"{prog_name}: error: {hint}", err=True)
        return EXIT_MISSING_DEPENDENCY
    except OSError as exc:
        if exc.errno is not None and exc.strerror:  # disk full, too many files, …
            click.echo(f"{prog_name}: error: {exc.strerror} ({exc.filename or ''})", err=True)
            return 1
        raise
    return 0


def subgroup(root: click.Group, name: str, help_text: str) -> click.Group:
    """Return ``root``'s sub-group ``name``, creating it on first use.

    Lets several packages add commands to one group (``eval`` holds ``analogies`` from
    indexes and ``ranker`` from engine).
    """
    existing = root.commands.get(name)
    if isinstance(existing, click.Group):
        return existing
    group = click.Group(name=name, help=help_text)
    root.add_command(group)
    return group


def json_option(func: F) -> F:
    """Add ``--json``: print exactly one JSON document on stdout, progress on stderr."""
    return click.option(
        "--json",
        "as_json",
        is_flag=True,
        help="Print exactly one JSON document on stdout (progress goes to stderr).",
    )(func)


def emit(result: Any, *, as_json: bool, human: Callable[[Any], str]) -> None:
    """Print ``result`` as one JSON document, or as the human text ``human(result)``."""
    if as_json:
        sys.stdout.write(json.dumps(result, default=_jsonable) + "\n")
    else:
        click.echo(human(result))
    sys.stdout.flush()


def _jsonable(value: Any) -> Any:
    if hasattr(value, "item"):
        return value.item()
    if hasattr(value, "tolist"):
        return value.tolist()
    return str(value)


# Libraries that log or warn about their own internals on every run; a user cannot act on
# those lines, so the CLI shows them only with -vv.
_CHATTY_LOGGERS = ("torch.fx._symbolic_trace", "torchrec", "fbgemm_gpu", "distributed", "numba")


def configure_logging(verbose: int) -> None:
    """Log to stderr: warnings by default, info with -v, debug with -vv."""
    level = logging.WARNING if verbose <= 0 else logging.INFO if verbose == 1 else logging.DEBUG
    logging.basicConfig(
        level=level, stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    if verbose < 2:
        for name in _CHATTY_LOGGERS:
            logging.getLogger(name).setLevel(logging.ERROR)
        warnings.filterwarnings("ignore", category=DeprecationWarning)
        warnings.filterwarnings("ignore", category=FutureWarning)


def parse_choice(key: str, value: str, choices: Sequence[str]) -> str:
    """Validate a string flag against ``choices`` with an error naming both."""
    from embedrec.core.errors import ConfigError

    if value not in choices:
        raise ConfigError(key, value, "one of " + ", ".join(choices))
    return value
