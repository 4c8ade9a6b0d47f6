"""/api/v1/people: people (creatives read them; privacy officers manage them)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel

from dam.auth import has_permission
from dam.models import User
from gdpr.consent import consents
from gdpr.recognition import people, people_search
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


class PersonMatchPublic(BaseModel):
    id: str
    name: str
    photos: int  # library assets the caller may see on which the person is confirmed


class PeopleFoundPublic(BaseModel):
    items: list[PersonMatchPublic]
    more: bool  # more people match than `limit`: more words narrow them down


# Declared before /{person_id}, which would otherwise take "search" for an id.
@router.get("/search", response_model=PeopleFoundPublic)
def search_people(
    session: SessionDep,
    user: User = Depends(require("people.read")),
    q: Annotated[str, Query(max_length=200)] = "",
    limit: Annotated[int, Query(ge=1, le=people_search.MAX_LIMIT)] = people_search.DEFAULT_LIMIT,
    exclude: Annotated[str, Query(max_length=64)] = "",
) -> PeopleFoundPublic:
    """People whose name has a word starting with each word of `q` (any case, accents
    optional), by name; people marked hidden only for privacy officers; `exclude` leaves
    one person out (the one another is merged into)."""
    found = people_search.find_people(
        session, text=q, viewer=user, limit=limit, exclude=exclude or None
    )
    return PeopleFoundPublic(
        items=[
            PersonMatchPublic(id=m.person.id, name=m.person.name, photos=m.photos)
            for m in found.matches
        ],
        more=found.more,
    )


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
