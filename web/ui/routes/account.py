"""Log in, log out, choose the language."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from dam import accounts
from dam.errors import InvalidInput
from dam.oidc import OidcClient
from dam.settings import Settings
from web import browser_session as session
from web.deps import SessionDep, SettingsDep
from web.proxies import client_address
from web.ui import i18n
from web.ui.deps import TemplatesDep, ViewerDep, csrf_protect
from web.ui.ratelimit import LoginLimiter
from web.ui.redirects import safe_next, see_other
from web.ui.templating import Templates, Viewer, flash

router = APIRouter(include_in_schema=False, dependencies=[Depends(csrf_protect)])


def _limiter(request: Request) -> LoginLimiter:
    limiter: LoginLimiter = request.app.state.login_limiter
    return limiter


@router.get("/login")
def login_page(
    request: Request, viewer: ViewerDep, templates: TemplatesDep, next: str = "/"
) -> Response:
    if viewer.user is not None:
        return see_other(safe_next(next))
    return render_login(request, templates, viewer, next=safe_next(next))


def render_login(
    request: Request,
    templates: Templates,
    viewer: Viewer,
    *,
    status: int = 200,
    headers: dict[str, str] | None = None,
    next: str = "/",
    email: str = "",
    error: str | None = None,
) -> Response:
    """The login page with what it offers: single sign-on, the password form (or only the
    break-glass form when local login is off)."""
    settings: Settings = request.app.state.runtime.settings
    return templates.render(
        request,
        "login.html",
        viewer,
        status=status,
        headers=headers,
        next=next,
        email=email,
        error=error,
        sso_name=settings.oidc_display_name if settings.sso_enabled else "",
        local_login=settings.local_login,
    )


@router.post("/login")
async def log_in(
    request: Request,
    db: SessionDep,
    settings: SettingsDep,
    viewer: ViewerDep,
    templates: TemplatesDep,
    email: Annotated[str, Form(max_length=320)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    limiter, client = _limiter(request), client_address(request)
    wait = limiter.retry_after(client=client, email=email)
    if wait:
        minutes = max(1, -(-wait // 60))
        error = viewer.gettext(
            "Too many failed attempts. Try again in %(minutes)s minutes.", minutes=minutes
        )
        return render_login(
            request,
            templates,
            viewer,
            status=429,
            headers={"Retry-After": str(wait)},
            next=safe_next(next),
            email=email,
            error=error,
        )
    try:
        user = await run_in_threadpool(
            accounts.authenticate,
            db,
            email=email,
            password=password,
            local_login=settings.local_login,
        )
    except accounts.WrongCredentials:
        limiter.failed(client=client, email=email)
        return render_login(
            request,
            templates,
            viewer,
            status=401,
            next=safe_next(next),
            email=email,
            error=viewer.gettext(
                "The e-mail address or password is not right. Check both and try again."
            ),
        )
    limiter.succeeded(client=client, email=email)
    session.log_in(request, user.id)
    return see_other(safe_next(next))


@router.post("/logout")
def log_out(request: Request, db: SessionDep, viewer: ViewerDep) -> Response:
    signed_on = request.session.get("sso") is True
    if viewer.user is not None:
        accounts.record_logout(db, user=viewer.user)
    session.log_out(request)
    flash(request, "info", viewer.gettext("You are logged out."))
    client: OidcClient | None = getattr(request.app.state, "oidc", None)
    if signed_on and client is not None:
        # RP-initiated logout: end the session at the identity provider as well, which
        # sends the browser back to our login page.
        target = client.logout_url()
        if target:
            return RedirectResponse(target, status_code=303)
    return see_other("/login")


@router.post("/language")
def choose_language(
    request: Request,
    db: SessionDep,
    viewer: ViewerDep,
    locale: Annotated[str, Form(max_length=8)],
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    if locale not in i18n.LOCALES:
        raise InvalidInput("Unknown language.")
    session.remember_locale(request, locale)
    if viewer.user is not None:
        accounts.set_locale(db, user=viewer.user, locale=locale)
    return see_other(safe_next(next))
