"""What the People pages read: a page of people with their counts, one person's page,
clusters by page.

Reads only; every decision goes through gdpr.recognition.identity, gdpr.recognition.clusters,
gdpr.recognition.people and gdpr.recognition.cluster_naming, which audit it. Queries are paged
or aggregated in the database, so a library with thousands of people or unnamed groups
renders one page of them at a time; people are listed and searched as people_search finds
them (by `person.name_key`, hidden people only for the roles that may find them).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import func
from sqlmodel import Session, col, select

from dam.assets import visible_to
from dam.auth import check_permission
from dam.models import Asset, Face, FaceState, Person, User
from gdpr.recognition import clusters, people_search
from gdpr.recognition.identity import get_person

PEOPLE_PER_PAGE = 48
CLUSTERS_PER_PAGE = 20
FACES_PER_CLUSTER = 8
ASSETS_PER_PAGE = 60
SUGGESTIONS_SHOWN = 200


@dataclass(frozen=True)
class PersonRow:
    person: Person
    photos: int  # library assets the viewer may see with a confirmed face of the person
    pending: int  # suggestions waiting for a decision
    cover_face_id: str | None  # a confirmed face with a crop, on an asset the viewer may see


@dataclass(frozen=True)
class ClusterRow:
    id: str
    size: int
    faces: list[Face]  # at most FACES_PER_CLUSTER, oldest first


@dataclass(frozen=True)
class Paging:
    page: int
    pages: int
    total: int
    per_page: int


@dataclass(frozen=True)
class PeoplePage:
    rows: list[PersonRow]
    paging: Paging


@dataclass(frozen=True)
class ClusterPage:
    clusters: list[ClusterRow]
    paging: Paging


@dataclass(frozen=True)
class PersonPage:
    person: Person
    cover_face_id: str | None
    suggestions: list[Face]  # nearest first
    pending: int
    assets: list[Asset]  # newest first, one page
    paging: Paging


def _paging(total: int, page: int, per_page: int) -> Paging:
    pages = max(1, -(-total // per_page))
    return Paging(page=min(max(page, 1), pages), pages=pages, total=total, per_page=per_page)


def people_page(
    session: Session,
    *,
    text: str,
    viewer: User,
    page: int = 1,
    per_page: int = PEOPLE_PER_PAGE,
) -> PeoplePage:
    """One page of the people `viewer` may find whose name matches `text` (by name, as
    people_search finds them; with no words, everyone findable), with their counts."""
    check_permission(viewer, "people.read")
    found = people_search.matching(text, viewer)
    counted = found.order_by(None).subquery()
    total = int(session.exec(select(func.count()).select_from(counted)).one())
    paging = _paging(total, page, per_page)
    people = list(session.exec(found.offset((paging.page - 1) * per_page).limit(per_page)))
    ids = [p.id for p in people]
    photos = people_search.photo_counts(session, ids, viewer)
    pending, covers = _pending(session, ids), _covers(session, ids, viewer)
    rows = [
        PersonRow(p, photos.get(p.id, 0), pending.get(p.id, 0), covers.get(p.id)) for p in people
    ]
    return PeoplePage(rows, paging)


def _pending(session: Session, person_ids: list[str]) -> dict[str, int]:
    """{person id: suggestions waiting for a decision} (face.person_id index)."""
    if not person_ids:
        return {}
    rows = session.exec(
        select(Face.person_id, func.count())
        .where(col(Face.person_id).in_(person_ids), Face.state == FaceState.suggested)
        .group_by(col(Face.person_id))
    ).all()
    return {str(pid): int(n) for pid, n in rows}


def _covers(session: Session, person_ids: list[str], viewer: User) -> dict[str, str]:
    """{person id: a confirmed face with a crop, on an asset `viewer` may see}."""
    if not person_ids:
        return {}
    rows = session.exec(
        select(Face.person_id, func.min(Face.id))
        .join(Asset, col(Asset.id) == col(Face.asset_id))
        .where(
            col(Face.person_id).in_(person_ids),
            Face.state == FaceState.confirmed,
            col(Face.crop_path).is_not(None),
            visible_to(viewer),
        )
        .group_by(col(Face.person_id))
    ).all()
    return {str(pid): str(face_id) for pid, face_id in rows}


def cluster_page(
    session: Session,
    *,
    page: int = 1,
    per_page: int = CLUSTERS_PER_PAGE,
    shown: int = FACES_PER_CLUSTER,
) -> ClusterPage:
    """One page of unnamed groups, biggest first (gdpr.recognition.clusters.clusters_page)."""
    paging = _paging(clusters.count_clusters(session), page, per_page)
    found = clusters.clusters_page(
        session, offset=(paging.page - 1) * per_page, limit=per_page, shown=shown
    )
    return ClusterPage([ClusterRow(c.id, c.size, c.faces) for c in found], paging)


def person_page(
    session: Session,
    person_id: str,
    *,
    page: int = 1,
    per_page: int = ASSETS_PER_PAGE,
    include_restricted: bool = False,
) -> PersonPage:
    """A person, their pending suggestions and one page of the assets they are confirmed on."""
    person = get_person(session, person_id)
    mine = (Face.person_id == person_id,)
    suggested = (*mine, Face.state == FaceState.suggested)
    pending = int(session.exec(select(func.count()).where(*suggested)).one())
    suggestions = session.exec(
        select(Face)
        .where(*suggested)
        .order_by(col(Face.distance).nulls_last(), col(Face.id))
        .limit(SUGGESTIONS_SHOWN)
    ).all()
    confirmed = (*mine, Face.state == FaceState.confirmed)
    cover = session.exec(
        select(func.min(Face.id)).where(*confirmed, col(Face.crop_path).is_not(None))
    ).one()
    on_assets = select(Face.asset_id).where(*confirmed)
    # Consent evidence is no library asset: never on a person's page.
    assets = select(Asset).where(col(Asset.id).in_(on_assets), col(Asset.is_evidence).is_(False))
    if not include_restricted:
        assets = assets.where(col(Asset.restricted).is_(False))
    total = int(session.exec(select(func.count()).select_from(assets.subquery())).one())
    paging = _paging(total, page, per_page)
    items = session.exec(
        assets.order_by(col(Asset.created_at).desc(), col(Asset.id).desc())
        .offset((paging.page - 1) * per_page)
        .limit(per_page)
    ).all()
    return PersonPage(person, cover, list(suggestions), pending, list(items), paging)


def names_of(session: Session, person_ids: Iterable[str | None]) -> dict[str, str]:
    """The names of the people among `person_ids` that still exist (erased ones: none)."""
    wanted = sorted({p for p in person_ids if p})
    if not wanted:
        return {}
    rows = session.exec(select(Person.id, Person.name).where(col(Person.id).in_(wanted))).all()
    return {pid: name for pid, name in rows}
