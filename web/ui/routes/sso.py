"""Single sign-on through OpenID Connect: off to the identity provider and back."""

from __future__ import annotations

import logging

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from dam import sso
from dam.errors import NotFound
from dam.oidc import OidcClient, SsoFailed
from web import browser_session as session
from web.deps import SessionDep, SettingsDep
from web.ui.deps import TemplatesDep, ViewerDep
from web.ui.redirects import safe_next, see_other
from web.ui.routes.account import render_login
from web.ui.templating import Templates, Viewer

router = APIRouter(include_in_schema=False)
log = logging.getLogger(__name__)

STATE_KEY = "sso_state"  # binds a sign-on to the browser that started it


def oidc_client(request: Request) -> OidcClient:
    client: OidcClient | None = getattr(request.app.state, "oidc", None)
    if client is None:
        raise NotFound("Single sign-on is not configured.")
    return client


@router.get("/login/sso")
async def start(
    request: Request, db: SessionDep, viewer: ViewerDep, templates: TemplatesDep, next: str = "/"
) -> Response:
    client = oidc_client(request)
    try:
        auth_request = await run_in_threadpool(client.start)  # discovery on first use
    except SsoFailed as failed:
        return refused(request, templates, viewer, failed)
    await run_in_threadpool(sso.remember, db, request=auth_request, next_url=safe_next(next))
    request.session[STATE_KEY] = auth_request.state
    return RedirectResponse(auth_request.url, status_code=303)


@router.get("/login/sso/callback")
async def callback(
    request: Request,
    db: SessionDep,
    settings: SettingsDep,
    viewer: ViewerDep,
    templates: TemplatesDep,
    state: str = "",
    code: str = "",
    error: str = "",
    iss: str = "",
) -> Response:
    client = oidc_client(request)
    expected = request.session.pop(STATE_KEY, None)
    try:
        if expected is None or expected != state:
            raise SsoFailed("state_unknown", "The sign-on was not started in this browser.")
        pending = await run_in_threadpool(sso.take, db, state=state)
        if error or not code:
            raise SsoFailed("provider_refused", "The identity provider gave no code.")
        if iss and iss.rstrip("/") != client.issuer:
            # RFC 9207: an answer naming another issuer is a mix-up attack.
            raise SsoFailed("issuer_mismatch", "The answer came from another issuer.")
        claims = await run_in_threadpool(
            client.finish, code=code, nonce=pending.nonce, code_verifier=pending.code_verifier
        )
        user = await run_in_threadpool(sso.sign_in, db, claims=claims, settings=settings)
    except SsoFailed as failed:
        return refused(request, templates, viewer, failed)
    session.log_in(request, user.id)
    request.session["sso"] = True
    return see_other(pending.next_url)


def refused(request: Request, templates: Templates, viewer: Viewer, failed: SsoFailed) -> Response:
    """The login page saying why signing on did not work."""
    # The reason only: claims hold names and addresses, which stay out of the logs.
    log.warning("single sign-on refused: %s", failed.reason)
    return render_login(
        request,
        templates,
        viewer,
        status=502 if failed.reason == "provider_unreachable" else 401,
        error=failure_text(viewer, failed.reason),
    )


def failure_text(viewer: Viewer, reason: str) -> str:
    """What a person reads when a sign-on fails, in their language."""
    if reason == "account_disabled":
        return viewer.gettext(
            "Your account in Beeldbank is switched off. Ask an administrator to switch it on."
        )
    if reason == "no_role":
        return viewer.gettext(
            "Your organisation has not given you access to Beeldbank. Ask your administrator."
        )
    if reason == "provider_unreachable":
        return viewer.gettext(
            "The identity provider cannot be reached right now. Try again in a moment."
        )
    if reason == "email_taken":
        return viewer.gettext(
            "Another account in Beeldbank uses your e-mail address. Ask an administrator."
        )
    if reason == "no_email":
        return viewer.gettext("The identity provider did not send your e-mail address.")
    return viewer.gettext("Signing in did not work. Start again with the button below.")
