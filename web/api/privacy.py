"""/api/v1 data-subject requests: access export (art. 15) and erasure (art. 17)."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Depends, Query
from fastapi.responses import FileResponse, Response
from pydantic import BaseModel

from dam import clock
from dam.models import User
from gdpr import gate
from gdpr.requests import erasure, person_requests
from web.deps import BlobsDep, SessionDep, SettingsDep, require
from web.files import file_response
from web.openapi import errors

router = APIRouter(tags=["privacy"])


class ErasurePublic(BaseModel):
    tombstone_id: str
    person_id: str
    assets: str
    assets_deleted: list[str]
    assets_redacted: list[str]
    videos_reencoded: list[str]  # of assets_redacted: a new original, processed again
    evidence_deleted: list[str]
    faces: int
    embeddings: int
    crops: int
    consents: int
    rejudged: int
    texts_scrubbed: int


@router.get(
    "/people/{person_id}/export",
    response_class=FileResponse,
    responses={200: {"content": {"application/zip": {}}}},
)
def export_person(
    person_id: str,
    session: SessionDep,
    blobs: BlobsDep,
    settings: SettingsDep,
    user: User = Depends(require("privacy.export")),
) -> Response:
    """Everything held about the person, as a ZIP with a README (access request)."""
    ask = gate.PersonExport(person_id=person_id)
    return file_response(gate.release(session, ask, by=user, settings=settings, blobs=blobs))


@router.delete("/people/{person_id}", response_model=ErasurePublic)
def erase_person(
    person_id: str,
    session: SessionDep,
    settings: SettingsDep,
    blobs: BlobsDep,
    assets: str = Query(..., description="redact or delete the pictures they are on"),
    user: User = Depends(require("people.erase")),
) -> ErasurePublic:
    """Erase the person; verdicts and search are up to date when this returns (videos to
    redact are re-encoded first, within the request; their renditions follow)."""
    summary = erasure.erase_person(
        session,
        person_id=person_id,
        assets=erasure.parse_choice(assets),
        actor=user,
        blobs=blobs,
        settings=settings,
    )
    return ErasurePublic(
        tombstone_id=summary.tombstone_id,
        person_id=summary.person_id,
        assets=summary.assets.value,
        assets_deleted=summary.assets_deleted,
        assets_redacted=summary.assets_redacted,
        videos_reencoded=summary.videos_reencoded,
        evidence_deleted=summary.evidence_deleted,
        faces=summary.faces,
        embeddings=summary.embeddings,
        crops=summary.crops,
        consents=summary.consents,
        rejudged=summary.rejudged,
        texts_scrubbed=summary.texts_scrubbed,
    )


class PersonRequestPublic(BaseModel):
    """An access export or erasure run as a job (started here or from the person page)."""

    id: str
    kind: str  # export | erasure
    person_id: str | None
    status: str  # queued | running | done | failed
    progress: float
    created_at: datetime
    finished_at: datetime | None
    download_url: str | None = None  # a finished export, until expires_at
    expires_at: datetime | None = None
    tombstone_id: str | None = None  # a finished erasure
    counts: dict[str, int] = {}


def request_public(request: person_requests.PersonRequest) -> PersonRequestPublic:
    job = request.job
    available = request.available(clock.now())
    return PersonRequestPublic(
        id=job.id,
        kind=request.kind,
        person_id=job.person_id,
        status=str(job.status),
        progress=job.progress,
        created_at=job.created_at,
        finished_at=job.finished_at,
        download_url=f"/api/v1/privacy/exports/{job.id}" if available else None,
        expires_at=request.expires_at,
        tombstone_id=request.tombstone.id if request.tombstone else None,
        counts=request.counts,
    )


@router.post(
    "/people/{person_id}/export-requests",
    status_code=202,
    response_model=PersonRequestPublic,
    responses=errors(404),
)
def start_export(
    person_id: str, session: SessionDep, user: User = Depends(require("privacy.export"))
) -> PersonRequestPublic:
    """Start an access export as a job; its ZIP can be downloaded for 24 hours."""
    job = person_requests.request_export(session, person_id=person_id, actor=user)
    return request_public(person_requests.get_request(session, job.id, user))


@router.get("/privacy/requests/{job_id}", response_model=PersonRequestPublic, responses=errors(404))
def read_request(
    job_id: str, session: SessionDep, user: User = Depends(require("privacy.export"))
) -> PersonRequestPublic:
    """Where an access export or erasure is: its status and progress."""
    return request_public(person_requests.get_request(session, job_id, user))


@router.get(
    "/privacy/exports/{job_id}",
    response_class=FileResponse,
    responses={200: {"content": {"application/zip": {}}}, **errors(404, 410)},
)
def download_export(
    job_id: str,
    session: SessionDep,
    blobs: BlobsDep,
    settings: SettingsDep,
    user: User = Depends(require("privacy.export")),
) -> Response:
    """A finished access export's ZIP, for 24 hours after it was made (audited)."""
    ask = gate.PreparedExport(job_id=job_id)
    return file_response(gate.release(session, ask, by=user, settings=settings, blobs=blobs))
