"""Administration: users (create, role, deactivate), API tokens, a settings overview."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response

from dam import accounts, auth
from dam.errors import DomainError
from dam.models import Role
from dam.settings import Settings
from web.deps import SessionDep, SettingsDep
from web.ui import labels, setting_values
from web.ui.deps import TemplatesDep, csrf_protect, page
from web.ui.redirects import see_other
from web.ui.templating import Viewer, flash

router = APIRouter(prefix="/admin", include_in_schema=False, dependencies=[Depends(csrf_protect)])

Admin = Annotated[Viewer, Depends(page("users.manage"))]


def _users_page(
    request: Request,
    db: SessionDep,
    viewer: Viewer,
    templates: TemplatesDep,
    *,
    values: dict[str, str] | None = None,
    error: str | None = None,
    status: int = 200,
) -> Response:
    return templates.render(
        request,
        "admin/users.html",
        viewer,
        status=status,
        users=accounts.list_users(db),
        roles=list(Role),
        values=values or {"email": "", "role": Role.viewer.value},
        error=error,
        min_password=auth.MIN_PASSWORD_LENGTH,
        local_login=request.app.state.runtime.settings.local_login,
    )


@router.get("/users")
def users(request: Request, db: SessionDep, viewer: Admin, templates: TemplatesDep) -> Response:
    return _users_page(request, db, viewer, templates)


@router.post("/users")
def create_user(
    request: Request,
    db: SessionDep,
    viewer: Admin,
    templates: TemplatesDep,
    email: Annotated[str, Form(max_length=320)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    role: Annotated[Role, Form()] = Role.viewer,
) -> Response:
    assert viewer.user is not None
    try:
        user = auth.create_user(
            db, email=email, password=password, role=role, actor_id=viewer.user.id
        )
        db.commit()
    except DomainError as exc:
        db.rollback()
        return _users_page(
            request,
            db,
            viewer,
            templates,
            values={"email": email, "role": role.value},
            error=viewer.explain(exc),
            status=exc.status,
        )
    flash(request, "success", viewer.gettext("User %(email)s created.", email=user.email))
    return see_other("/admin/users")


@router.post("/users/{user_id}/role")
def change_role(
    user_id: str,
    request: Request,
    db: SessionDep,
    viewer: Admin,
    role: Annotated[Role, Form()],
) -> Response:
    assert viewer.user is not None
    try:
        user = accounts.change_role(db, user_id=user_id, role=role, actor=viewer.user)
    except DomainError as exc:
        flash(request, "error", viewer.explain(exc))
        return see_other("/admin/users")
    flash(
        request,
        "success",
        viewer.gettext(
            "%(email)s is now %(role)s.",
            email=user.email,
            role=viewer.gettext(labels.role[role.value]),
        ),
    )
    return see_other("/admin/users")


@router.post("/users/{user_id}/active")
def set_active(
    user_id: str,
    request: Request,
    db: SessionDep,
    viewer: Admin,
    active: Annotated[str, Form(max_length=1)],
) -> Response:
    assert viewer.user is not None
    try:
        user = accounts.set_active(db, user_id=user_id, active=active == "1", actor=viewer.user)
    except DomainError as exc:
        flash(request, "error", viewer.explain(exc))
        return see_other("/admin/users")
    if user.is_active:
        message = viewer.gettext("%(email)s can log in again.", email=user.email)
    else:
        message = viewer.gettext("%(email)s is deactivated.", email=user.email)
    flash(request, "success", message)
    return see_other("/admin/users")


def _tokens_page(
    request: Request,
    db: SessionDep,
    viewer: Viewer,
    templates: TemplatesDep,
    *,
    new_token: str | None = None,
    status: int = 200,
) -> Response:
    return templates.render(
        request,
        "admin/tokens.html",
        viewer,
        status=status,
        tokens=accounts.list_tokens(db),
        users=[u for u in accounts.list_users(db) if u.is_active],
        new_token=new_token,
    )


@router.get("/tokens")
def tokens(request: Request, db: SessionDep, viewer: Admin, templates: TemplatesDep) -> Response:
    return _tokens_page(request, db, viewer, templates)


@router.post("/tokens")
def create_token(
    request: Request,
    db: SessionDep,
    viewer: Admin,
    templates: TemplatesDep,
    user_id: Annotated[str, Form(max_length=32)],
    name: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    assert viewer.user is not None
    owner = accounts.get_user(db, user_id)
    token = auth.create_token(db, user=owner, name=name.strip(), actor_id=viewer.user.id)
    db.commit()
    # Rendered, not redirected: the token exists only in this response (its hash is stored).
    return _tokens_page(request, db, viewer, templates, new_token=token, status=201)


@router.post("/tokens/{token_id}/revoke")
def revoke_token(token_id: str, request: Request, db: SessionDep, viewer: Admin) -> Response:
    assert viewer.user is not None
    accounts.revoke_token(db, token_id=token_id, actor=viewer.user)
    flash(request, "success", viewer.gettext("The token is revoked."))
    return see_other("/admin/tokens")


def setting_rows(settings: Settings, locale: str) -> list[tuple[str, setting_values.Shown, str]]:
    """(name, value in words and as typed, description) for every setting; secrets never
    shown."""
    return [
        (
            f"DAM_{name.upper()}",
            setting_values.shown(name, getattr(settings, name), locale),
            info.description or "",
        )
        for name, info in Settings.model_fields.items()
    ]


@router.get("/settings")
def settings_overview(
    request: Request, settings: SettingsDep, viewer: Admin, templates: TemplatesDep
) -> Response:
    return templates.render(
        request, "admin/settings.html", viewer, rows=setting_rows(settings, viewer.locale)
    )
