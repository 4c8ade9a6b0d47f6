"""/api/v1/downloads: a selection as one ZIP (a job packs it), its progress, its file;
/api/v1/assets/{id}/crops: the crop per preset; /api/v1/assets/{id}/review-requests."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import FileResponse, JSONResponse, Response
from pydantic import BaseModel, Field

from dam.crops import Crop, checked_box
from dam.geometry import Box
from dam.models import DownloadBatch, User
from gdpr import gate
from gdpr.publishing import delivery, download_batches
from web import catalogs
from web.deps import BlobsDep, SessionDep, SettingsDep, VisibleAsset, require
from web.errors import api_locale
from web.files import file_response
from web.openapi import errors

router = APIRouter(tags=["downloads"])


class DownloadPublic(BaseModel):
    id: str
    status: str
    progress: float
    done: int
    total: int
    included: int
    channel: str
    preset: str
    redact: bool
    error: str | None
    expires_at: datetime
    file_url: str | None
    outcomes: list[dict[str, Any]] | None


def download_public(batch: DownloadBatch, *, locale: str = "en") -> DownloadPublic:
    """A ZIP batch as API.md shows it; why it failed in `locale` (the caller's language)."""
    return DownloadPublic(
        id=batch.id,
        status=batch.status,
        progress=download_batches.progress(batch),
        done=batch.done,
        total=batch.total,
        included=batch.included,
        channel=batch.channel,
        preset=batch.preset,
        redact=batch.redact,
        error=catalogs.failure_text(locale, batch),
        expires_at=batch.expires_at,
        file_url=f"/api/v1/downloads/{batch.id}/file" if batch.status == "done" else None,
        outcomes=batch.outcomes,
    )


@router.post("/downloads", status_code=202, response_model=DownloadPublic, responses=errors(422))
def create_download(
    data: download_batches.BatchInput,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    user: User = Depends(require("assets.download_rendition")),
) -> JSONResponse:
    """Pack `asset_ids` for `channel` in `preset` as one ZIP; 202 with its id."""
    locale = api_locale(request)
    batch = download_batches.create_batch(
        session, data=data, actor=user, settings=settings, lang=locale
    )
    session.refresh(batch)
    body = download_public(batch, locale=locale).model_dump(mode="json")
    headers = {"Location": f"/api/v1/downloads/{batch.id}"}
    return JSONResponse(body, status_code=202, headers=headers)


@router.get("/downloads/{batch_id}", response_model=DownloadPublic, responses=errors(404))
def read_download(
    batch_id: str,
    request: Request,
    session: SessionDep,
    user: User = Depends(require("assets.download_rendition")),
) -> DownloadPublic:
    """Status and progress; `file_url` once the ZIP is there."""
    batch = download_batches.get_batch(session, batch_id, user)
    return download_public(batch, locale=api_locale(request))


@router.get(
    "/downloads/{batch_id}/file",
    response_class=FileResponse,
    responses=errors(404, 409, 410),
)
def download_file(
    batch_id: str,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    blobs: BlobsDep,
    user: User = Depends(require("assets.download_rendition")),
) -> Response:
    """The ZIP (409 while it is being made, 410 after a day)."""
    ask = gate.DownloadArchive(batch_id=batch_id)
    released = gate.release(session, ask, by=user, settings=settings, blobs=blobs)
    return file_response(released, request)


class CropInput(BaseModel):
    model_config = {"extra": "forbid"}

    x: float = Field(ge=0, le=1)
    y: float = Field(ge=0, le=1)
    w: float = Field(gt=0, le=1)
    h: float = Field(gt=0, le=1)


class CropPublic(BaseModel):
    preset: str
    x: float
    y: float
    w: float
    h: float
    source: str  # saved, faces, attention or full
    faces_whole: bool


def crop_public(preset: str, crop: Crop) -> CropPublic:
    b = crop.box
    return CropPublic(
        preset=preset, x=b.x, y=b.y, w=b.w, h=b.h, source=crop.source, faces_whole=crop.faces_whole
    )


@router.get("/assets/{asset_id}/crops", response_model=list[CropPublic], responses=errors(404))
def list_crops(
    session: SessionDep,
    settings: SettingsDep,
    blobs: BlobsDep,
    user: User = Depends(require("assets.read")),
    *,
    asset: VisibleAsset,
) -> list[CropPublic]:
    """The crop each crop preset would use now (saved, or automatic)."""
    found = delivery.crops_for_asset(session, blobs, asset, settings)
    return [crop_public(name, crop) for name, crop in found.items()]


@router.put(
    "/assets/{asset_id}/crops/{preset}", response_model=CropPublic, responses=errors(404, 422)
)
def save_crop(
    preset: str,
    data: CropInput,
    session: SessionDep,
    settings: SettingsDep,
    user: User = Depends(require("assets.read")),
    *,
    asset: VisibleAsset,
) -> CropPublic:
    """Remember a crop for `preset` (made to the preset's shape)."""
    box: Box = checked_box(data.x, data.y, data.w, data.h)
    row = delivery.save_crop(
        session, asset=asset, preset=preset, box=box, actor=user, settings=settings
    )
    saved = Box(row.x, row.y, row.w, row.h)
    return crop_public(preset, delivery.chosen_crop(saved, delivery.face_boxes(session, asset.id)))


class ReviewInput(BaseModel):
    model_config = {"extra": "forbid"}

    channel: str = Field(min_length=1, max_length=32)


@router.post("/assets/{asset_id}/review-requests", status_code=202, responses=errors(404, 422))
def request_review(
    data: ReviewInput,
    session: SessionDep,
    settings: SettingsDep,
    user: User = Depends(require("assets.read")),
    *,
    asset: VisibleAsset,
) -> dict[str, Any]:
    """Ask the privacy officers to review the asset for a channel."""
    added = delivery.request_review(
        session, asset=asset, channel=data.channel, actor=user, settings=settings
    )
    return {"requested": True, "new": added}
