"""The verdict cache: computing verdicts from the database (gdpr/verdict.py does the
judging), storing them per asset and channel, and reading them back for egress checks."""

from __future__ import annotations

import weakref
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import delete, insert
from sqlalchemy import select as sa_select
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from dam import clock, events
from dam.models import (
    Asset,
    AssetStatus,
    AssetVerdict,
    Consent,
    Face,
    FaceState,
    Person,
    VerdictStatus,
)
from dam.settings import Settings
from gdpr.verdict import (
    AssetTerms,
    ConsentTerms,
    FaceTerms,
    PersonTerms,
    Reason,
    Rules,
    Verdict,
    judge_all,
)

BATCH = 500  # assets per query round: well inside every database's parameter limit

VERDICT_TABLE = AssetVerdict.__table__  # type: ignore[attr-defined]


def rules_for(settings: Settings) -> Rules:
    return Rules(channels=settings.channel_list, alt_text_channels=settings.alt_text_channel_set)


def end_of_day(day: date, zone: str) -> datetime:
    """The moment a validity that runs "until `day`" (inclusive) ends: the next midnight."""
    return datetime.combine(day + timedelta(days=1), time(), tzinfo=ZoneInfo(zone))


def licence_terms(
    licence: Mapping[str, Any], zone: str
) -> tuple[frozenset[str] | None, datetime | None]:
    """The allowed channels and end moment a stock licence sets (None: no limit)."""
    raw = licence.get("channels")
    channels: frozenset[str] | None = None
    if isinstance(raw, str) and raw.strip():
        channels = frozenset(c.strip() for c in raw.split(",") if c.strip())
    elif isinstance(raw, list) and raw:
        channels = frozenset(str(c) for c in raw)
    until: datetime | None = None
    value = licence.get("valid_until")
    if isinstance(value, str) and value:
        try:
            until = end_of_day(date.fromisoformat(value[:10]), zone)
        except ValueError:
            until = None
    return channels, until


def compute(
    session: Session, asset_ids: Sequence[str], *, settings: Settings, at: datetime | None = None
) -> dict[str, list[Verdict]]:
    """Every channel's verdict of each existing asset among `asset_ids` (not stored)."""
    moment = at or clock.now()
    rules = rules_for(settings)
    result: dict[str, list[Verdict]] = {}
    for chunk in _chunks(list(dict.fromkeys(asset_ids)), BATCH):
        terms, people = _load_terms(session, chunk, settings.default_timezone)
        for asset_id, asset_terms in terms.items():
            result[asset_id] = judge_all(asset_terms, people, moment, rules)
    return result


def refresh(
    session: Session, asset_ids: Iterable[str], *, settings: Settings, at: datetime | None = None
) -> int:
    """Recompute and store the verdicts of `asset_ids` in the caller's transaction; search
    hears of them after the commit. Returns how many assets were judged."""
    ids = list(dict.fromkeys(asset_ids))
    if not ids:
        return 0
    moment = at or clock.now()
    judged = 0
    for chunk in _chunks(ids, BATCH):
        verdicts = compute(session, chunk, settings=settings, at=moment)
        session.execute(delete(VERDICT_TABLE).where(VERDICT_TABLE.c.asset_id.in_(chunk)))
        rows = [
            {
                "asset_id": asset_id,
                "channel": v.channel,
                "status": v.status.value,
                "reasons": [_reason_json(r) for r in v.reasons],
                "next_change_at": v.next_change_at,
                "computed_at": moment,
            }
            for asset_id, channel_verdicts in verdicts.items()
            for v in channel_verdicts
        ]
        if rows:
            session.execute(insert(VERDICT_TABLE), rows)
        judged += len(verdicts)
    events.publish_after_commit(session, events.VerdictsChanged(asset_ids=tuple(ids)))
    return judged


@lru_cache(maxsize=65536)
def _reason_json(reason: Reason) -> dict[str, object]:
    # The same reasons recur on thousands of assets (one person, one consent): built once.
    return reason.as_json()


def refresh_due(session: Session, *, settings: Settings, at: datetime | None = None) -> int:
    """Re-judge every asset whose cached verdict changes by itself at or before `at`."""
    moment = at or clock.now()
    due = session.execute(
        sa_select(VERDICT_TABLE.c.asset_id)
        .where(VERDICT_TABLE.c.next_change_at <= moment)
        .distinct()
    ).all()
    return refresh(session, [row[0] for row in due], settings=settings, at=moment)


def assets_of_person(session: Session, person_id: str) -> list[str]:
    """Every asset a person is on: confirmed faces and, conservatively, suggested ones."""
    return list(
        session.exec(
            select(Face.asset_id)
            .where(Face.person_id == person_id)
            .where(col(Face.state).in_([FaceState.confirmed, FaceState.suggested]))
            .distinct()
        )
    )


def stored(session: Session, asset_id: str) -> dict[str, AssetVerdict]:
    """The cached verdicts of one asset by channel."""
    rows = session.exec(select(AssetVerdict).where(AssetVerdict.asset_id == asset_id))
    return {row.channel: row for row in rows}


