"""Public pages of share links, for anyone with the link and no account: the share page
(`/s/<token>`), its files, and the embed page (`/embed/<token>`) for an iframe.

Every request resolves the link and checks the verdict for its channel at that moment,
so a revocation, an expiry or a withdrawn consent stops it at once. Nothing here touches
the browser session: these pages set no cookie, except the share page's own signed cookie
after its password was given (see web/ui/share_unlock.py). The password form carries no
CSRF token, because it needs no session: a forged post could only unlock a link for a
browser with a password the forger knows already; guessing is rate limited per client.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from dam.blobs import BlobStore
from dam.errors import DomainError, Gone, NotCleared, NotFound
from dam.models import ShareLink
from dam.settings import Settings
from gdpr import gate
from gdpr.publishing import shares
from web.deps import BlobsDep, SessionDep, SettingsDep
from web.files import file_response
from web.proxies import client_address
from web.ui import i18n
from web.ui.deps import TemplatesDep
from web.ui.ratelimit import LoginLimiter
from web.ui.redirects import see_other
from web.ui.share_unlock import COOKIE_NAME, MAX_AGE_S, is_unlocked, unlock_value
from web.ui.templating import Templates

router = APIRouter(include_in_schema=False)

Lang = Annotated[str | None, Query(max_length=8)]
# Shared pages are not for search engines, and must never come from a cache once the
# link stops (a withdrawn consent ends it at once).
NO_STORE = {"Cache-Control": "no-store", "X-Robots-Tag": "noindex, nofollow"}


def locale_of(request: Request, lang: str | None) -> str:
    """`?lang=` when it names a UI language, else the browser's, else Dutch."""
    return i18n.choose_locale(
        user_locale=lang,
        session_locale=None,
        accept_language=request.headers.get("accept-language"),
    )


def render(
    request: Request,
    templates: Templates,
    name: str,
    locale: str,
    *,
    status: int = 200,
    headers: dict[str, str] | None = None,
    **context: Any,
) -> HTMLResponse:
    """A public page: rendered without the session (no CSRF token, no flashes, no user)."""
    html = templates.envs[locale].get_template(name).render(request=request, **context)
    return HTMLResponse(html, status_code=status, headers={**NO_STORE, **(headers or {})})


def unavailable(
    request: Request, templates: Templates, locale: str, exc: DomainError, *, embed: bool
) -> HTMLResponse:
    """Why a link does not serve (gone, unknown, not cleared), without naming anyone."""
    reasons: list[str] = []
    if isinstance(exc, NotCleared):
        reasons = shares.public_reasons(
            list(exc.details.get("reasons") or []),
            channel=str(exc.details.get("channel") or ""),
            lang=locale,
        )
    return render(
        request,
        templates,
        "public/unavailable.html",
        locale,
        status=exc.status,
        embed=embed,
        problem=_problem(exc),
        expired_at=exc.details.get("at"),
        reasons=reasons,
    )


def _problem(exc: DomainError) -> str:
    if isinstance(exc, Gone):
        return str(exc.details.get("reason") or "gone")
    if isinstance(exc, NotCleared):
        return "not_cleared"
    if isinstance(exc, NotFound):
        return "not_found"
    return "error"


def share_limiter(request: Request) -> LoginLimiter:
    limiter: LoginLimiter | None = getattr(request.app.state, "share_limiter", None)
    if limiter is None:
        limiter = request.app.state.share_limiter = LoginLimiter()
    return limiter


def _unlocked(request: Request, link: ShareLink, settings: Settings) -> bool:
    return is_unlocked(settings.secret_key, request.cookies.get(COOKIE_NAME), link.id)


# What a public route is: the share page, one of its files, or the embed page. They differ
# only in what a locked link answers (the password form; a refusal, since a file cannot
# ask; the embed's pointer to the share page) and in the frame of the "unavailable" page.
Kind = Literal["page", "file", "embed"]


def open_link(
    request: Request,
    db: Session,
    settings: Settings,
    templates: Templates,
    token: str,
    *,
    kind: Kind,
    locale: str,
    serve: Callable[[shares.OpenedShare], Response],
) -> Response:
    """The one way a public route opens its link (gdpr.publishing.shares.open_share):
    `serve(opened)` when it serves, else the password form, or the page that says why not
    without naming anyone.
    An embed never reads the password cookie (it is scoped to the share page anyway), so a
    protected link is never embedded."""
    embed = kind == "embed"
    try:
        opened = shares.open_share(
            db,
            token,
            unlocked=lambda link: not embed and _unlocked(request, link, settings),
            settings=settings,
            lang=locale,
        )
        if not opened.locked:
            return serve(opened)
    except (NotFound, Gone, NotCleared) as exc:
        return unavailable(request, templates, locale, exc, embed=embed)
    if embed:
        return render(request, templates, "public/embed_protected.html", locale, token=token)
    return _password_form(request, templates, locale, token, status=403 if kind == "file" else 200)


# --- the share page -----------------------------------------------------------------------


