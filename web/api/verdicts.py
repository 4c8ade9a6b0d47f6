"""The verdict as API.md shows it, and the download that enforces it."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import FileResponse, JSONResponse, Response

from dam.models import User
from gdpr import gate
from gdpr.judgement.verdict_text import language
from gdpr.publishing import redaction
from web.api.verdict_schemas import verdict_public
from web.deps import BlobsDep, SessionDep, SettingsDep, VisibleAsset, require
from web.files import file_response
from web.openapi import errors

router = APIRouter(prefix="/assets", tags=["consent"])


@router.get("/{asset_id}/verdict")
def get_verdict(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    user: User = Depends(require("assets.read")),
    *,
    asset: VisibleAsset,
) -> dict[str, Any]:
    """Each channel's verdict with its reasons (messages in the Accept-Language)."""
    lang = language(request.headers.get("accept-language"))
    return verdict_public(session, asset.id, settings=settings, user=user, lang=lang)


@router.get("/{asset_id}/download", response_class=FileResponse, responses=errors(409, 416))
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
    lang = language(request.headers.get("accept-language"))
    ask = gate.ChannelDownload(asset_id=asset_id, channel=channel, redact=redact)
    released = gate.release(session, ask, by=user, settings=settings, blobs=blobs, lang=lang)
    if released.pending is not None:  # a video: a job makes it, ask again
        return pending_download(request, released.pending)
    return file_response(released)


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