def current(session: Session, asset_id: str, channel: str, *, settings: Settings) -> Verdict | None:
    """The verdict for one channel as it is now: the cached one while it is still valid,
    otherwise computed afresh (a cache a second behind its deadline must not let an
    expired consent through). None: no such asset or channel."""
    if channel not in settings.channel_list:
        return None
    row = session.get(AssetVerdict, (asset_id, channel))
    moment = clock.now()
    if row is not None and (row.next_change_at is None or row.next_change_at > moment):
        return Verdict(
            channel=channel,
            status=VerdictStatus(row.status),
            reasons=tuple(Reason.from_json(r) for r in row.reasons),
            next_change_at=row.next_change_at,
        )
    fresh = compute(session, [asset_id], settings=settings, at=moment).get(asset_id)
    if fresh is None:
        return None
    return next(v for v in fresh if v.channel == channel)


def asset_terms(
    session: Session, asset_id: str, *, settings: Settings
) -> tuple[AssetTerms | None, dict[str, PersonTerms]]:
    """One asset's facts and its people as judge() takes them (None: no such asset)."""
    terms, people = _load_terms(session, [asset_id], settings.default_timezone)
    return terms.get(asset_id), people


def _load_terms(
    session: Session, asset_ids: Sequence[str], zone: str
) -> tuple[dict[str, AssetTerms], dict[str, PersonTerms]]:
    assets = session.execute(
        sa_select(
            col(Asset.id),
            col(Asset.status),
            col(Asset.alt_text),
            col(Asset.licence),
            col(Asset.embargo_until),
            col(Asset.undetected_people),
            col(Asset.faces_checked_at),
            col(Asset.restricted),
        ).where(col(Asset.id).in_(asset_ids))
    ).all()
    faces: dict[str, list[FaceTerms]] = defaultdict(list)
    for face_id, asset_id, state, person_id in session.execute(
        sa_select(col(Face.id), col(Face.asset_id), col(Face.state), col(Face.person_id))
        .where(col(Face.asset_id).in_(asset_ids))
        .order_by(col(Face.id))
    ).all():
        faces[asset_id].append(FaceTerms(face_id, FaceState(state), person_id))
    person_ids = sorted({f.person_id for fs in faces.values() for f in fs if f.person_id})
    people = _load_people(session, person_ids)
    terms: dict[str, AssetTerms] = {}
    for row in assets:
        channels, until = licence_terms(row.licence if isinstance(row.licence, dict) else {}, zone)
        terms[row.id] = AssetTerms(
            id=row.id,
            faces=tuple(faces.get(row.id, ())),
            faces_checked=row.faces_checked_at is not None and row.status == AssetStatus.ready,
            undetected_people=bool(row.undetected_people),
            alt_text=row.alt_text or "",
            embargo_until=row.embargo_until,
            licence_channels=channels,
            licence_until=until,
            restricted=bool(row.restricted),
        )
    return terms, people


def _load_people(session: Session, person_ids: Sequence[str]) -> dict[str, PersonTerms]:
    people: dict[str, PersonTerms] = {}
    for chunk in _chunks(list(person_ids), BATCH):
        consents: dict[str, list[ConsentTerms]] = defaultdict(list)
        for c in session.exec(select(Consent).where(col(Consent.person_id).in_(chunk))):
            assert c.person_id is not None
            consents[c.person_id].append(consent_terms(c))
        for person_id, is_minor in session.execute(
            sa_select(col(Person.id), col(Person.is_minor)).where(col(Person.id).in_(chunk))
        ).all():
            people[person_id] = PersonTerms(
                id=person_id, is_minor=bool(is_minor), consents=tuple(consents.get(person_id, ()))
            )
    return people


def consent_terms(consent: Consent) -> ConsentTerms:
    return ConsentTerms(
        id=consent.id,
        person_id=consent.person_id or "",
        channels=frozenset(consent.channels or ()),
        granted_at=consent.granted_at,
        valid_until=consent.valid_until,
        withdrawn_at=consent.withdrawn_at,
        has_guardian=bool((consent.guardian_name or "").strip()),
        superseded=consent.superseded_at is not None,
    )


def _chunks(items: Sequence[str], size: int) -> Iterator[list[str]]:
    for start in range(0, len(items), size):
        yield list(items[start : start + size])


# --- following the database ---------------------------------------------------------------

_live: weakref.WeakSet[VerdictService] = weakref.WeakSet()


def live_services() -> list[VerdictService]:
    return list(_live)


class VerdictService:
    """One runtime's verdict cache upkeep: re-judges assets that events say changed."""

    def __init__(self, settings: Settings, engine: Engine) -> None:
        self.settings = settings
        self.engine = engine
        _live.add(self)

    def refresh(self, asset_ids: Iterable[str]) -> None:
        ids = list(asset_ids)
        if not ids:
            return
        with Session(self.engine) as session:
            refresh(session, ids, settings=self.settings)
            session.commit()

    def refresh_due(self) -> int:
        with Session(self.engine) as session:
            count = refresh_due(session, settings=self.settings)
            session.commit()
            return count

    def close(self) -> None:
        _live.discard(self)
