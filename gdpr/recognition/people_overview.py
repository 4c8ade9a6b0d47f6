"""What the People pages read: people with their counts, one person's page, clusters by page.

Reads only; every decision goes through gdpr.recognition.identity, gdpr.recognition.clusters,
gdpr.recognition.people and gdpr.recognition.cluster_naming, which audit it. Queries are paged
or aggregated in the database, so a library with thousands of unnamed groups renders one page
of them at a time.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import case, distinct, func
from sqlmodel import Session, col, select

from dam.models import Asset, Face, FaceState, Person
from gdpr.recognition import clusters
from gdpr.recognition.identity import get_person

CLUSTERS_PER_PAGE = 20
FACES_PER_CLUSTER = 8
ASSETS_PER_PAGE = 60
SUGGESTIONS_SHOWN = 200


@dataclass(frozen=True)
class PersonRow:
    person: Person
    photos: int  # assets with a confirmed face of the person
    pending: int  # suggestions waiting for a decision
    cover_face_id: str | None  # a confirmed face that has a crop


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


def people_rows(session: Session, *, query: str = "") -> list[PersonRow]:
    """Every person (by name) with photo and suggestion counts; `query` filters by name."""
    confirmed = col(Face.state) == FaceState.confirmed
    stats = session.exec(
        select(
            Face.person_id,
            func.count(distinct(case((confirmed, Face.asset_id)))),
            func.sum(case((col(Face.state) == FaceState.suggested, 1), else_=0)),
            func.min(case((confirmed & col(Face.crop_path).is_not(None), Face.id))),
        )
        .where(col(Face.person_id).is_not(None))
        .group_by(col(Face.person_id))
    ).all()
    by_person = {pid: (int(n or 0), int(p or 0), cover) for pid, n, p, cover in stats}
    people = select(Person).order_by(func.lower(Person.name), col(Person.id))
    needle = " ".join(query.split()).lower()
    rows = []
    for person in session.exec(people):
        if needle and needle not in person.name.lower():
            continue
        photos, pending, cover = by_person.get(person.id, (0, 0, None))
        rows.append(PersonRow(person, photos, pending, cover))
    return rows


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


def other_people(session: Session, person_id: str) -> list[Person]:
    """Everyone but `person_id`, by name: the choices to merge with."""
    return list(
        session.exec(
            select(Person)
            .where(Person.id != person_id)
            .order_by(func.lower(Person.name), col(Person.id))
        )
    )


def names_of(session: Session, person_ids: Iterable[str | None]) -> dict[str, str]:
    """The names of the people among `person_ids` that still exist (erased ones: none)."""
    wanted = sorted({p for p in person_ids if p})
    if not wanted:
        return {}
    rows = session.exec(select(Person.id, Person.name).where(col(Person.id).in_(wanted))).all()
    return {pid: name for pid, name in rows}
