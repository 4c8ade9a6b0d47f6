"""The application factory."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI

from dam.runtime import Runtime
from web import errors
from web.api import assets, health, jobs, uploads


def create_app(runtime: Runtime) -> FastAPI:
    """A FastAPI app serving `runtime` (which the caller starts and closes)."""
    app = FastAPI(
        title="Beeldbank",
        version="0.1.0",
        description="Digital asset management with GDPR consent enforcement. See API.md.",
        docs_url="/docs",
        redoc_url=None,
    )
    app.state.runtime = runtime
    errors.install(app)
    api = APIRouter(prefix="/api/v1")
    for module in (assets, uploads, jobs):
        api.include_router(module.router)
    app.include_router(api)
    app.include_router(health.router)
    return app
