"""The explorer page at ``/``: a search box with neighbours and scores, an analogy form and a
2-D map, in plain HTML, CSS and JavaScript served from this package (``serving/static/``).

Nothing is fetched from elsewhere: the page's Content-Security-Policy allows only this
origin, and its scripts call the JSON API (``/v1/indexes``, ``/v1/neighbors``,
``/v1/analogy``, ``/v1/map``) on the same origin. The page shows the index's name, never the
server's path. What it shows lives in the URL (``/?word=shark&k=10``, ``/?a=..&b=..&c=..``,
``&index=NAME``): links open with that search done, Back/Forward step through searches.
"""

from __future__ import annotations

import functools
from importlib import resources

from fastapi import APIRouter, Response
from fastapi.responses import HTMLResponse

from embedrec.serving.errors import NotFoundError

STATIC_FILES = {
    "explorer.js": "text/javascript; charset=utf-8",
    "explorer.css": "text/css; charset=utf-8",
}
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
    "img-src 'self' data:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
_HEADERS = {"content-security-policy": CSP, "x-content-type-options": "nosniff"}


@functools.cache
def _read(name: str) -> bytes:
    return resources.files("embedrec.serving").joinpath("static", name).read_bytes()


def build_explorer_router() -> APIRouter:
    router = APIRouter(include_in_schema=False)

    @router.get("/", response_class=HTMLResponse)
    async def page() -> Response:
        return Response(
            _read("explorer.html"), media_type="text/html; charset=utf-8", headers=_HEADERS
        )

    @router.get("/favicon.ico")
    async def favicon() -> Response:
        return Response(status_code=204)  # browsers ask for it; a 404 would only be noise

    @router.get("/static/{name}")
    async def static(name: str) -> Response:
        media_type = STATIC_FILES.get(name)
        if media_type is None:
            raise NotFoundError(f"no static file {name!r}")
        return Response(
            _read(name),
            media_type=media_type,
            headers={**_HEADERS, "cache-control": "public, max-age=300"},
        )

    return router
