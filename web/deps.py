"""Dependencies as Annotated aliases; routes declare what they need and nothing else."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlmodel import Session

from dam.accounts import active_user
from dam.assets import get_library_asset
from dam.auth import PERMISSIONS, check_permission, user_for_token
from dam.blobs import BlobStore
from dam.errors import Unauthorized
from dam.models import Asset, Face, User
from dam.runtime import Runtime
from dam.settings import Settings
from gdpr.recognition.faces_view import get_visible_face
from web import browser_session


def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


def get_settings(runtime: RuntimeDep) -> Settings:
    return runtime.settings


def get_blobs(runtime: RuntimeDep) -> BlobStore:
    return runtime.blobs


def get_session(runtime: RuntimeDep) -> Iterator[Session]:
    with runtime.session() as session:
        yield session


SettingsDep = Annotated[Settings, Depends(get_settings)]
BlobsDep = Annotated[BlobStore, Depends(get_blobs)]
SessionDep = Annotated[Session, Depends(get_session)]


def get_current_user(request: Request, session: SessionDep) -> User:
    header = request.headers.get("authorization", "")
    if not header and (uid := browser_session.user_id(request)) is not None:
        return _session_user(request, session, uid)
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("Log in, or send an API token as 'Authorization: Bearer <token>'.")
    user = user_for_token(session, token.strip())
    session.commit()  # last_used_at
    return user


def _session_user(request: Request, session: Session, uid: str) -> User:
    """The browser session's user (the UI's scripts call the API with the cookie)."""
    user = active_user(session, uid)
    if user is None:
        raise Unauthorized("Your session has ended; log in again.")
    # A cookie rides along with requests other sites trigger; a state-changing call must
    # also prove it comes from our own page. Bearer tokens are never sent implicitly.
    sent = request.headers.get(browser_session.CSRF_HEADER)
    if request.method not in browser_session.SAFE_METHODS and not browser_session.csrf_valid(
        request, sent
    ):
        raise browser_session.CsrfFailed("The request lacks this session's CSRF token.")
    return user


CurrentUser = Annotated[User, Depends(get_current_user)]


def require(permission: str) -> Callable[[User], User]:
    """A dependency that lets the request through only for roles with `permission`."""
    if permission not in PERMISSIONS:
        raise KeyError(permission)

    def dependency(user: CurrentUser) -> User:
        check_permission(user, permission)
        return user

    dependency.permission = permission  # type: ignore[attr-defined]  # read by the role-matrix test
    return dependency


def visible_asset(asset_id: str, session: SessionDep, user: CurrentUser) -> Asset:
    """The library asset named by the `asset_id` path (or query) parameter, if the caller
    may see it. Restricted assets they may not see, consent evidence and missing ids all
    get the same 404, so no route can confirm that an id exists. Declare it after the
    route's permission, so a role without the permission gets its 403 first."""
    return get_library_asset(session, asset_id, user)


def optional_visible_asset(
    session: SessionDep, user: CurrentUser, asset_id: str | None = None
) -> Asset | None:
    """As VisibleAsset for an optional `asset_id` query parameter (a listing's filter)."""
    return None if asset_id is None else get_library_asset(session, asset_id, user)


# Every route that takes an asset id loads the asset through one of these
# (tests/test_visibility.py walks the routes).
VisibleAsset = Annotated[Asset, Depends(visible_asset)]
OptionalVisibleAsset = Annotated[Asset | None, Depends(optional_visible_asset)]


def visible_face(face_id: str, session: SessionDep, user: CurrentUser) -> Face:
    """The face named by the `face_id` path parameter, 404 as for a missing id when it is
    on an asset the caller may not see."""
    return get_visible_face(session, face_id, user)


VisibleFace = Annotated[Face, Depends(visible_face)]
