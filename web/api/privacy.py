"""/api/v1 data-subject requests: access export (art. 15) and erasure (art. 17)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query
from fastapi.responses import FileResponse, Response
from pydantic import BaseModel

from dam.models import User
from gdpr import gate
from gdpr.requests import erasure
from web.deps import BlobsDep, SessionDep, SettingsDep, require
from web.files import file_response

router = APIRouter(tags=["privacy"])


class ErasurePublic(BaseModel):
    tombstone_id: str
    person_id: str
    assets: str
    assets_deleted: list[str]
    assets_redacted: list[str]
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
    """Erase the person; verdicts and search are up to date when this returns."""
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
        evidence_deleted=summary.evidence_deleted,
        faces=summary.faces,
        embeddings=summary.embeddings,
        crops=summary.crops,
        consents=summary.consents,
        rejudged=summary.rejudged,
        texts_scrubbed=summary.texts_scrubbed,
    )
