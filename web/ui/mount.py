"""Wires the UI into the app: templates, session cookie, security headers, static files."""

from __future__ import annotations

from fastapi import FastAPI
from starlette.middleware.sessions import SessionMiddleware
from starlette.staticfiles import StaticFiles

from dam.oidc import OidcClient
from dam.settings import Settings
from web.browser_session import session_middleware_options
from web.ui import errors
from web.ui.ratelimit import LoginLimiter
from web.ui.routes import UI_ROUTERS, public
from web.ui.routes.upload import UploadOptions
from web.ui.security import SecurityHeaders, origin
from web.ui.static import STATIC_DIR, STATIC_PREFIX
from web.ui.templating import Templates


def install(app: FastAPI, settings: Settings) -> None:
    app.state.ui_templates = Templates(timezone=settings.default_timezone)
    app.state.html_errors = errors  # web/errors.py answers UI routes' errors with pages
    app.state.login_limiter = LoginLimiter()
    app.state.upload_options = UploadOptions()
    app.state.oidc = OidcClient(settings) if settings.sso_enabled else None
    for router in UI_ROUTERS:
        app.include_router(router)
    app.include_router(public.router)  # share links and embeds: no account needed
    app.mount(STATIC_PREFIX, StaticFiles(directory=STATIC_DIR), name="static")
    app.add_middleware(SessionMiddleware, **session_middleware_options(settings))
    # The logout form's answer sends the browser on to the identity provider's logout:
    # form-action must allow that one origin, or the browser stops the redirect.
    extra = [origin(settings.oidc_issuer)] if settings.oidc_issuer else []
    app.add_middleware(SecurityHeaders, form_origins=extra)  # last: outermost, sees all
