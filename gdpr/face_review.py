"""The privacy dashboard's review flow: one asset at a time, each undecided face confirmed
as its suggested person, as a person picked or typed by name, or dismissed.

Decisions go through gdpr.identity (which audits them by id and re-judges the asset);
this module only finds what to show and resolves a typed name to a person.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, col, select

from dam.assets import get_asset
from dam.errors import InvalidInput, NotFound
from dam.models import Asset, Face, Person, Rendition, User
from gdpr import cluster_naming, identity, people
from gdpr.cluster_naming import AmbiguousName, BadName, MayNotCreatePeople

# Why a face is dismissed, as stored (the same words as the People pages use).
DISMISS_REASONS = ("not a face", "not recognisable")


class BadReason(InvalidInput):
    code = "bad_reason"


@dataclass(frozen=True)
class ReviewItem:
    asset: Asset
    faces: list[Face]  # every face of the asset, in reading order
    names: dict[str, str]  # person id -> name, for the faces that have a person
    renditions: frozenset[str]  # the names of the asset's renditions

    @property
    def undecided(self) -> list[Face]:
        return [f for f in self.faces if f.state in identity.UNDECIDED]


def review_item(session: Session, asset_id: str) -> ReviewItem:
    """An asset with its faces and the names of the people they are (suggested) to be."""
    asset = get_asset(session, asset_id)
    faces = list(
        session.exec(
            select(Face)
            .where(Face.asset_id == asset_id)
            .order_by(col(Face.time_s), col(Face.box_x), col(Face.id))
        )
    )
    person_ids = {f.person_id for f in faces if f.person_id}
    names = (
        {
            pid: name
            for pid, name in session.exec(
                select(Person.id, Person.name).where(col(Person.id).in_(person_ids))
            ).all()
        }
        if person_ids
        else {}
    )
    renditions = frozenset(
        session.exec(select(Rendition.name).where(Rendition.asset_id == asset_id))
    )
    return ReviewItem(asset=asset, faces=faces, names=names, renditions=renditions)


def face_on(session: Session, asset_id: str, face_id: str) -> Face:
    """The face `face_id` if it is on `asset_id` (a form cannot mix them up)."""
    face = identity.get_face(session, face_id)
    if face.asset_id != asset_id:
        raise NotFound("There is no face with this id.")
    return face


def confirm_by_name(
    session: Session, *, face_id: str, name: str, actor: User, may_create: bool
) -> Person:
    """Confirm a face as the one person called `name`; a new person when nobody is (only
    when `may_create`: making people is a privacy officer's decision)."""
    name = cluster_naming.normalise_name(name)
    if not name or len(name) > cluster_naming.NAME_MAX:
        raise BadName("Type the person's name (at most 200 characters).")
    found = cluster_naming.people_named(session, name)
    if len(found) > 1:
        raise AmbiguousName("Several people have this name; choose one from the list.")
    if found:
        person = found[0]
    elif may_create:
        data = people.PersonCreate.model_validate({"name": name})
        person = people.create_person(session, data=data, actor=actor)
    else:
        raise MayNotCreatePeople("Only a privacy officer can add a person.")
    identity.confirm_face(session, face_id=face_id, person_id=person.id, actor=actor)
    return person


def dismiss(session: Session, *, face_id: str, reason: str, actor: User) -> Face:
    """Dismiss a face with one of the offered reasons."""
    if reason not in DISMISS_REASONS:
        raise BadReason("Choose why the face is dismissed.")
    return identity.dismiss_face(session, face_id=face_id, reason=reason, actor=actor)


def all_people(session: Session) -> list[tuple[str, str]]:
    """(id, name) of everyone, by name: the choices of the person field."""
    return [
        (pid, name)
        for pid, name in session.exec(
            select(Person.id, Person.name).order_by(col(Person.name), col(Person.id))
        )
    ]
