"""The OpenAPI page at /docs, with Swagger UI served from this process (no CDN).

FastAPI's default /docs page loads Swagger UI's JavaScript from a CDN, so on a machine
without internet (or behind a strict proxy) it is blank. The `swagger-ui-bundle` package
ships those files; they are served under /docs/assets.
"""

from __future__ import annotations

from fastapi import APIRouter, FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

ASSETS = "/docs/assets"


def mount_api_docs(app: FastAPI) -> None:
    """Serve /docs (Swagger UI) with local assets; /openapi.json stays FastAPI's."""
    from swagger_ui_bundle import swagger_ui_path

    app.mount(ASSETS, StaticFiles(directory=str(swagger_ui_path)), name="swagger-assets")
    router = APIRouter()

    @router.get("/docs", include_in_schema=False)
    def docs(request: Request) -> HTMLResponse:
        # Behind a proxy under a prefix (--root-path /embedrec) every URL starts with it.
        root = str(request.scope.get("root_path") or "")
        return get_swagger_ui_html(
            openapi_url=root + (app.openapi_url or "/openapi.json"),
            title=f"{app.title} API",
            swagger_js_url=f"{root}{ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{root}/favicon.ico",
        )

    app.include_router(router)
