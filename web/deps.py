"""Dependencies as Annotated aliases; routes declare what they need and nothing else."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlmodel import Session

from dam.auth import PERMISSIONS, check_permission, user_for_token
from dam.blobs import BlobStore
from dam.errors import Unauthorized
from dam.models import User
from dam.runtime import Runtime
from dam.settings import Settings


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
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("Log in, or send an API token as 'Authorization: Bearer <token>'.")
    user = user_for_token(session, token.strip())
    session.commit()  # last_used_at
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
