"""Response shapes for people, faces and clusters, and the pure functions that build them.

Embeddings never appear here: they are biometric data and leave the database only
sealed, for the matching code.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from dam.models import Face, Person
from gdpr.recognition.clusters import Cluster


class BoxPublic(BaseModel):
    x: float
    y: float
    w: float
    h: float


class FacePublic(BaseModel):
    id: str
    asset_id: str
    box: BoxPublic
    time_s: float | None
    score: float
    person_id: str | None
    state: str
    distance: float | None
    dismiss_reason: str | None
    cluster_id: str | None
    crop_url: str | None


class PersonSummary(BaseModel):
    id: str
    name: str
    is_minor: bool
    hidden: bool
    faces: int
    created_at: datetime


class PersonPublic(BaseModel):
    id: str
    name: str
    email: str | None
    notes: str
    is_minor: bool
    hidden: bool
    faces: list[FacePublic]
    assets: list[str]
    consents: list[dict[str, object]]  # every version, for privacy officers only
    created_at: datetime
    updated_at: datetime


class ClusterPublic(BaseModel):
    id: str
    size: int
    faces: list[FacePublic]


class ClusterAssigned(BaseModel):
    cluster_id: str
    person_id: str
    confirmed: int


class EmbeddingsDeleted(BaseModel):
    person_id: str
    deleted: int


def crop_url(face: Face) -> str | None:
    return f"/api/v1/faces/{face.id}/crop" if face.crop_path else None


def face_public(face: Face) -> FacePublic:
    return FacePublic(
        id=face.id,
        asset_id=face.asset_id,
        box=BoxPublic(x=face.box_x, y=face.box_y, w=face.box_w, h=face.box_h),
        time_s=face.time_s,
        score=face.score,
        person_id=face.person_id,
        state=face.state,
        distance=face.distance,
        dismiss_reason=face.dismiss_reason,
        cluster_id=face.cluster_id,
        crop_url=crop_url(face),
    )


def person_public(person: Person, faces: list[Face]) -> PersonPublic:
    return PersonPublic(
        id=person.id,
        name=person.name,
        email=person.email,
        notes=person.notes,
        is_minor=person.is_minor,
        hidden=person.hidden,
        faces=[face_public(f) for f in faces],
        assets=sorted({f.asset_id for f in faces}),
        consents=[],
        created_at=person.created_at,
        updated_at=person.updated_at,
    )


def person_summary(person: Person, faces: int) -> PersonSummary:
    return PersonSummary(
        id=person.id,
        name=person.name,
        is_minor=person.is_minor,
        hidden=person.hidden,
        faces=faces,
        created_at=person.created_at,
    )


def cluster_public(cluster: Cluster, *, sample: int) -> ClusterPublic:
    return ClusterPublic(
        id=cluster.id,
        size=len(cluster.faces),
        faces=[face_public(f) for f in cluster.faces[:sample]],
    )
