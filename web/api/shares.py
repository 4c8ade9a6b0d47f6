"""/api/v1 share links: create (the token is returned once), list per asset, revoke."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel

from dam.models import ShareLink, User
from gdpr.publishing import shares
from web.deps import SessionDep, SettingsDep, VisibleAsset, require

router = APIRouter(tags=["shares"])


class SharePublic(BaseModel):
    id: str
    asset_id: str
    channel: str
    state: str  # active | expired | revoked
    expires_at: datetime | None
    has_password: bool
    views: int
    created_by: str | None
    created_at: datetime
    revoked_at: datetime | None
    revoked_by: str | None


class ShareCreated(SharePublic):
    url: str
    token: str  # shown this once: only its hash is stored


def share_public(link: ShareLink) -> SharePublic:
    return SharePublic(
        id=link.id,
        asset_id=link.asset_id,
        channel=link.channel,
        state=shares.state_of(link),
        expires_at=link.expires_at,
        has_password=link.password_hash is not None,
        views=link.views,
        created_by=link.created_by,
        created_at=link.created_at,
        revoked_at=link.revoked_at,
        revoked_by=link.revoked_by,
    )


@router.post("/assets/{asset_id}/shares", status_code=201, response_model=ShareCreated)
def create_share(
    data: shares.ShareInput,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    user: User = Depends(require("shares.manage")),
    *,
    asset: VisibleAsset,
) -> ShareCreated:
    """A public link for one channel; it serves only while that channel's verdict is
    `cleared`. The token in the answer is never shown again."""
    created = shares.create_share(
        session, asset_id=asset.id, data=data, actor=user, settings=settings
    )
    return ShareCreated(
        **share_public(created.link).model_dump(),
        url=shares.share_url(str(request.base_url), created.token),
        token=created.token,
    )


@router.get("/assets/{asset_id}/shares", response_model=list[SharePublic])
def list_shares(
    session: SessionDep, user: User = Depends(require("shares.manage")), *, asset: VisibleAsset
) -> list[SharePublic]:
    """Every link of the asset, newest first, with its state and view count."""
    return [share_public(link) for link in shares.list_shares(session, asset.id)]


@router.delete("/shares/{link_id}", response_model=SharePublic)
def revoke_share(
    link_id: str, session: SessionDep, user: User = Depends(require("shares.manage"))
) -> SharePublic:
    """Revoke a link: from now on it answers 410 Gone."""
    return share_public(shares.revoke_share(session, link_id=link_id, actor=user))
