"""The API's response shapes (API.md) and the pure functions that build them."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from pydantic import BaseModel

from dam.assets import AssetView
from dam.models import Asset, Face, Job
from web import catalogs


class RenditionPublic(BaseModel):
    name: str
    mime: str
    width: int
    height: int
    size: int
    url: str


class AssetPublic(BaseModel):
    id: str
    kind: str
    status: str
    error: str | None
    filename: str
    mime: str
    size: int
    sha256: str
    width: int | None
    height: int | None
    duration_s: float | None
    taken_at: datetime | None
    title: str
    description: str
    alt_text: str
    tags: list[str]
    licence: dict[str, Any]
    licence_status: str
    metadata: dict[str, Any]
    placeholder: str | None
    phash: str | None
    renditions: list[RenditionPublic]
    faces: list[dict[str, Any]]
    verdict: dict[str, Any]
    owner_id: str | None
    created_at: datetime
    updated_at: datetime


class UploadResult(BaseModel):
    id: str
    status: str
    sha256: str
    duplicate: bool


class JobPublic(BaseModel):
    id: str
    asset_id: str
    stage: str
    status: str
    progress: float
    error: str | None
    attempts: int
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    duration_s: float | None


class AssetSummary(BaseModel):
    id: str
    kind: str
    status: str
    title: str
    filename: str
    width: int | None
    height: int | None
    placeholder: str | None
    thumbnail_url: str | None
    created_at: datetime


class AssetList(BaseModel):
    total: int
    page: int
    per_page: int
    items: list[AssetSummary]


class SimilarAsset(BaseModel):
    id: str
    distance: int
    thumbnail_url: str | None


def rendition_url(asset_id: str, name: str) -> str:
    return f"/api/v1/assets/{asset_id}/renditions/{name}"


def local_taken_at(asset: Asset) -> datetime | None:
    """The capture time in the zone it was recorded in, when the file said which."""
    if asset.taken_at is None or asset.taken_at_offset_min is None:
        return asset.taken_at
    return asset.taken_at.astimezone(timezone(timedelta(minutes=asset.taken_at_offset_min)))


def asset_public(
    view: AssetView, verdict: dict[str, Any] | None = None, *, locale: str = "en"
) -> AssetPublic:
    """The asset as API.md shows it; why it failed in `locale` (the caller's language)."""
    asset, tags, renditions = view.asset, view.tags, view.renditions
    return AssetPublic(
        id=asset.id,
        kind=asset.kind,
        status=asset.status,
        error=catalogs.failure_text(locale, asset),
        filename=asset.filename,
        mime=asset.mime,
        size=asset.size,
        sha256=asset.sha256,
        width=asset.width,
        height=asset.height,
        duration_s=asset.duration_s,
        taken_at=local_taken_at(asset),
        title=asset.title,
        description=asset.description,
        alt_text=asset.alt_text,
        tags=tags,
        licence=asset.licence or {},
        licence_status=str(asset.licence_status),
        # Names waiting for the identity stage are people data: never in the asset's JSON.
        metadata={k: v for k, v in (asset.meta or {}).items() if k != "named_people"},
        placeholder=asset.blurhash,
        phash=asset.phash,
        renditions=[
            RenditionPublic(
                name=r.name,
                mime=r.mime,
                width=r.width,
                height=r.height,
                size=r.size,
                url=rendition_url(asset.id, r.name),
            )
            for r in renditions
        ],
        faces=[face_in_asset(f) for f in view.faces],
        verdict=verdict or {},
        owner_id=asset.owner_id,
        created_at=asset.created_at,
        updated_at=asset.updated_at,
    )


def face_in_asset(face: Face) -> dict[str, Any]:
    """A face as the asset JSON lists it (API.md): box in 0..1 of the upright image."""
    return {
        "id": face.id,
        "box": {"x": face.box_x, "y": face.box_y, "w": face.box_w, "h": face.box_h},
        "time_s": face.time_s,
        "time_end_s": face.time_end_s,  # videos: a face is a track from time_s to here
        "score": face.score,
        "person_id": face.person_id,
        "state": face.state,
    }


def asset_summary(asset: Asset) -> AssetSummary:
    return AssetSummary(
        id=asset.id,
        kind=asset.kind,
        status=asset.status,
        title=asset.title,
        filename=asset.filename,
        width=asset.width,
        height=asset.height,
        placeholder=asset.blurhash,
        thumbnail_url=rendition_url(asset.id, "thumb") if asset.blurhash else None,
        created_at=asset.created_at,
    )


def job_public(job: Job, *, locale: str = "en") -> JobPublic:
    """A job as API.md shows it; its error in `locale` (the caller's language)."""
    public = JobPublic.model_validate(job, from_attributes=True)
    public.error = catalogs.failure_text(locale, job)
    return public
