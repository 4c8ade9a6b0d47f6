"""The application factory."""

from __future__ import annotations

from fastapi import APIRouter, Depends, FastAPI

from dam.runtime import Runtime
from web import api_docs, errors, openapi, proxies
from web.api import (
    assets,
    audit,
    clusters,
    collections,
    consents,
    downloads,
    faces,
    health,
    jobs,
    metrics,
    people,
    privacy,
    search,
    shares,
    uploads,
    verdicts,
    video,
)
from web.input_guard import refuse_nul
from web.metrics import Metrics, RequestMetrics
from web.ui import mount as ui

API_PREFIX = "/api/v1"
API_ROUTERS: tuple[APIRouter, ...] = (
    assets.router,
    uploads.router,
    jobs.router,
    audit.router,
    collections.router,
    search.router,
    people.router,
    faces.router,
    clusters.router,
    video.router,
    verdicts.router,
    consents.router,
    privacy.router,
    shares.router,
    downloads.router,
)


def create_app(runtime: Runtime) -> FastAPI:
    """A FastAPI app serving `runtime` (which the caller starts and closes)."""
    app = FastAPI(
        title="Beeldbank",
        version="0.1.0",
        description="Digital asset management with GDPR consent enforcement. See API.md.",
        docs_url=None,  # web/api_docs.py serves /docs without any other host
        redoc_url=None,
        dependencies=[Depends(refuse_nul)],
    )
    app.state.runtime = runtime
    errors.install(app)
    openapi.install(app)
    api_docs.install(app)
    api = APIRouter(prefix=API_PREFIX)
    for router in API_ROUTERS:
        api.include_router(router)
    app.include_router(api)
    app.include_router(health.router)
    app.include_router(metrics.router)
    ui.install(app, runtime.settings)
    app.state.metrics = Metrics(runtime)
    app.add_middleware(RequestMetrics, metrics=app.state.metrics)
    proxies.install(app, runtime.settings)
    return app
