"""Errors on UI routes: an HTML page in the viewer's language, or the login page for a 401."""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from dam.accounts import active_user
from dam.errors import MessageId
from web import browser_session as session
from web import catalogs
from web.ui import i18n
from web.ui.templating import Templates, Viewer

NOT_UI_PREFIXES = ("/api/", "/healthz", "/readyz", "/metrics", "/docs", "/openapi.json", "/static/")


def wants_html(request: Request) -> bool:
    """UI routes answer errors with pages; the API and machine endpoints with JSON."""
    path = request.url.path
    return not path.startswith(NOT_UI_PREFIXES) and hasattr(request.app.state, "ui_templates")


def _viewer(request: Request) -> Viewer:
    found = getattr(request.state, "viewer", None)
    if isinstance(found, Viewer):
        return found
    user = None
    uid = session.user_id(request)
    if uid:
        with request.app.state.runtime.session() as db:
            user = active_user(db, uid)
    locale = i18n.choose_locale(
        user_locale=user.locale if user else None,
        session_locale=session.session_locale(request),
        accept_language=request.headers.get("accept-language"),
    )
    return Viewer(user=user, locale=locale)


def html_error(
    request: Request, *, status: int, message: MessageId, params: Mapping[str, object] | None = None
) -> Response:
    if status == 401:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)
    templates: Templates = request.app.state.ui_templates
    viewer = _viewer(request)
    try:
        return templates.render(
            request,
            "error.html",
            viewer,
            status=status,
            status_code=status,
            message=catalogs.translate(viewer.locale, message, params) if message else "",
        )
    except Exception:  # the error page must not fail: fall back to plain HTML
        return HTMLResponse(f"<h1>{status}</h1>", status_code=status)
