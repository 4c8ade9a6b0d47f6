"""Retention (GDPR art. 5(1)(e), storage limitation), run periodically:

- the embeddings of faces nobody named are deleted DAM_RETENTION_CLUSTER_DAYS after the
  face was found (the face, its box and crop stay, so a person can still name it);
- a person without a valid consent and without confirmed faces, about whom nothing
  happened for DAM_RETENTION_PERSON_DAYS, is proposed for erasure: a Notification
  for the privacy officers (erasing stays a person's decision).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, func, or_
from sqlmodel import Session, col, delete, select

from dam import audit, clock
from dam.chunks import chunks
from dam.models import AuditEntry, Consent, Face, FaceEmbedding, FaceState, Notification, Person
from dam.runtime import Runtime
from dam.settings import Settings
from gdpr.consent import consent_filters

PROPOSED = "person.erasure_proposed"


@dataclass(frozen=True)
class RetentionReport:
    embeddings_deleted: int
    proposed: list[str]  # person ids newly proposed for erasure
    proposals_dropped: int  # proposals of people who no longer qualify


def dedupe_key(person_id: str) -> str:
    return f"{PROPOSED}:{person_id}"


def apply_retention(
    session: Session, *, settings: Settings, at: datetime | None = None
) -> RetentionReport:
    """One retention pass in the caller's transaction."""
    moment = at or clock.now()
    deleted = delete_unnamed_embeddings(
        session, before=moment - timedelta(days=settings.retention_cluster_days)
    )
    proposed, dropped = propose_erasures(
        session, at=moment, idle=timedelta(days=settings.retention_person_days)
    )
    return RetentionReport(deleted, proposed, dropped)


def delete_unnamed_embeddings(session: Session, *, before: datetime) -> int:
    """Delete the embeddings of unknown faces found before `before`; how many."""
    unnamed = select(Face.id).where(
        Face.state == FaceState.unknown,
        col(Face.person_id).is_(None),
        col(Face.created_at) < before,
    )
    result = session.exec(delete(FaceEmbedding).where(col(FaceEmbedding.face_id).in_(unnamed)))
    count = int(result.rowcount or 0)
    if count:
        audit.record(
            session,
            action="retention.embeddings_deleted",
            details={"embeddings": count, "found_before": before.isoformat()},
        )
    return count


def propose_erasures(session: Session, *, at: datetime, idle: timedelta) -> tuple[list[str], int]:
    """Propose every person who qualifies and was not proposed yet; drop the proposals of
    people who have a consent or a confirmed face again (so a later lapse is proposed
    anew)."""
    without = _without_consent_or_faces(session, at)
    existing = set(
        session.exec(select(Notification.subject_id).where(Notification.kind == PROPOSED))
    )
    # Only new candidates need their history read (the audit log can be long).
    candidates = [p for p in without if p not in existing]
    active = _last_activity(session, candidates, at)
    qualifying = {p for p in candidates if active.get(p, at) <= at - idle}
    dropped = sorted(existing - set(without))
    for chunk in chunks(dropped):
        session.exec(
            delete(Notification).where(
                col(Notification.kind) == PROPOSED, col(Notification.subject_id).in_(chunk)
            )
        )
    proposed = sorted(qualifying)
    for person_id in proposed:
        session.add(
            Notification(
                kind=PROPOSED,
                subject_type="person",
                subject_id=person_id,
                params={"idle_since": active[person_id].isoformat(), "days": idle.days},
                dedupe_key=dedupe_key(person_id),
                created_at=at,
            )
        )
    return proposed, len(dropped)


def _without_consent_or_faces(session: Session, at: datetime) -> list[str]:
    """People with no confirmed face and no consent in force (or still to start)."""
    valid = select(Consent.id).where(
        col(Consent.person_id) == col(Person.id), consent_filters.not_ended(at)
    )
    confirmed = select(Face.id).where(
        col(Face.person_id) == col(Person.id), Face.state == FaceState.confirmed
    )
    return list(
        session.exec(
            select(Person.id).where(~valid.exists(), ~confirmed.exists()).order_by(col(Person.id))
        )
    )


def _last_activity(
    session: Session, person_ids: Sequence[str], at: datetime
) -> dict[str, datetime]:
    """The latest moment anything concerned each person: the record made or changed, a
    consent recorded, withdrawn or ended, a face decided, an audit entry about them."""
    last: dict[str, datetime] = {}

    def seen(person_id: str | None, moment: datetime | None) -> None:
        if person_id and moment is not None and moment <= at:
            last[person_id] = max(last.get(person_id, moment), moment)

    for chunk in chunks(person_ids):
        for pid, created, updated in session.exec(
            select(Person.id, Person.created_at, Person.updated_at).where(col(Person.id).in_(chunk))
        ):
            seen(pid, created)
            seen(pid, updated)
        for consent in session.exec(select(Consent).where(col(Consent.person_id).in_(chunk))):
            for moment in (consent.created_at, consent.withdrawn_at, consent.valid_until):
                seen(consent.person_id, moment)
        for face_person, decided in session.exec(
            select(Face.person_id, func.max(Face.decided_at))
            .where(col(Face.person_id).in_(chunk))
            .group_by(col(Face.person_id))
        ):
            seen(face_person, decided)
        about = col(AuditEntry.details)["person_id"].as_string()
        for subject, named, moment in session.exec(
            select(AuditEntry.subject_id, about, func.max(AuditEntry.at))
            .where(
                or_(
                    and_(
                        col(AuditEntry.subject_type) == "person",
                        col(AuditEntry.subject_id).in_(chunk),
                    ),
                    about.in_(chunk),
                )
            )
            .group_by(col(AuditEntry.subject_id), about)
        ):
            seen(subject if subject in chunk else named, moment)
    return last


# Retention periods are months long: once an hour is often enough for a task the
# sweeper would otherwise run every minute (it reads every person).
RUN_EVERY = timedelta(hours=1)


def run(rt: Runtime) -> None:
    with rt.unit_of_work() as session:
        apply_retention(session, settings=rt.settings)
