"""Naming several unnamed groups at once, and taking a wrong face out of a group; and the
one way a typed name becomes a person (gdpr.recognition.face_decisions names single faces with it).

Naming goes through gdpr.recognition.people.create_person and
gdpr.recognition.clusters.assign_cluster, which audit every face by id. Taking a face out is
its own audited decision (ids only).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func
from sqlmodel import Session, col, select, update

from dam import audit
from dam.clock import now
from dam.errors import Conflict, Forbidden, InvalidInput, N_plural, NotFound
from dam.models import Face, FaceState, Person, User
from gdpr.recognition import clusters, people, person_suggestions
from gdpr.recognition.identity import get_face, get_person

MAX_CLUSTERS = 200  # one naming action; a page shows far fewer
NAME_MAX = 200  # as gdpr.recognition.people.PersonCreate


class AmbiguousName(Conflict):
    """Several people carry the typed name: the caller must say which one is meant."""

    code = "ambiguous_name"


class MayNotCreatePeople(Forbidden):
    code = "may_not_create_people"


class NoGroups(InvalidInput):
    code = "no_groups"


class BadName(InvalidInput):
    code = "bad_name"


@dataclass(frozen=True)
class Naming:
    person: Person
    created: bool  # a new person was made for the typed name
    clusters: int  # groups named
    confirmed: int  # faces confirmed
    gone: int  # groups that were named or changed meanwhile


def normalise_name(name: str) -> str:
    return " ".join(name.split())


def people_named(session: Session, name: str) -> list[Person]:
    """People whose name is `name`, ignoring case and extra spaces."""
    wanted = normalise_name(name).lower()
    candidates = session.exec(select(Person).where(func.lower(Person.name) == wanted))
    return [p for p in candidates if normalise_name(p.name).lower() == wanted]


def person_for_name(
    session: Session, *, name: str, actor: User, may_create: bool
) -> tuple[Person, bool]:
    """The one person called `name` (ignoring case and extra spaces), or a new person when
    nobody is: only when `may_create`, as making people is a privacy officer's decision.
    Returns the person and whether it was made now."""
    name = normalise_name(name)
    if not name:
        raise BadName("Type the person's name.")
    if len(name) > NAME_MAX:
        raise BadName(
            N_plural(
                "A name can be at most %(num)s character long.",
                "A name can be at most %(num)s characters long.",
            ),
            params={"num": NAME_MAX},
        )
    found = people_named(session, name)
    if len(found) > 1:
        raise AmbiguousName("Several people have this name; choose one of them.")
    if found:
        return found[0], False
    if not may_create:
        raise MayNotCreatePeople("Only a privacy officer can add a person; pick a known name.")
    data = people.PersonCreate(name=name, is_minor=False, email=None, notes="")
    return people.create_person(session, data=data, actor=actor), True


def name_clusters(
    session: Session,
    *,
    cluster_ids: list[str],
    name: str,
    actor: User,
    may_create: bool,
    person_id: str = "",
) -> Naming:
    """Confirm every face of `cluster_ids` as `person_id` when one was picked (the people
    picker sends both), else as the person called `name` (person_for_name)."""
    ids = list(dict.fromkeys(c for c in cluster_ids if c))
    if not ids:
        raise NoGroups("Select one or more groups first.")
    if len(ids) > MAX_CLUSTERS:
        raise InvalidInput(
            N_plural("Name at most %(num)s group at once.", "Name at most %(num)s groups at once."),
            params={"num": MAX_CLUSTERS},
        )
    live = set(
        session.exec(
            select(Face.cluster_id).where(
                col(Face.cluster_id).in_(ids), Face.state == FaceState.unknown
            )
        )
    )
    if not live:  # checked first: nobody is made for groups that are gone
        raise NotFound("These groups were named or changed meanwhile; reload the page.")
    if person_id:
        person, created = get_person(session, person_id), False
    else:
        person, created = person_for_name(session, name=name, actor=actor, may_create=may_create)
    confirmed = 0
    for cluster_id in ids:
        if cluster_id not in live:
            continue
        confirmed += clusters.assign_cluster(
            session, cluster_id=cluster_id, person_id=person.id, actor=actor, search=False
        )
    # Once all groups are named: a search after the first could take the next group's
    # faces as suggestions before it is named.
    person_suggestions.request_for(session, person.id)
    session.commit()
    return Naming(person, created, len(live), confirmed, len(ids) - len(live))


def take_out_of_cluster(session: Session, *, face_id: str, actor: User) -> Face:
    """A face does not belong with the others of its group: it becomes a group of its own."""
    face = get_face(session, face_id)
    if face.state != FaceState.unknown or face.cluster_id is None:
        raise Conflict("This face is not in an unnamed group (any more).")
    former = face.cluster_id
    rest = list(
        session.exec(
            select(Face.id)
            .where(Face.cluster_id == former, Face.id != face.id)
            .order_by(col(Face.id))
        )
    )
    if not rest:
        raise Conflict("This face is alone in its group already.")
    if former == face.id:
        # A group is named after one of its faces; the others take the next one's id.
        session.exec(update(Face).where(col(Face.id).in_(rest)).values(cluster_id=rest[0]))
    face.cluster_id, face.updated_at = face.id, now()
    session.add(face)
    audit.record(
        session,
        action="face.ungrouped",
        actor_id=actor.id,
        subject_type="face",
        subject_id=face.id,
        details={"asset_id": face.asset_id, "cluster_id": former},
    )
    session.commit()
    return face
