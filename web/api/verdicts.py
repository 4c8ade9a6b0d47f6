"""The verdict as API.md shows it, and the download that enforces it."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import FileResponse, Response

from dam.assets import get_visible_asset
from dam.auth import has_permission
from dam.models import User
from gdpr import egress
from gdpr.verdict_text import language
from web.api.verdict_schemas import verdict_public
from web.deps import BlobsDep, SessionDep, SettingsDep, require

router = APIRouter(prefix="/assets", tags=["consent"])


@router.get("/{asset_id}/verdict")
def get_verdict(
    asset_id: str,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    user: User = Depends(require("assets.read")),
) -> dict[str, Any]:
    """Each channel's verdict with its reasons (messages in the Accept-Language)."""
    get_visible_asset(session, asset_id, user)
    lang = language(request.headers.get("accept-language"))
    return verdict_public(session, asset_id, settings=settings, user=user, lang=lang)


@router.get("/{asset_id}/download", response_class=FileResponse)
def download(
    asset_id: str,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    blobs: BlobsDep,
    channel: str = Query(..., max_length=32),
    redact: bool = False,
    user: User = Depends(require("assets.download_rendition")),
) -> Response:
    """The best rendition for `channel` when its verdict is `cleared`; otherwise 409 with
    the reasons, unless `redact=true` asks for a version with every face that is not
    cleared blurred."""
    asset = get_visible_asset(session, asset_id, user)
    lang = language(request.headers.get("accept-language"))
    show_names = has_permission(user, "people.read")
    if redact:
        from gdpr import redaction

        result = redaction.redacted_download(
            session, blobs, asset, channel, settings=settings, actor=user, lang=lang
        )
        return FileResponse(
            result.path,
            media_type=result.mime,
            filename=result.filename,
            headers={"Cache-Control": "private, no-store"},
        )
    rendition = egress.cleared_download(
        session, asset, channel, settings=settings, actor=user, lang=lang, names_visible=show_names
    )
    stem = asset.filename.rsplit(".", 1)[0] or asset.id
    ext = rendition.path.rsplit(".", 1)[-1]
    return FileResponse(
        blobs.root / rendition.path,
        media_type=rendition.mime,
        filename=f"{stem}-{channel}.{ext}",
        headers={"Cache-Control": "private, no-store"},
    )
