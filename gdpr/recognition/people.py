"""People: creating, editing, merging, and deleting their biometric data."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from pydantic import BaseModel, Field, field_validator
from sqlalchemy import func
from sqlmodel import Session, col, select, update

from dam import audit, events
from dam.assets import visible_to
from dam.clock import now
from dam.errors import InvalidInput
from dam.input_types import Flag
from dam.models import Asset, Face, FaceState, Person, User
from gdpr.recognition import embeddings, person_suggestions
from gdpr.recognition.identity import get_person


class PersonCreate(BaseModel):
    model_config = {"extra": "forbid"}

    name: str = Field(min_length=1, max_length=200)
    is_minor: Flag = False
    hidden: Flag = False  # not findable by name in search below privacy officer
    email: str | None = Field(None, max_length=320)
    notes: str = Field("", max_length=5000)

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        value = " ".join(value.split())
        if not value:
            raise ValueError("a name cannot be blank")
        return value


class PersonUpdate(BaseModel):
    model_config = {"extra": "forbid"}

    name: str | None = Field(None, min_length=1, max_length=200)
    is_minor: Flag | None = None
    hidden: Flag | None = None
    email: str | None = Field(None, max_length=320)
    notes: str | None = Field(None, max_length=5000)


@dataclass(frozen=True)
class PersonView:
    person: Person
    faces: list[Face]


def create_person(session: Session, *, data: PersonCreate, actor: User) -> Person:
    person = Person(
        name=data.name,
        is_minor=data.is_minor,
        hidden=data.hidden,
        email=data.email,
        notes=data.notes,
    )
    session.add(person)
    session.flush()
    # Ids only: the audit chain must survive the person's erasure (art. 17).
    audit.record(
        session,
        action="person.created",
        actor_id=actor.id,
        subject_type="person",
        subject_id=person.id,
        details={"is_minor": person.is_minor},
    )
    session.commit()
    return person


def update_person(session: Session, *, person_id: str, data: PersonUpdate, actor: User) -> Person:
    person = get_person(session, person_id)
    changed = data.model_dump(exclude_unset=True)
    if "name" in changed:
        name = " ".join((changed["name"] or "").split())
        if not name:
            raise InvalidInput("A name cannot be blank.")
        changed["name"] = name
    for field, value in changed.items():
        if value is not None or field == "email":
            setattr(person, field, value)
    person.updated_at = now()
    session.add(person)
    audit.record(
        session,
        action="person.updated",
        actor_id=actor.id,
        subject_type="person",
        subject_id=person.id,
        details={"fields": sorted(changed)},
    )
    session.commit()
    return person


def list_people(session: Session) -> list[tuple[Person, int]]:
    """Every person with their number of confirmed faces, by name."""
    counts = dict(
        session.exec(
            select(Face.person_id, func.count())
            .where(Face.state == FaceState.confirmed)
            .group_by(col(Face.person_id))
        ).all()
    )
    people = session.exec(select(Person).order_by(func.lower(Person.name), col(Person.id)))
    return [(p, int(counts.get(p.id, 0))) for p in people]


def names_of(session: Session, person_ids: Iterable[str]) -> dict[str, str]:
    """{person id: name} for those of `person_ids` that exist (a page's few, not everyone)."""
    wanted = sorted({p for p in person_ids if p})
    if not wanted:
        return {}
    rows = session.exec(select(Person.id, Person.name).where(col(Person.id).in_(wanted)))
    return {person_id: name for person_id, name in rows}


def person_view(session: Session, person_id: str, viewer: User | None = None) -> PersonView:
    """A person with their faces; with `viewer`, only faces on assets they may see."""
    person = get_person(session, person_id)
    query = select(Face).where(Face.person_id == person_id)
    if viewer is not None:
        query = query.where(col(Face.asset_id).in_(select(Asset.id).where(visible_to(viewer))))
    return PersonView(person, list(session.exec(query.order_by(col(Face.created_at)))))


def merge_people(session: Session, *, person_id: str, other_id: str, actor: User) -> Person:
    """Move everything of `other_id` to `person_id` and remove `other_id` (one action)."""
    if person_id == other_id:
        raise InvalidInput("A person cannot be merged with themselves.")
    person = get_person(session, person_id)
    other = get_person(session, other_id)
    assets = set(session.exec(select(Face.asset_id).where(Face.person_id == other_id)))
    moved = session.exec(
        update(Face)
        .where(col(Face.person_id) == other_id)
        .values(person_id=person_id, updated_at=now())
    ).rowcount
    session.exec(
        update(Face).where(col(Face.not_person_id) == other_id).values(not_person_id=person_id)
    )
    person.is_minor = person.is_minor or other.is_minor  # the stricter rule wins
    person.hidden = person.hidden or other.hidden
    person.updated_at = now()
    session.delete(other)
    audit.record(
        session,
        action="person.merged",
        actor_id=actor.id,
        subject_type="person",
        subject_id=person.id,
        details={"merged_id": other_id, "faces": int(moved or 0)},
    )
    for asset_id in sorted(assets):
        events.publish_after_commit(session, events.AssetChanged(asset_id=asset_id))
    person_suggestions.request_for(session, person_id)
    session.commit()
    return person


def delete_embeddings(session: Session, *, person_id: str, actor: User) -> int:
    """Delete the biometric data of one person's faces (their boxes and states stay)."""
    get_person(session, person_id)
    face_ids = list(session.exec(select(Face.id).where(Face.person_id == person_id)))
    count = embeddings.delete_for_faces(session, face_ids)
    audit.record(
        session,
        action="person.embeddings_deleted",
        actor_id=actor.id,
        subject_type="person",
        subject_id=person_id,
        details={"embeddings": count},
    )
    session.commit()
    return count
