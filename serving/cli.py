"""``embedrec serve INDEX``: the HTTP service (FastAPI on uvicorn) over an index directory."""

from __future__ import annotations

from pathlib import Path

import click

from embedrec.serving.config import EVENT_LOOPS, HTTP_PARSERS, TOKEN_ENV

SERVE_EPILOG = """\b
Examples:
  embedrec serve indexes/wiki-hnsw --port 8000
  embedrec serve wiki=indexes/wiki-hnsw news=indexes/news --default-index news
  curl 'localhost:8000/v1/neighbors?word=shark&index=wiki'
  curl 'localhost:8000/v1/neighbors?word=shark&k=10'
  curl 'localhost:8000/v1/analogy?a=italy&b=rome&c=germany'
  curl -X POST localhost:8000/v1/neighbors -d '{"words": ["car", "river"], "k": 5}'
  EMBEDREC_TOKEN=s3cret embedrec serve indexes/wiki --host 0.0.0.0 --workers 2
  curl -H 'Authorization: Bearer s3cret' -X POST localhost:8000/admin/reload \\
       -d '{"index": "indexes/wiki-v2"}'
  kill -HUP <pid>        # reload every index from its directory, in every worker
  embedrec serve indexes/wiki --proxy-headers --forwarded-allow-ips 10.0.0.5 \\
       --root-path /embedrec      # behind a reverse proxy at https://host/embedrec/

\b
Listens on 127.0.0.1 unless --host says otherwise. With a token (--token or, better,
the EMBEDREC_TOKEN environment variable, which `ps` does not show) every endpoint needs
'Authorization: Bearer TOKEN' (except the probes /healthz and /readyz, which then say
only the status); without one, /admin/* endpoints are refused.
Explorer page at /, OpenAPI at /docs, Prometheus metrics at /metrics.
"""


def register(root: click.Group) -> None:
    """Add ``serve`` to the ``embedrec`` group."""
    root.add_command(serve)


@click.command(epilog=SERVE_EPILOG)
@click.argument("indexes", nargs=-1, required=True, metavar="[NAME=]INDEX...")
@click.option(
    "--default-index",
    help="Name of the index queries without index= use (default: the first).",
)
@click.option(
    "--proxy-headers/--no-proxy-headers",
    default=False,
    show_default=True,
    help="Trust X-Forwarded-For/-Proto from --forwarded-allow-ips (behind a reverse proxy).",
)
@click.option(
    "--forwarded-allow-ips",
    help="Proxy addresses whose forwarded headers are trusted (comma-separated, or *; "
    "uvicorn's default: 127.0.0.1).",
)
@click.option(
    "--root-path",
    default="",
    help="Path prefix the proxy serves this service under, e.g. /embedrec.",
)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=int, default=8000, show_default=True)
@click.option(
    "--workers",
    type=int,
    default=1,
    show_default=True,
    help="Worker processes, each holding the index (reloads reach all of them).",
)
@click.option(
    "--search-threads",
    type=int,
    default=4,
    show_default=True,
    help="Searches one worker runs at once in threads (0: on the event loop).",
)
@click.option(
    "--token",
    envvar=TOKEN_ENV,
    show_envvar=True,
    help="Bearer token every request must carry (admin endpoints need it).",
)
@click.option("--ranker", type=click.Path(path_type=Path), help="Click-ranker model directory.")
@click.option(
    "--max-body-bytes", type=int, default=4 * 1024 * 1024, show_default=True, help="413 beyond."
)
@click.option("--max-batch", type=int, default=1024, show_default=True, help="Queries per POST.")
@click.option("--max-k", type=int, default=1000, show_default=True, help="Largest k accepted.")
@click.option(
    "--cors-origin",
    "cors_origins",
    multiple=True,
    help="Allow browser pages from this origin to call the API (repeatable; none by default).",
)
@click.option(
    "--access-log/--no-access-log", default=True, show_default=True, help="One line per request."
)
@click.option(
    "--omp-threads",
    type=int,
    default=1,
    show_default=True,
    help="OpenMP threads per FAISS search (requests run in parallel instead).",
)
@click.option(
    "--http",
    type=click.Choice(HTTP_PARSERS),
    default="auto",
    show_default=True,
    help="HTTP parser (auto: httptools when installed).",
)
@click.option(
    "--loop",
    type=click.Choice(EVENT_LOOPS),
    default="auto",
    show_default=True,
    help="Event loop (auto: uvloop when installed).",
)
@click.option(
    "--coalesce-ms",
    type=float,
    default=0.5,
    show_default=True,
    help="Answer concurrent GET /v1/neighbors for one index and k arriving within this "
    "window (at most 1 ms) with one FAISS search; 0 turns it off.",
)
@click.option(
    "--hot-path/--no-hot-path",
    default=True,
    show_default=True,
    help="Answer GET /v1/neighbors and words POST /v1/neighbors below FastAPI (same "
    "answers, less work per request).",
)
def serve(
    indexes: tuple[str, ...],
    ranker: Path | None,
    cors_origins: tuple[str, ...],
    **options: object,
) -> None:
    """Serve neighbours, analogies and the explorer page over INDEX (index or model dir).

    Several indexes: NAME=INDEX ... (a bare INDEX is named after its folder); requests pick
    one with index=NAME.
    """
    from embedrec.serving.config import ServeConfig
    from embedrec.serving.index_names import parse_index_spec
    from embedrec.serving.server import serve as run_server

    (first_name, first), *more = [parse_index_spec(spec) for spec in indexes]
    config = ServeConfig(
        index=first,
        index_name=first_name,
        more_indexes=tuple(more),
        ranker=None if ranker is None else str(ranker),
        cors_origins=tuple(cors_origins),
        **options,  # type: ignore[arg-type]
    )
    run_server(config, announce=lambda line: click.echo(line, err=True))
