"""/api/v1/people: people (creatives read them; privacy officers manage them)."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from pydantic import BaseModel

from dam.auth import has_permission
from dam.models import User
from gdpr.consent import consents
from gdpr.recognition import people
from web.api.consents import consent_public
from web.api.face_schemas import (
    EmbeddingsDeleted,
    PersonPublic,
    PersonSummary,
    person_public,
    person_summary,
)
from web.deps import SessionDep, require

router = APIRouter(prefix="/people", tags=["people"])


class MergeRequest(BaseModel):
    model_config = {"extra": "forbid"}

    other_id: str


@router.get("", response_model=list[PersonSummary])
def list_people(
    session: SessionDep, user: User = Depends(require("people.read"))
) -> list[PersonSummary]:
    return [person_summary(p, n) for p, n in people.list_people(session)]


@router.post("", status_code=201, response_model=PersonPublic)
def create_person(
    data: people.PersonCreate,
    session: SessionDep,
    user: User = Depends(require("people.manage")),
) -> PersonPublic:
    return person_public(people.create_person(session, data=data, actor=user), [])


@router.get("/{person_id}", response_model=PersonPublic)
def get_person(
    person_id: str, session: SessionDep, user: User = Depends(require("people.read"))
) -> PersonPublic:
    """The person with their faces and assets; their consents for privacy officers."""
    view = people.person_view(session, person_id, viewer=user)
    public = person_public(view.person, view.faces)
    if has_permission(user, "consents.manage"):
        public.consents = [
            consent_public(c).model_dump(mode="json")
            for c in consents.list_consents(session, person_id)
        ]
    return public


@router.patch("/{person_id}", response_model=PersonPublic)
def update_person(
    person_id: str,
    data: people.PersonUpdate,
    session: SessionDep,
    user: User = Depends(require("people.manage")),
) -> PersonPublic:
    people.update_person(session, person_id=person_id, data=data, actor=user)
    view = people.person_view(session, person_id, viewer=user)
    return person_public(view.person, view.faces)


@router.post("/{person_id}/merge", response_model=PersonPublic)
def merge_person(
    person_id: str,
    data: MergeRequest,
    session: SessionDep,
    user: User = Depends(require("people.manage")),
) -> PersonPublic:
    people.merge_people(session, person_id=person_id, other_id=data.other_id, actor=user)
    view = people.person_view(session, person_id, viewer=user)
    return person_public(view.person, view.faces)


@router.delete("/{person_id}/embeddings", response_model=EmbeddingsDeleted)
def delete_embeddings(
    person_id: str, session: SessionDep, user: User = Depends(require("people.manage"))
) -> EmbeddingsDeleted:
    count = people.delete_embeddings(session, person_id=person_id, actor=user)
    return EmbeddingsDeleted(person_id=person_id, deleted=count)
