"""/api/v1/faces: read faces and their crops; confirm, dismiss or split one."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi.responses import FileResponse, Response
from pydantic import BaseModel, Field

from dam.models import FaceState, User
from gdpr import gate
from gdpr.recognition import faces_view, identity
from web.api.face_schemas import FacePublic, face_public
from web.deps import BlobsDep, OptionalVisibleAsset, SessionDep, SettingsDep, VisibleFace, require
from web.files import file_response
from web.openapi import errors

router = APIRouter(prefix="/faces", tags=["faces"])


class ConfirmRequest(BaseModel):
    model_config = {"extra": "forbid"}

    person_id: str


class DismissRequest(BaseModel):
    model_config = {"extra": "forbid"}

    reason: str = Field(min_length=1, max_length=200)


@router.get("", response_model=list[FacePublic])
def list_faces(
    session: SessionDep,
    user: User = Depends(require("people.read")),
    state: FaceState | None = None,
    person_id: str | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
    *,
    asset: OptionalVisibleAsset,
) -> list[FacePublic]:
    """Faces by state, person and `asset_id`; only on assets the caller may see."""
    found = faces_view.list_faces(
        session,
        state=state,
        asset_id=asset.id if asset else None,
        person_id=person_id,
        limit=limit,
        viewer=user,
    )
    return [face_public(f) for f in found]


@router.get("/{face_id}", response_model=FacePublic)
def get_face(
    session: SessionDep, user: User = Depends(require("people.read")), *, face: VisibleFace
) -> FacePublic:
    return face_public(face)


@router.get("/{face_id}/crop", response_class=FileResponse, responses=errors(409))
def get_crop(
    face_id: str,
    session: SessionDep,
    blobs: BlobsDep,
    settings: SettingsDep,
    user: User = Depends(require("people.read")),
) -> Response:
    ask = gate.FaceCrop(face_id=face_id)
    return file_response(gate.release(session, ask, by=user, settings=settings, blobs=blobs))


@router.post("/{face_id}/confirm", response_model=FacePublic)
def confirm_face(
    data: ConfirmRequest,
    session: SessionDep,
    user: User = Depends(require("faces.identify")),
    *,
    face: VisibleFace,
) -> FacePublic:
    return face_public(
        identity.confirm_face(session, face_id=face.id, person_id=data.person_id, actor=user)
    )


@router.post("/{face_id}/dismiss", response_model=FacePublic)
def dismiss_face(
    data: DismissRequest,
    session: SessionDep,
    user: User = Depends(require("faces.identify")),
    *,
    face: VisibleFace,
) -> FacePublic:
    return face_public(
        identity.dismiss_face(session, face_id=face.id, reason=data.reason, actor=user)
    )


@router.post("/{face_id}/split", response_model=FacePublic, responses=errors(409))
def split_face(
    session: SessionDep, user: User = Depends(require("faces.identify")), *, face: VisibleFace
) -> FacePublic:
    return face_public(identity.split_face(session, face_id=face.id, actor=user))
