"""Dependencies of the UI routes: who is looking, role checks and CSRF on every form."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Request
from starlette.datastructures import FormData

from dam.accounts import active_user
from dam.assets import get_library_asset
from dam.auth import PERMISSIONS, check_permission
from dam.errors import Unauthorized
from dam.models import Asset
from web import browser_session as session
from web.deps import SessionDep
from web.ui import i18n
from web.ui.templating import Templates, Viewer


class LoginRequired(Unauthorized):
    """Raised by UI routes; the error handler turns it into a redirect to the login page."""

    code = "login_required"


def get_templates(request: Request) -> Templates:
    templates: Templates = request.app.state.ui_templates
    return templates


TemplatesDep = Annotated[Templates, Depends(get_templates)]


def get_viewer(request: Request, db: SessionDep) -> Viewer:
    uid = session.user_id(request)
    user = active_user(db, uid) if uid else None
    locale = i18n.choose_locale(
        user_locale=user.locale if user else None,
        session_locale=session.session_locale(request),
        accept_language=request.headers.get("accept-language"),
    )
    if user is not None and user.locale == locale != session.session_locale(request):
        # The page's scripts call the API with this cookie: its errors (web/errors.py)
        # then speak the language the user chose, not only the browser's.
        session.remember_locale(request, locale)
    viewer = Viewer(user=user, locale=locale)
    request.state.viewer = viewer  # the HTML error pages render in the same language
    # Menu badges (web.ui.nav) read through the request's own session: a second one would
    # wait for this one's lock on SQLite.
    request.state.db = db
    return viewer


ViewerDep = Annotated[Viewer, Depends(get_viewer)]


def page(permission: str) -> Callable[[Viewer], Viewer]:
    """A UI dependency: logged in (else to the login page) with a role that has `permission`."""
    if permission not in PERMISSIONS:
        raise KeyError(permission)

    def dependency(viewer: ViewerDep) -> Viewer:
        if viewer.user is None:
            raise LoginRequired("Log in to continue.")
        check_permission(viewer.user, permission)
        return viewer

    dependency.permission = permission  # type: ignore[attr-defined]  # read by the UI role test
    return dependency


def page_asset(asset_id: str, db: SessionDep, viewer: ViewerDep) -> Asset:
    """web.deps.VisibleAsset for pages: the library asset `asset_id` if the viewer may see
    it, the same 404 page as for a missing id otherwise. Declared after the page's
    permission, so the login redirect and the 403 come first."""
    if viewer.user is None:
        raise LoginRequired("Log in to continue.")
    return get_library_asset(db, asset_id, viewer.user)


PageAsset = Annotated[Asset, Depends(page_asset)]


async def csrf_protect(request: Request) -> None:
    """Every state-changing UI request carries the session's CSRF token (form or header)."""
    if request.method in session.SAFE_METHODS:
        return
    sent = request.headers.get(session.CSRF_HEADER)
    if sent is None:
        form = await request.form()
        value = form.get(session.CSRF_FIELD)
        sent = value if isinstance(value, str) else None
    if not session.csrf_valid(request, sent):
        raise session.CsrfFailed(
            "This form has expired or did not come from Beeldbank; reload the page and try again."
        )


async def read_form(request: Request) -> FormData:
    """The posted form, parsed before a sync route runs (so the route stays off the loop)."""
    return await request.form()


FormDep = Annotated[FormData, Depends(read_form)]
