"""``embedrec query neighbors|analogy``: ask an index (or a model, searched exactly), or a
running service (``--url``).

The commands talk to a `WordQueries` object from `open_queries`: a local
`indexes.WordIndex`, or with ``--url`` a `serving.Client`; the commands and their output
are the same either way (the ``index`` field says which was asked).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, Protocol

import click

from embedrec.core.cli_support import emit, json_option, subgroup

NEIGHBORS_EPILOG = """\b
Examples:
  embedrec query neighbors indexes/wiki shark
  embedrec query neighbors models/wiki shark -k 20 --json
  embedrec query neighbors --url http://localhost:8000 shark
"""

ANALOGY_EPILOG = """\b
Examples (A is to B as C is to ?, i.e. B - A + C):
  embedrec query analogy indexes/wiki italy rome germany
  embedrec query analogy indexes/wiki man king woman -k 10 --method 3cosmul --json
  embedrec query analogy --url http://localhost:8000 italy rome germany
"""


class ScoredToken(Protocol):
    @property
    def token(self) -> str: ...

    @property
    def score(self) -> float: ...


class WordQueries(Protocol):
    """What the query commands need from an index, local or remote."""

    @property
    def metric(self) -> str: ...

    def neighbors(self, word: str, k: int = 10) -> Sequence[ScoredToken]: ...

    def analogy(
        self, a: str, b: str, c: str, k: int = 5, method: str = "3cosadd"
    ) -> Sequence[ScoredToken]: ...


def open_queries(
    index: Path | None, *, url: str | None = None, token: str | None = None, timeout: float = 10.0
) -> WordQueries:
    """The `WordQueries` for a MODEL|INDEX directory, or for the service at ``url``."""
    if url is not None:
        from embedrec.serving.client import Client

        return Client(url, token=token, timeout=timeout)
    from embedrec.indexes import load_index

    if index is None:
        raise click.UsageError("give an INDEX directory or --url")
    return load_index(index)


@contextlib.contextmanager
def _opened(
    args: tuple[str, ...],
    names: tuple[str, ...],
    url: str | None,
    token: str | None,
    timeout: float,
) -> Iterator[tuple[str, WordQueries, list[str]]]:
    """Split ``[INDEX] NAMES...`` (INDEX only without --url) and open the source."""
    wanted = len(names) + (0 if url else 1)
    if len(args) != wanted:
        form = " ".join(names) if url else "INDEX " + " ".join(names)
        raise click.UsageError(f"expected {form}{' (with --url, no INDEX)' if url else ''}")
    index = None if url else Path(args[0])
    source = open_queries(index, url=url, token=token, timeout=timeout)
    try:
        yield (url if url else str(index)), source, list(args[-len(names) :])
    finally:
        close = getattr(source, "close", None)
        if close is not None:
            close()


def register(root: click.Group) -> None:
    """Add this module's commands to the ``embedrec`` group."""
    group = subgroup(root, "query", "Ask an index for neighbours and analogies.")
    group.add_command(neighbors)
    group.add_command(analogy)


_method_choice = click.Choice(["3cosadd", "3cosmul"])


def _service_options(func: Any) -> Any:
    func = click.option(
        "--timeout", type=float, default=10.0, show_default=True, help="Seconds (with --url)."
    )(func)
    func = click.option(
        "--token", envvar="EMBEDREC_TOKEN", show_envvar=True, help="Bearer token (with --url)."
    )(func)
    return click.option(
        "--url", metavar="URL", help="Ask the service at URL (http://host:port), not an INDEX."
    )(func)


@click.command(epilog=NEIGHBORS_EPILOG)
@click.argument("args", nargs=-1, required=True, metavar="[INDEX] WORD")
@click.option("-k", "k", type=int, default=10, show_default=True, help="How many neighbours.")
@_service_options
@json_option
def neighbors(
    args: tuple[str, ...], k: int, url: str | None, token: str | None, timeout: float, as_json: bool
) -> None:
    """The K nearest words to WORD in INDEX (an index or a model directory) or at --url."""
    with _opened(args, ("WORD",), url, token, timeout) as (where, source, (word,)):
        found = _scored(source.neighbors(word, k))
        result = {"index": where, "word": word, "k": k, "metric": source.metric, "neighbors": found}
    emit(result, as_json=as_json, human=lambda r: _table(f"nearest to {word!r}", r))


@click.command(epilog=ANALOGY_EPILOG)
@click.argument("args", nargs=-1, required=True, metavar="[INDEX] A B C")
@click.option("-k", "k", type=int, default=5, show_default=True, help="How many answers.")
@click.option(
    "--method",
    type=_method_choice,
    default="3cosadd",
    show_default=True,
    help="3cosadd: nearest to B - A + C; 3cosmul: Levy & Goldberg's product form.",
)
@_service_options
@json_option
def analogy(
    args: tuple[str, ...],
    k: int,
    method: str,
    url: str | None,
    token: str | None,
    timeout: float,
    as_json: bool,
) -> None:
    """A is to B as C is to ? — answers from INDEX (or --url), the three words excluded."""
    with _opened(args, ("A", "B", "C"), url, token, timeout) as (where, source, (a, b, c)):
        answers = _scored(source.analogy(a, b, c, k, method))
        result = {
            "index": where,
            "a": a,
            "b": b,
            "c": c,
            "k": k,
            "method": method,
            "metric": source.metric,
            "answers": answers,
        }
    title = f"{a} : {b} :: {c} : ?"
    emit(result, as_json=as_json, human=lambda r: _table(title, r, key="answers"))


def _scored(items: Sequence[ScoredToken]) -> list[dict[str, Any]]:
    return [{"token": item.token, "score": item.score} for item in items]


def _table(title: str, result: dict[str, Any], key: str = "neighbors") -> str:
    rows = result[key]
    label = "distance" if result["metric"] == "l2" else "score"
    width = max([len("word"), *(len(r["token"]) for r in rows)])
    lines = [f"{title}  ({result['metric']} {label}, {result['index']})"]
    lines += [f"{i:>3}  {r['token']:<{width}}  {r['score']:.4f}" for i, r in enumerate(rows, 1)]
    return "\n".join(lines)
