"""The interactive API docs at /docs: Swagger UI from the `swagger-ui-bundle-v2` package,
served by Beeldbank itself, so the docs work on a network that reaches no other site.

FastAPI's own /docs loads Swagger UI from a CDN and starts it with an inline script; this
page loads the package's files from /docs/assets and starts them with /docs/start.js, so a
Content-Security-Policy that allows only this server covers it too.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.responses import HTMLResponse, Response
from starlette.staticfiles import StaticFiles
from swagger_ui_bundle import swagger_ui_path

DOCS_PATH = "/docs"
ASSETS_PATH = f"{DOCS_PATH}/assets"
# Swagger UI sets style attributes as it renders, hence 'unsafe-inline' for styles only.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'"
)

PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} API</title>
<link rel="stylesheet" href="{assets}/swagger-ui.css">
<link rel="icon" type="image/png" href="{assets}/favicon-32x32.png">
</head>
<body>
<main id="swagger-ui" data-openapi-url="{openapi_url}"></main>
<script src="{assets}/swagger-ui-bundle.js"></script>
<script src="{docs}/start.js"></script>
</body>
</html>
"""

START = """// Starts Swagger UI on the OpenAPI document this page names (no inline script).
const root = document.getElementById("swagger-ui");
window.ui = SwaggerUIBundle({
  url: root.dataset.openapiUrl,
  domNode: root,
  deepLinking: true,
  presets: [SwaggerUIBundle.presets.apis],
  layout: "BaseLayout",
});
"""


class ScriptResponse(Response):
    """The API docs page's own start script: code of Beeldbank's, never asset bytes."""

    media_type = "text/javascript"


def install(app: FastAPI) -> None:
    """Serve /docs and its assets (the app is made with docs_url=None)."""
    router = APIRouter(include_in_schema=False)
    page = PAGE.format(
        title=app.title, assets=ASSETS_PATH, docs=DOCS_PATH, openapi_url=app.openapi_url
    )

    @router.get(DOCS_PATH)
    def docs() -> HTMLResponse:
        return HTMLResponse(page, headers={"Content-Security-Policy": CSP})

    @router.get(f"{DOCS_PATH}/start.js")
    def start() -> ScriptResponse:
        return ScriptResponse(START)

    app.include_router(router)
    app.mount(ASSETS_PATH, StaticFiles(directory=Path(str(swagger_ui_path))), name="api-docs")
