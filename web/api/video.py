"""/api/v1/assets/{id}/playback and /captions: what players need, captions per language,
and the web version with captions built in."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import FileResponse, JSONResponse
from starlette.concurrency import run_in_threadpool

from dam.errors import N_, TooLarge
from dam.models import User
from dam.sizes import Size
from gdpr import gate
from ingest.video import captions as service
from ingest.video.cues import MAX_BYTES
from web.api.video_schemas import CaptionPublic, PlaybackPublic, caption_public, playback_public
from web.deps import BlobsDep, SessionDep, SettingsDep, VisibleAsset, require
from web.files import file_response
from web.openapi import errors

router = APIRouter(prefix="/assets", tags=["video"])


@router.get("/{asset_id}/playback", response_model=PlaybackPublic)
def get_playback(
    session: SessionDep, user: User = Depends(require("assets.read")), *, asset: VisibleAsset
) -> PlaybackPublic:
    """Sources (smallest first), poster, storyboard and caption tracks of a video."""
    return playback_public(session, asset.id)


@router.get("/{asset_id}/captions", response_model=list[CaptionPublic])
def list_captions(
    session: SessionDep, user: User = Depends(require("assets.read")), *, asset: VisibleAsset
) -> list[CaptionPublic]:
    return [caption_public(c) for c in service.list_captions(session, asset.id)]


@router.put(
    "/{asset_id}/captions/{language}",
    response_model=CaptionPublic,
    responses={201: {"model": CaptionPublic, "description": "New captions"}},
)
async def put_caption(
    language: str,
    request: Request,
    session: SessionDep,
    label: Annotated[str | None, Query(max_length=100)] = None,
    kind: Literal["subtitles", "captions"] = "subtitles",
    user: User = Depends(require("assets.edit")),
    *,
    asset: VisibleAsset,
) -> JSONResponse:
    """Add (201) or replace (200) the captions in `language`: the request body is the
    WebVTT or SRT file (`curl -T nl.srt ...`); SRT is converted to WebVTT."""
    data = await read_limited(request, MAX_BYTES)
    caption, created = await run_in_threadpool(
        lambda: service.add_caption(
            session,
            asset_id=asset.id,
            language=language,
            data=data,
            actor=user,
            label=label,
            kind=kind,
        )
    )
    return JSONResponse(
        caption_public(caption).model_dump(mode="json"), status_code=201 if created else 200
    )


async def read_limited(request: Request, limit: int) -> bytes:
    """The request body, refused (413) as soon as it passes `limit` bytes."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise _too_large(limit)
    body = bytearray()
    async for chunk in request.stream():
        body.extend(chunk)
        if len(body) > limit:
            raise _too_large(limit)
    return bytes(body)


def _too_large(limit: int) -> TooLarge:
    return TooLarge(
        N_("A caption file is at most %(limit)s; this is not one."),
        params={"limit": Size(limit)},
    )


@router.get("/{asset_id}/captions/{language}", response_class=Response, responses=errors(409))
def get_caption(
    asset_id: str,
    language: str,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    blobs: BlobsDep,
    fmt: Annotated[Literal["vtt", "srt"], Query(alias="format")] = "vtt",
    user: User = Depends(require("assets.download_rendition")),
) -> Response:
    """The captions as WebVTT (a <track> source) or, with format=srt, as SRT."""

    def build() -> gate.Payload:
        caption = service.get_caption(session, asset_id, language)
        served = service.caption_file(caption, fmt=fmt)
        return gate.Payload(
            media_type=f"{served.mime}; charset=utf-8",
            content=served.data,
            filename=served.filename,
            etag=f'"{caption.sha256}-{fmt}"',
        )

    ask = gate.CaptionFile(asset_id=asset_id, language=language, fmt=fmt, build=build)
    released = gate.release(session, ask, by=user, settings=settings, blobs=blobs)
    return file_response(released, request)


@router.delete("/{asset_id}/captions/{language}", status_code=204)
def delete_caption(
    language: str,
    session: SessionDep,
    user: User = Depends(require("assets.edit")),
    *,
    asset: VisibleAsset,
) -> Response:
    service.delete_caption(session, asset_id=asset.id, language=language, actor=user)
    return Response(status_code=204)


@router.get("/{asset_id}/captioned/{name}", response_class=FileResponse, responses=errors(409, 416))
async def get_captioned_video(
    asset_id: str,
    name: str,
    session: SessionDep,
    settings: SettingsDep,
    blobs: BlobsDep,
    languages: Annotated[str, Query(max_length=200)] = "",
    user: User = Depends(require("assets.download_rendition")),
) -> Response:
    """A web version with its captions (all, or `languages=nl,en`) as MP4 text tracks."""
    wanted = [part for part in languages.split(",") if part.strip()]
    ask = gate.CaptionedVideo(
        asset_id=asset_id,
        name=name,
        languages=tuple(wanted),
        build=lambda: service.captioned_video(
            session, blobs, asset_id=asset_id, rendition=name, languages=wanted
        ),
    )
    released = await run_in_threadpool(
        lambda: gate.release(session, ask, by=user, settings=settings, blobs=blobs)
    )
    return file_response(released)
