"""``embedrec query neighbors|analogy``: ask an index (or a model, searched exactly).

The commands talk to a `WordQueries` object from `open_queries`. Today that is a local
`indexes.WordIndex`; ``--url`` (asking a running HTTP service) plugs in a second
implementation there, and the commands and their output stay the same.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

import click

from pipelines.cli_support import emit, json_option, subgroup

NEIGHBORS_EPILOG = """\b
Examples:
  embedrec query neighbors indexes/wiki shark
  embedrec query neighbors models/wiki shark -k 20 --json
"""

ANALOGY_EPILOG = """\b
Examples (A is to B as C is to ?, i.e. B - A + C):
  embedrec query analogy indexes/wiki italy rome germany
  embedrec query analogy indexes/wiki man king woman -k 10 --method 3cosmul --json
"""


class ScoredToken(Protocol):
    @property
    def token(self) -> str: ...

    @property
    def score(self) -> float: ...


class WordQueries(Protocol):
    """What the query commands need from an index, local or remote."""

    metric: str

    def neighbors(self, word: str, k: int = 10) -> Sequence[ScoredToken]: ...

    def analogy(
        self, a: str, b: str, c: str, k: int = 5, method: str = "3cosadd"
    ) -> Sequence[ScoredToken]: ...


def open_queries(index: Path) -> WordQueries:
    """The `WordQueries` for a MODEL|INDEX directory (the seam where ``--url`` goes)."""
    from indexes import load_index

    return load_index(index)


def register(root: click.Group) -> None:
    """Add this module's commands to the ``embedrec`` group."""
    group = subgroup(root, "query", "Ask an index for neighbours and analogies.")
    group.add_command(neighbors)
    group.add_command(analogy)


_index_argument = click.argument("index", metavar="INDEX", type=click.Path(path_type=Path))
_method_choice = click.Choice(["3cosadd", "3cosmul"])


@click.command(epilog=NEIGHBORS_EPILOG)
@_index_argument
@click.argument("word")
@click.option("-k", "k", type=int, default=10, show_default=True, help="How many neighbours.")
@json_option
def neighbors(index: Path, word: str, k: int, as_json: bool) -> None:
    """The K nearest words to WORD in INDEX (an index or a model directory)."""
    source = open_queries(index)
    result = {
        "index": str(index),
        "word": word,
        "k": k,
        "metric": source.metric,
        "neighbors": _scored(source.neighbors(word, k)),
    }
    emit(result, as_json=as_json, human=lambda r: _table(f"nearest to {word!r}", r))


@click.command(epilog=ANALOGY_EPILOG)
@_index_argument
@click.argument("a")
@click.argument("b")
@click.argument("c")
@click.option("-k", "k", type=int, default=5, show_default=True, help="How many answers.")
@click.option(
    "--method",
    type=_method_choice,
    default="3cosadd",
    show_default=True,
    help="3cosadd: nearest to B - A + C; 3cosmul: Levy & Goldberg's product form.",
)
@json_option
def analogy(index: Path, a: str, b: str, c: str, k: int, method: str, as_json: bool) -> None:
    """A is to B as C is to ? — answers from INDEX, the three words excluded."""
    source = open_queries(index)
    result = {
        "index": str(index),
        "a": a,
        "b": b,
        "c": c,
        "k": k,
        "method": method,
        "metric": source.metric,
        "answers": _scored(source.analogy(a, b, c, k, method)),
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
