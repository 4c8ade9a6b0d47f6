"""The verdict as API.md shows it, and the download that enforces it."""

from __future__ import annotations

from functools import partial
from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import FileResponse, JSONResponse, Response

from dam.models import User
from dam.presets import VIDEO_PRESETS
from gdpr import gate
from gdpr.publishing import delivery, redaction
from ingest.video import captions as video_captions
from web.api.verdict_schemas import verdict_public
from web.deps import BlobsDep, SessionDep, SettingsDep, VisibleAsset, require
from web.errors import api_locale
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
    """Each channel's verdict with its reasons (messages in the language of the API's
    answers: the browser session's, else Accept-Language, else English)."""
    lang = api_locale(request)
    return verdict_public(session, asset.id, settings=settings, user=user, lang=lang)


@router.get(
    "/{asset_id}/download", response_class=FileResponse, responses=errors(403, 409, 415, 416, 422)
)
def download(
    asset_id: str,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    blobs: BlobsDep,
    channel: str = Query(..., max_length=32),
    redact: bool = False,
    preset: str | None = Query(None, max_length=32),
    format: str | None = Query(None, max_length=8),
    width: int | None = Query(None, ge=16, le=12_000),
    height: int | None = Query(None, ge=16, le=12_000),
    crop: str | None = Query(None, max_length=100),
    usage: str | None = Query(None, max_length=2000),
    captions: str | None = Query(None, max_length=200),
    user: User = Depends(require("assets.download_rendition")),
) -> Response:
    """The file for `channel` when its verdict is `cleared`; otherwise 409 with the
    reasons, unless `redact=true` asks for a version with every face that is not cleared
    blurred (a video's is made by a job: 202 until it is there). Photos come in a
    `preset` (default `large`), optionally with a `format`, custom `width`/`height` and
    `crop` (x,y,w,h fractions of the upright image), with their metadata written; videos
    in `web_720` or `web_1080`. `usage` records where the file will be published."""
    lang = api_locale(request)
    options = None
    if any(v is not None for v in (preset, format, width, height, crop, usage)):
        options = delivery.Options(
            preset=preset or "large",
            fmt=format,
            width=width,
            height=height,
            crop=crop,
            usage=usage,
        )
    captioned = None
    if captions is not None and asset_id.isalnum():  # a video with its captions built in
        rendition = preset if preset in VIDEO_PRESETS else "web_1080"
        wanted = [part.strip() for part in captions.split(",") if part.strip()]
        captioned = partial(
            video_captions.captioned_video,
            session,
            blobs,
            asset_id=asset_id,
            rendition=rendition,
            languages=wanted,
        )
    ask = gate.ChannelDownload(
        asset_id=asset_id, channel=channel, redact=redact, options=options, captioned=captioned
    )
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
