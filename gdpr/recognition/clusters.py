"""Clusters of unknown faces: listing them, naming one at once, re-clustering all."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import ColumnElement, func
from sqlmodel import Session, col, select, update

from dam import audit, biometrics, events
from dam.assets import visible_to
from dam.clock import now
from dam.errors import NotFound
from dam.models import Asset, Face, FaceState, User
from gdpr.recognition import clustering, embeddings, person_suggestions
from gdpr.recognition.identity import get_person


@dataclass(frozen=True)
class Cluster:
    id: str
    faces: list[Face]  # all of them (list_clusters), or the first few (clusters_page)
    size: int


def _unknown_in_groups(viewer: User | None) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = [
        col(Face.state) == FaceState.unknown,
        col(Face.cluster_id).is_not(None),
    ]
    if viewer is not None:
        where.append(col(Face.asset_id).in_(select(Asset.id).where(visible_to(viewer))))
    return where


def count_clusters(session: Session, *, min_size: int = 1, viewer: User | None = None) -> int:
    """How many groups of unknown faces there are (of at least `min_size` faces)."""
    size = func.count()
    groups = (
        select(Face.cluster_id)
        .where(*_unknown_in_groups(viewer))
        .group_by(col(Face.cluster_id))
        .having(size >= min_size)
    )
    return int(session.exec(select(func.count()).select_from(groups.subquery())).one())


def clusters_page(
    session: Session,
    *,
    offset: int,
    limit: int,
    shown: int,
    min_size: int = 1,
    viewer: User | None = None,
) -> list[Cluster]:
    """Groups `offset`..`offset + limit` of unknown faces, biggest first, each with its size
    and its first `shown` faces: only those leave the database, however many there are."""
    unknown = _unknown_in_groups(viewer)
    size = func.count().label("size")
    rows = session.exec(
        select(Face.cluster_id, size)
        .where(*unknown)
        .group_by(col(Face.cluster_id))
        .having(func.count() >= min_size)
        .order_by(size.desc(), col(Face.cluster_id))
        .offset(offset)
        .limit(limit)
    ).all()
    sizes = {str(cid): int(n) for cid, n in rows}
    if not sizes:
        return []
    rank = (
        func.row_number()
        .over(partition_by=col(Face.cluster_id), order_by=col(Face.id))
        .label("rank")
    )
    ranked = (
        select(col(Face.id).label("face_id"), rank)
        .where(*unknown, col(Face.cluster_id).in_(sizes))
        .subquery()
    )
    faces = session.exec(
        select(Face)
        .join(ranked, col(Face.id) == ranked.c.face_id)
        .where(ranked.c.rank <= shown)
        .order_by(col(Face.id))
    ).all()
    members: dict[str, list[Face]] = {cid: [] for cid in sizes}
    for face in faces:
        members[str(face.cluster_id)].append(face)
    return [Cluster(cid, members[cid], n) for cid, n in sizes.items()]


def list_clusters(
    session: Session, *, min_size: int = 1, viewer: User | None = None
) -> list[Cluster]:
    """Unknown faces grouped by cluster, biggest first; with `viewer`, only faces on
    assets they may see."""
    groups: defaultdict[str, list[Face]] = defaultdict(list)
    query = select(Face).where(Face.state == FaceState.unknown, col(Face.cluster_id).is_not(None))
    if viewer is not None:
        query = query.where(col(Face.asset_id).in_(select(Asset.id).where(visible_to(viewer))))
    rows = session.exec(query.order_by(col(Face.id)))
    for face in rows:
        groups[str(face.cluster_id)].append(face)
    clusters = [
        Cluster(cid, faces, len(faces)) for cid, faces in groups.items() if len(faces) >= min_size
    ]
    return sorted(clusters, key=lambda c: (-len(c.faces), c.id))


def assign_cluster(
    session: Session, *, cluster_id: str, person_id: str, actor: User, search: bool = True
) -> int:
    """Confirm every face of a cluster as `person_id` (naming a cluster once): the faces on
    assets `actor` may see; the others stay unknown in the cluster, for someone who may.
    With `search`, then look for the person across the library (person_suggestions)."""
    get_person(session, person_id)
    faces = list(
        session.exec(
            select(Face)
            .join(Asset, col(Asset.id) == col(Face.asset_id))
            .where(Face.cluster_id == cluster_id, Face.state == FaceState.unknown)
            .where(visible_to(actor))
        )
    )
    if not faces:
        raise NotFound("There is no cluster with this id (it may have been named already).")
    taken = set(
        session.exec(
            select(Face.asset_id).where(
                Face.person_id == person_id, Face.state == FaceState.confirmed
            )
        )
    )
    moment = now()
    confirmed = 0
    for face in faces:
        if face.asset_id in taken:
            continue  # the person is confirmed on that asset already: a person appears once
        face.state, face.person_id, face.cluster_id = FaceState.confirmed, person_id, None
        face.decided_by, face.decided_at, face.updated_at = actor.id, moment, moment
        session.add(face)
        audit.record(
            session,
            action="face.confirmed",
            actor_id=actor.id,
            subject_type="face",
            subject_id=face.id,
            details={"asset_id": face.asset_id, "person_id": person_id, "cluster_id": cluster_id},
        )
        events.publish_after_commit(session, events.AssetChanged(asset_id=face.asset_id))
        confirmed += 1
    if confirmed and search:
        person_suggestions.request(session, person_id=person_id)
    session.commit()
    return confirmed


def recluster(session: Session, key: biometrics.FaceKey) -> int:
    """Cluster all unknown faces again from scratch (the batch method); how many clusters."""
    unknown = embeddings.load(session, key, col(Face.state) == FaceState.unknown)
    if not unknown.faces:
        return 0
    labels = clustering.cluster(unknown.vectors, [f.asset_id for f in unknown.faces])
    first: dict[int, str] = {}
    for face, label in zip(unknown.faces, labels.tolist(), strict=True):
        first.setdefault(label, face.id)  # faces come sorted by id: the oldest names it
    for face, label in zip(unknown.faces, labels.tolist(), strict=True):
        if face.cluster_id != first[label]:
            session.exec(
                update(Face).where(col(Face.id) == face.id).values(cluster_id=first[label])
            )
    session.commit()
    return len(first)
