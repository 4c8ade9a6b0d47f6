"""/api/v1 data-subject requests: access export (art. 15) and erasure (art. 17)."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Depends, Query
from fastapi.responses import FileResponse, JSONResponse, Response
from pydantic import BaseModel

from dam import clock
from dam.models import User
from gdpr import gate
from gdpr.requests import erasure, person_requests
from web.deps import BlobsDep, SessionDep, SettingsDep, require
from web.files import file_response
from web.openapi import errors

router = APIRouter(tags=["privacy"])


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


class PersonRequestPublic(BaseModel):
    """An access export or erasure run as a job (started here or from the person page)."""

    id: str
    kind: str  # export | erasure
    person_id: str | None
    status: str  # queued | running | done | failed
    progress: float
    error: str | None  # why it failed, for people
    created_at: datetime
    finished_at: datetime | None
    status_url: str  # where to ask again
    download_url: str | None = None  # a finished export, until expires_at
    expires_at: datetime | None = None
    assets: str | None = None  # an erasure: redact or delete the pictures they are on
    tombstone_id: str | None = None  # a finished erasure
    counts: dict[str, int] = {}
    # An erasure's progress in files (photos and videos it blurs or deletes): whole files
    # done of how many; null until it counted them. `progress` is the same, in part.
    files_done: int | None = None
    files_total: int | None = None


def status_url(job_id: str) -> str:
    return f"/api/v1/privacy/requests/{job_id}"


def request_public(request: person_requests.PersonRequest) -> PersonRequestPublic:
    job = request.job
    available = request.available(clock.now())
    return PersonRequestPublic(
        id=job.id,
        kind=request.kind,
        person_id=job.person_id,
        status=str(job.status),
        progress=job.progress,
        error=job.error,
        created_at=job.created_at,
        finished_at=job.finished_at,
        status_url=status_url(job.id),
        download_url=f"/api/v1/privacy/exports/{job.id}" if available else None,
        expires_at=request.expires_at,
        assets=request.assets,
        tombstone_id=request.tombstone.id if request.tombstone else None,
        counts=request.counts,
        files_done=request.files_done,
        files_total=request.files[1] if request.files else None,
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


@router.delete(
    "/people/{person_id}",
    status_code=202,
    response_model=PersonRequestPublic,
    responses={
        202: {
            "description": "The erasure request, run as a job; poll its `status_url`.",
            "headers": {
                "Location": {
                    "description": "The request's status URL (/api/v1/privacy/requests/{id}).",
                    "schema": {"type": "string"},
                },
                "Retry-After": {
                    "description": "Seconds to wait before asking, while it waits or runs.",
                    "schema": {"type": "integer"},
                },
            },
        },
        **errors(409),
    },
)
def erase_person(
    person_id: str,
    session: SessionDep,
    assets: str = Query(..., description="redact or delete the pictures they are on"),
    user: User = Depends(require("people.erase")),
) -> JSONResponse:
    """Erase the person: always 202 with the erasure request (a job, as from the UI),
    `Location` its status URL; poll that until `status` is `done` (`tombstone_id`) or
    `failed` (`error`; nothing was erased). 409 while an erasure of them is under way."""
    job = person_requests.request_erasure(
        session, person_id=person_id, assets=erasure.parse_choice(assets), actor=user
    )
    public = request_public(person_requests.get_request(session, job.id, user))
    headers = {"Location": public.status_url}
    if public.status in ("queued", "running"):
        headers["Retry-After"] = "2"
    return JSONResponse(public.model_dump(mode="json"), status_code=202, headers=headers)


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
