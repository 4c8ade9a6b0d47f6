"""Finding people by name as someone types: the asset page's people picker, its page for
browsers without scripts, and `GET /api/v1/people/search`.

Every word typed must start a word of the name, in any case and with or without accents
("gael pee" finds "Gaëlle Peeters"). The database answers from `person.name_key` (the
folded name, indexed) a few people at a time, in name order: a library of thousands of
people is never read whole. People marked hidden are found by name only by the roles
that may (`dam.assets.RESTRICTED_PERMISSION`, docs/roles.md); erased people are gone.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import distinct, func, or_, true
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from dam.assets import may_see_restricted, visible_to
from dam.auth import check_permission
from dam.models import Asset, Face, FaceState, Person, User
from dam.models.faces import name_key

DEFAULT_LIMIT = 10
MAX_LIMIT = 50
MAX_WORDS = 8  # more words than a name has narrow nothing further


@dataclass(frozen=True)
class PersonMatch:
    person: Person
    photos: int  # library assets the viewer may see on which the person is confirmed


@dataclass(frozen=True)
class PeopleFound:
    matches: list[PersonMatch]
    more: bool  # more people match than were asked for: typing more narrows them down

    def new_name(self, text: str) -> bool:
        """Whether `text` is a name (as people search it) that nobody found has: one an
        officer may add as a new person."""
        typed = name_key(text)
        return bool(typed) and not any(name_key(m.person.name) == typed for m in self.matches)


def findable_by(user: User) -> Any:
    """A WHERE clause for the people `user` may find by name."""
    if may_see_restricted(user):
        return true()
    return col(Person.hidden).is_(False)


def matching(text: str, viewer: User) -> SelectOfScalar[Person]:
    """Everyone `viewer` may find whose name matches `text`, in the order of the name index
    (which the database reads from the start and stops once it has a page)."""
    key = col(Person.name_key)
    query = select(Person).where(findable_by(viewer))
    for word in name_key(text).split()[:MAX_WORDS]:
        # The key holds words apart by single spaces: a word starts the key or follows one.
        query = query.where(
            or_(key.startswith(word, autoescape=True), key.contains(f" {word}", autoescape=True))
        )
    return query.order_by(key, col(Person.id))


def find_people(
    session: Session,
    *,
    text: str,
    viewer: User,
    limit: int = DEFAULT_LIMIT,
    exclude: str | None = None,
) -> PeopleFound:
    """The first `limit` people (by name) whose name has a word starting with each word of
    `text`; with no words, the first people by name. `exclude`: a person left out (the
    one whose page asks, to merge another into)."""
    check_permission(viewer, "people.read")
    limit = min(max(limit, 1), MAX_LIMIT)
    query = matching(text, viewer)
    if exclude:
        query = query.where(col(Person.id) != exclude)
    found = list(session.exec(query.limit(limit + 1)))
    people = found[:limit]
    photos = photo_counts(session, [p.id for p in people], viewer)
    return PeopleFound([PersonMatch(p, photos.get(p.id, 0)) for p in people], len(found) > limit)


def photo_counts(session: Session, person_ids: list[str], viewer: User) -> dict[str, int]:
    """{person id: library assets `viewer` may see with a confirmed face of theirs}."""
    if not person_ids:
        return {}
    rows = session.exec(
        select(Face.person_id, func.count(distinct(col(Face.asset_id))))
        .join(Asset, col(Asset.id) == col(Face.asset_id))
        .where(
            col(Face.person_id).in_(person_ids),
            Face.state == FaceState.confirmed,
            visible_to(viewer),
        )
        .group_by(col(Face.person_id))
    ).all()
    return {str(person_id): int(n) for person_id, n in rows}
