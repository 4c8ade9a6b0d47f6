"""What the privacy dashboard shows: assets with faces nobody decided, consents about to
end, withdrawn consents whose pictures are still published, exports and erasures done.

Read-only, and bounded: every list has a LIMIT and every filter runs on an indexed
column (face.state, consent.person_id, usage.asset_id, audit_entry.action,
asset.created_at), so the page stays fast with a hundred thousand assets.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, exists, func, or_, text
from sqlalchemy import select as sa_select
from sqlalchemy.sql.expression import Exists
from sqlmodel import Session, col, select

from dam import audit, clock
from dam.models import (
    Asset,
    Consent,
    ErasureTombstone,
    Face,
    FaceState,
    Notification,
    Person,
    Usage,
    User,
)
from gdpr.consent import consent_filters

UNDECIDED = (FaceState.unknown.value, FaceState.suggested.value)
PERSON_FACES = (FaceState.confirmed.value, FaceState.suggested.value)
EXPORTED = "person.exported"


@dataclass(frozen=True)
class ReviewAsset:
    """An asset with faces nobody decided yet (unknown, or only suggested)."""

    asset: Asset
    undecided: int


@dataclass(frozen=True)
class EndingConsent:
    consent: Consent
    person_id: str
    person_name: str

    @property
    def last_moment(self) -> datetime:
        """The last moment covered: "until D" is stored as the midnight after D."""
        assert self.consent.valid_until is not None
        return self.consent.valid_until - timedelta(microseconds=1)


@dataclass(frozen=True)
class WithdrawnPublished:
    """A person who withdrew consent while pictures of them are still published."""

    person_id: str
    person_name: str
    withdrawn_at: datetime
    usages: int  # recorded publications not yet taken down


@dataclass(frozen=True)
class ExportDone:
    at: datetime
    actor_id: str | None
    person_id: str | None
    person_exists: bool
    counts: dict[str, int]


def _undecided_face(asset_id: Any) -> Exists:
    """`EXISTS (an undecided face on the asset)`: probes the face.asset_id index."""
    return exists().where(col(Face.asset_id) == asset_id, col(Face.state).in_(UNDECIDED))


def review_count(session: Session) -> int:
    """How many assets have at least one undecided face (face.state index)."""
    return int(
        session.execute(
            sa_select(func.count(func.distinct(col(Face.asset_id)))).where(
                col(Face.state).in_(UNDECIDED)
            )
        ).scalar_one()
    )


def review_assets(session: Session, *, limit: int = 24) -> list[ReviewAsset]:
    """The newest assets with undecided faces, with how many each has."""
    newest = session.exec(
        select(Asset)
        .where(_undecided_face(Asset.id), col(Asset.is_evidence).is_(False))
        .order_by(col(Asset.created_at).desc(), col(Asset.id).desc())
        .limit(limit)
    ).all()
    counts = _undecided_counts(session, [asset.id for asset in newest])
    return [ReviewAsset(asset, counts.get(asset.id, 0)) for asset in newest]


def _undecided_counts(session: Session, asset_ids: list[str]) -> dict[str, int]:
    if not asset_ids:
        return {}
    rows = session.execute(
        sa_select(col(Face.asset_id), func.count())
        .where(col(Face.asset_id).in_(asset_ids), col(Face.state).in_(UNDECIDED))
        .group_by(col(Face.asset_id))
    ).all()
    return {asset_id: int(n) for asset_id, n in rows}


def next_for_review(session: Session, *, after: str | None = None) -> str | None:
    """The asset to review after `after` in the queue's order (newest first), wrapping
    round to the newest; without `after`, the newest. None: nothing left to review."""
    # Faces on consent evidence (from before 0010) are nobody's to review.
    query = sa_select(col(Asset.id)).where(
        _undecided_face(Asset.id), col(Asset.is_evidence).is_(False)
    )
    order = (col(Asset.created_at).desc(), col(Asset.id).desc())
    current = session.get(Asset, after) if after else None
    if current is not None:
        older = query.where(
            or_(
                col(Asset.created_at) < current.created_at,
                and_(col(Asset.created_at) == current.created_at, col(Asset.id) < current.id),
            )
        )
        found = session.execute(older.order_by(*order).limit(1)).scalar_one_or_none()
        if found is not None:
            return str(found)
    found = session.execute(query.order_by(*order).limit(1)).scalar_one_or_none()
    return str(found) if found is not None else None


def consents_ending(
    session: Session, *, days: int, limit: int = 50, at: datetime | None = None
) -> list[EndingConsent]:
    """Consents in force that end within `days`, soonest first."""
    moment = at or clock.now()
    rows = session.exec(
        select(Consent, Person.name)
        .join(Person, col(Person.id) == col(Consent.person_id))
        .where(consent_filters.ending_between(moment, moment + timedelta(days=days)))
        .order_by(col(Consent.valid_until), col(Consent.id))
        .limit(limit)
    ).all()
    return [EndingConsent(c, str(c.person_id), name) for c, name in rows]


def withdrawn_published(session: Session, *, limit: int = 50) -> list[WithdrawnPublished]:
    """People with a withdrawn consent and publications of their pictures (confirmed or
    suggested faces) not yet taken down: the take-down lists still to work through."""
    withdrawn = (
        sa_select(
            col(Consent.person_id).label("person_id"),
            func.max(col(Consent.withdrawn_at)).label("withdrawn_at"),
        )
        .where(col(Consent.withdrawn_at).is_not(None), col(Consent.person_id).is_not(None))
        .group_by(col(Consent.person_id))
        .subquery()
    )
    on_assets = (
        sa_select(col(Face.person_id).label("person_id"), col(Face.asset_id).label("asset_id"))
        .where(
            col(Face.state).in_(PERSON_FACES),
            col(Face.person_id).in_(sa_select(withdrawn.c.person_id)),
        )
        .distinct()
        .subquery()
    )
    open_usages = (
        sa_select(on_assets.c.person_id, func.count(col(Usage.id)).label("usages"))
        .join(Usage, col(Usage.asset_id) == on_assets.c.asset_id)
        .where(col(Usage.recalled_at).is_(None))
        .group_by(on_assets.c.person_id)
        .subquery()
    )
    rows = session.execute(
        sa_select(
            withdrawn.c.person_id, col(Person.name), withdrawn.c.withdrawn_at, open_usages.c.usages
        )
        .join(open_usages, open_usages.c.person_id == withdrawn.c.person_id)
        .join(Person, col(Person.id) == withdrawn.c.person_id)
        .order_by(withdrawn.c.withdrawn_at.desc(), withdrawn.c.person_id)
        .limit(limit)
    ).all()
    return [
        WithdrawnPublished(
            person_id=row[0], person_name=row[1], withdrawn_at=row[2], usages=int(row[3])
        )
        for row in rows
    ]


def exports_done(session: Session, *, limit: int = 20) -> list[ExportDone]:
    """The latest access exports (art. 15), from the audit log (action index)."""
    entries = audit.list_entries(session, action=EXPORTED, limit=limit)
    person_ids = {e.subject_id for e in entries if e.subject_id}
    existing = set(
        session.exec(select(Person.id).where(col(Person.id).in_(person_ids))) if person_ids else ()
    )
    return [
        ExportDone(
            at=e.at,
            actor_id=e.actor_id,
            person_id=e.subject_id,
            person_exists=e.subject_id in existing,
            counts={k: int(v) for k, v in (e.details or {}).items() if isinstance(v, int)},
        )
        for e in entries
    ]


def erasures_done(session: Session, *, limit: int = 20) -> list[ErasureTombstone]:
    """The latest erasures (art. 17): tombstones hold a date, who and counts, no name."""
    return list(
        session.exec(
            select(ErasureTombstone)
            .order_by(col(ErasureTombstone.executed_at).desc(), col(ErasureTombstone.id))
            .limit(limit)
        )
    )


def recent_read_notices(session: Session, *, limit: int = 10) -> list[Notification]:
    """Notices already read, newest first (the panel shows the unread ones above)."""
    return list(
        session.exec(
            select(Notification)
            .where(col(Notification.read_at).is_not(None), col(Notification.recipient_id).is_(None))
            .order_by(col(Notification.created_at).desc())
            .limit(limit)
        )
    )


def emails(session: Session, user_ids: Iterable[str | None]) -> dict[str, str]:
    """Staff e-mail addresses by user id (who did what; never data subjects)."""
    wanted = {u for u in user_ids if u}
    if not wanted:
        return {}
    rows = session.exec(select(User.id, User.email).where(col(User.id).in_(wanted))).all()
    return {uid: email for uid, email in rows}


# A loose index scan: one index probe per distinct action instead of reading every entry
# (SELECT DISTINCT walks the whole index on both databases).
_ACTIONS = text(
    "WITH RECURSIVE a(action) AS ("
    " SELECT MIN(action) FROM audit_entry"
    " UNION ALL"
    " SELECT (SELECT MIN(action) FROM audit_entry WHERE action > a.action)"
    " FROM a WHERE a.action IS NOT NULL"
    ") SELECT action FROM a WHERE action IS NOT NULL"
)


def audit_actions(session: Session) -> list[str]:
    """The actions the audit log holds (the filter's choices), from the action index."""
    return [str(row[0]) for row in session.execute(_ACTIONS).all()]
