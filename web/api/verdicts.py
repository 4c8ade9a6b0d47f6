"""The verdict as API.md shows it, and the download that enforces it."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import FileResponse, JSONResponse, Response

from dam.assets import get_visible_asset
from dam.auth import has_permission
from dam.models import User
from gdpr import egress, redaction
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
    cleared blurred (a video's is made by a job: 202 until it is there)."""
    asset = get_visible_asset(session, asset_id, user)
    lang = language(request.headers.get("accept-language"))
    show_names = has_permission(user, "people.read")
    if redact:
        result = redaction.redacted_download(
            session, blobs, asset, channel, settings=settings, actor=user, lang=lang
        )
        if isinstance(result, redaction.Pending):  # a video: a job makes it, ask again
            return pending_download(request, result)
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


def pending_download(request: Request, pending: redaction.Pending) -> Response:
    """202: the redacted video is being made; the same URL returns it once it is there."""
    status_url = f"/api/v1/jobs/{pending.job_id}"
    body = {
        "job_id": pending.job_id,
        "status": pending.status,
        "progress": pending.progress,
        "status_url": status_url,
        "download_url": f"{request.url.path}?{request.url.query}",
    }
    headers = {"Retry-After": "2", "Location": status_url, "Cache-Control": "no-store"}
    return JSONResponse(body, status_code=202, headers=headers)