@router.get("/s/{token}")
def share_page(
    token: str,
    request: Request,
    db: SessionDep,
    settings: SettingsDep,
    templates: TemplatesDep,
    lang: Lang = None,
) -> Response:
    locale = locale_of(request, lang)

    def page(opened: shares.OpenedShare) -> Response:
        link = opened.link
        shared = shares.shared_asset(db, link)
        shares.count_view(db, link)
        return render(
            request,
            templates,
            "public/share.html",
            locale,
            token=token,
            shared=shared,
            channel=link.channel,
            expires_at=link.expires_at,
            lang_param=lang if lang == locale else None,
        )

    return open_link(
        request, db, settings, templates, token, kind="page", locale=locale, serve=page
    )


def _password_form(
    request: Request,
    templates: Templates,
    locale: str,
    token: str,
    *,
    status: int = 200,
    error: str = "",
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    return render(
        request,
        templates,
        "public/password.html",
        locale,
        status=status,
        headers=headers,
        token=token,
        error=error,
    )


@router.post("/s/{token}")
async def unlock(
    token: str,
    request: Request,
    db: SessionDep,
    settings: SettingsDep,
    templates: TemplatesDep,
    password: Annotated[str, Form(max_length=1024)] = "",
    lang: Annotated[str | None, Form(max_length=8)] = None,
) -> Response:
    """The password form: right, and the link opens for a few hours in this browser."""
    locale = locale_of(request, lang)
    try:
        link = await run_in_threadpool(shares.resolve, db, token)
    except (NotFound, Gone) as exc:
        return unavailable(request, templates, locale, exc, embed=False)
    limiter, client = share_limiter(request), client_address(request)
    wait = limiter.retry_after(client=client, email=link.id)
    if wait:
        return _password_form(
            request,
            templates,
            locale,
            token,
            status=429,
            error="wait",
            headers={"Retry-After": str(wait)},
        )
    if not await run_in_threadpool(shares.password_ok, link, password):
        limiter.failed(client=client, email=link.id)
        return _password_form(request, templates, locale, token, status=403, error="wrong")
    limiter.succeeded(client=client, email=link.id)
    target = shares.share_path(token) + (f"?lang={locale}" if lang else "")
    response = see_other(target)
    response.set_cookie(
        COOKIE_NAME,
        unlock_value(settings.secret_key, link.id),
        max_age=MAX_AGE_S,
        path=shares.share_path(token),
        httponly=True,
        samesite="lax",
        secure=settings.environment == "production",
    )
    return response


# --- the files ----------------------------------------------------------------------------


def _serve(
    request: Request,
    db: Session,
    settings: Settings,
    blobs: BlobStore,
    templates: Templates,
    token: str,
    variant: shares.Variant,
) -> Response:
    locale = locale_of(request, None)

    def send(opened: shares.OpenedShare) -> Response:
        ask = gate.SharedFile(variant=variant)
        released = gate.release(db, ask, by=opened, settings=settings, blobs=blobs, lang=locale)
        return file_response(released, request)

    return open_link(
        request, db, settings, templates, token, kind="file", locale=locale, serve=send
    )


@router.get("/s/{token}/file")
def shared_file(
    token: str,
    request: Request,
    db: SessionDep,
    settings: SettingsDep,
    blobs: BlobsDep,
    templates: TemplatesDep,
) -> Response:
    """The picture or video in the size the page shows."""
    return _serve(request, db, settings, blobs, templates, token, "view")


@router.get("/s/{token}/poster")
def shared_poster(
    token: str,
    request: Request,
    db: SessionDep,
    settings: SettingsDep,
    blobs: BlobsDep,
    templates: TemplatesDep,
) -> Response:
    return _serve(request, db, settings, blobs, templates, token, "poster")


@router.get("/s/{token}/download")
def shared_download(
    token: str,
    request: Request,
    db: SessionDep,
    settings: SettingsDep,
    blobs: BlobsDep,
    templates: TemplatesDep,
) -> Response:
    """The channel's rendition as a download (the same file the API's download gives)."""
    return _serve(request, db, settings, blobs, templates, token, "download")


@router.get("/s/{token}/captions/{language}.vtt")
def shared_captions(
    token: str,
    language: str,
    request: Request,
    db: SessionDep,
    settings: SettingsDep,
    blobs: BlobsDep,
    templates: TemplatesDep,
) -> Response:
    locale = locale_of(request, None)

    def send(opened: shares.OpenedShare) -> Response:
        ask = gate.SharedCaptions(language=language)
        released = gate.release(db, ask, by=opened, settings=settings, blobs=blobs, lang=locale)
        return file_response(released, request)

    return open_link(
        request, db, settings, templates, token, kind="file", locale=locale, serve=send
    )


# --- the embed page -----------------------------------------------------------------------


@router.get("/embed/{token}")
def embed_page(
    token: str,
    request: Request,
    db: SessionDep,
    settings: SettingsDep,
    templates: TemplatesDep,
    lang: Lang = None,
) -> Response:
    """The picture or player alone, for an iframe on another site: no cookies, nothing
    from other sites, framing allowed (web/ui/security.py)."""
    locale = locale_of(request, lang)

    def page(opened: shares.OpenedShare) -> Response:
        shared = shares.shared_asset(db, opened.link)
        shares.count_view(db, opened.link)
        return render(request, templates, "public/embed.html", locale, token=token, shared=shared)

    return open_link(
        request, db, settings, templates, token, kind="embed", locale=locale, serve=page
    )
