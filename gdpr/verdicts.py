"""The verdict cache: computing verdicts from the database (gdpr/verdict.py does the
judging), storing them per asset and channel, and reading them back for egress checks."""

from __future__ import annotations

import weakref
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select as sa_select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, col, select

from dam import clock, events
from dam.chunks import chunks
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
from gdpr.verdict_rows import Encoded, RowWriter

BATCH = 2000  # assets per query round: well inside every database's parameter limit

_STATES = {state.value: state for state in FaceState}

VERDICT_TABLE = AssetVerdict.__table__  # type: ignore[attr-defined]
_ASSET = Asset.__table__  # type: ignore[attr-defined]
_FACE = Face.__table__  # type: ignore[attr-defined]


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


@dataclass
class _Memo:
    """What re-judging has learnt: people with their consents, and per asset signature the
    verdicts and their encoded row. For one moment; people are read again in every
    transaction (`begin`), and finding anyone changed forgets the verdicts learnt."""

    people: dict[str, PersonTerms] = field(default_factory=dict)
    verdicts: dict[tuple[object, ...], list[Verdict]] = field(default_factory=dict)
    encoded: dict[tuple[object, ...], Encoded] = field(default_factory=dict)
    read: set[str] = field(default_factory=set)  # people read in this transaction

    def begin(self) -> None:
        self.read = set()

    def learn(self, asked: Iterable[str], found: dict[str, PersonTerms]) -> None:
        """People read afresh (`asked`, of whom `found` exist)."""
        for person_id in asked:
            known = self.people.get(person_id)
            fresh = found.get(person_id)
            if known is not None and known != fresh:
                self.verdicts.clear()
                self.encoded.clear()
            if fresh is None:
                self.people.pop(person_id, None)
            else:
                self.people[person_id] = fresh
            self.read.add(person_id)


def compute(
    session: Session,
    asset_ids: Sequence[str],
    *,
    settings: Settings,
    at: datetime | None = None,
) -> dict[str, list[Verdict]]:
    """Every channel's verdict of each existing asset among `asset_ids` (not stored)."""
    moment = at or clock.now()
    memo = _Memo()
    return {
        asset_id: memo.verdicts[key]
        for chunk in chunks(list(dict.fromkeys(asset_ids)), BATCH)
        for asset_id, key in _judged(session, chunk, settings, moment, memo)
    }


def refresh(
    session: Session,
    asset_ids: Iterable[str],
    *,
    settings: Settings,
    at: datetime | None = None,
    memo: _Memo | None = None,
) -> int:
    """Recompute and store the verdicts of `asset_ids` in the caller's transaction; search
    hears of them after the commit. Returns how many assets were judged."""
    ids = list(dict.fromkeys(asset_ids))
    if not ids:
        return 0
    moment = at or clock.now()
    memo = memo or _Memo()
    memo.begin()
    connection = session.connection()
    writer = RowWriter(connection.dialect)
    judged = 0
    for chunk in chunks(ids, BATCH):
        rows = []
        for asset_id, key in _judged(session, chunk, settings, moment, memo):
            encoded = memo.encoded.get(key)
            if encoded is None:
                encoded = memo.encoded[key] = writer.encode(memo.verdicts[key])
            rows.append((asset_id, encoded))
        writer.write(connection, rows, moment)
        judged += len(rows)
    events.publish_after_commit(session, events.VerdictsChanged(asset_ids=tuple(ids)))
    return judged


def _judged(
    session: Session, asset_ids: Sequence[str], settings: Settings, moment: datetime, memo: _Memo
) -> Iterator[tuple[str, tuple[object, ...]]]:
    """(asset id, signature) of each existing asset, its verdicts in `memo.verdicts`.

    Assets with the same people in the same states and the same asset-level facts get
    the same verdicts (reasons count faces, never name them): each signature is judged
    once, and an asset's facts are only made into AssetTerms when it brings a new one."""
    rules: Rules | None = None
    for row, faces in _read(session, asset_ids, memo):
        licence = row.licence if isinstance(row.licence, dict) and row.licence else None
        channels, until = (
            licence_terms(licence, settings.default_timezone) if licence else _NO_LIMIT
        )
        faces_checked = bool(row.faces_checked) and row.status == AssetStatus.ready
        key = (
            tuple(sorted((f.state.value, f.person_id or "") for f in faces)),
            faces_checked,
            bool(row.undetected_people),
            bool((row.alt_text or "").strip()),
            row.embargo_until,
            channels,
            until,
            bool(row.restricted),
        )
        if key not in memo.verdicts:
            rules = rules or rules_for(settings)
            terms = AssetTerms(
                id=row.id,
                faces=tuple(faces),
                faces_checked=faces_checked,
                undetected_people=bool(row.undetected_people),
                alt_text=row.alt_text or "",
                embargo_until=row.embargo_until,
                licence_channels=channels,
                licence_until=until,
                restricted=bool(row.restricted),
            )
            memo.verdicts[key] = judge_all(terms, memo.people, moment, rules)
        yield row.id, key


_NO_LIMIT: tuple[None, None] = (None, None)


def refresh_due(
    engine: Engine, *, settings: Settings, at: datetime | None = None, batch: int = 10_000
) -> int:
    """Re-judge every asset whose cached verdict changes by itself at or before `at`, a
    batch per transaction (other writers get their turn between batches). Returns how
    many assets were judged.

    On PostgreSQL each batch reads one snapshot (REPEATABLE READ): a consent or face
    change committed by someone else meanwhile makes writing that asset's row fail
    instead of overwriting their fresher verdict with ours, and the batch is read again."""
    moment = at or clock.now()
    memo = _Memo()  # people are read again in each batch; verdicts carry over
    if engine.dialect.name == "postgresql":
        engine = engine.execution_options(isolation_level="REPEATABLE READ")
    judged = 0
    retries = 0
    while True:
        try:
            with Session(engine) as session:
                due = session.execute(
                    sa_select(VERDICT_TABLE.c.asset_id)
                    .where(VERDICT_TABLE.c.next_change_at <= moment)
                    .limit(batch)
                ).all()
                if not due:
                    return judged
                count = refresh(
                    session, [row[0] for row in due], settings=settings, at=moment, memo=memo
                )
                session.commit()
                judged += count
        except OperationalError as exc:
            if not _is_serialization_failure(exc) or retries >= _RETRIES:
                raise
            retries += 1


_RETRIES = 5


def _is_serialization_failure(exc: OperationalError) -> bool:
    return getattr(exc.orig, "sqlstate", None) == "40001"


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


@dataclass(frozen=True)
class StoredVerdict:
    """One channel's verdict as cached."""

    channel: str
    status: VerdictStatus
    reasons: list[dict[str, Any]]
    next_change_at: datetime | None


def stored(session: Session, asset_id: str) -> dict[str, StoredVerdict]:
    """The cached verdicts of one asset by channel."""
    row = session.get(AssetVerdict, asset_id)
    if row is None:
        return {}
    return {
        channel: StoredVerdict(
            channel, VerdictStatus(data["status"]), list(data["reasons"]), row.next_change_at
        )
        for channel, data in row.channels.items()
    }


def current(session: Session, asset_id: str, channel: str, *, settings: Settings) -> Verdict | None:
    """The verdict for one channel as it is now: the cached one while it is still valid,
    otherwise computed afresh (a cache a second behind its deadline must not let an
    expired consent through). None: no such asset or channel."""
    if channel not in settings.channel_list:
        return None
    moment = clock.now()
    row = session.get(AssetVerdict, asset_id)
    if (
        row is not None
        and channel in row.channels
        and (row.next_change_at is None or row.next_change_at > moment)
    ):
        data = row.channels[channel]
        return Verdict(
            channel=channel,
            status=VerdictStatus(data["status"]),
            reasons=tuple(Reason.from_json(r) for r in data["reasons"]),
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
    memo = _Memo()
    for row, faces in _read(session, [asset_id], memo):
        channels, until = licence_terms(
            row.licence if isinstance(row.licence, dict) else {}, settings.default_timezone
        )
        terms = AssetTerms(
            id=row.id,
            faces=tuple(faces),
            faces_checked=bool(row.faces_checked) and row.status == AssetStatus.ready,
            undetected_people=bool(row.undetected_people),
            alt_text=row.alt_text or "",
            embargo_until=row.embargo_until,
            licence_channels=channels,
            licence_until=until,
            restricted=bool(row.restricted),
        )
        return terms, memo.people
    return None, memo.people


def _read(
    session: Session, asset_ids: Sequence[str], memo: _Memo
) -> list[tuple[Any, list[FaceTerms]]]:
    """The assets' rows (the columns judging needs) with their faces; the people on them
    not yet read in this transaction are read into `memo`."""
    # Core statements on the session's connection: the ORM's row loading cost more than
    # the queries (profiled); pending ORM changes are flushed first, as a query would.
    session.flush()
    connection = session.connection()
    assets = connection.execute(
        sa_select(
            _ASSET.c.id,
            _ASSET.c.status,
            _ASSET.c.alt_text,
            _ASSET.c.licence,
            _ASSET.c.embargo_until,
            _ASSET.c.undetected_people,
            _ASSET.c.faces_checked_at.is_not(None).label("faces_checked"),
            _ASSET.c.restricted,
        ).where(_ASSET.c.id.in_(asset_ids))
    ).all()
    faces: dict[str, list[FaceTerms]] = defaultdict(list)
    for face_id, asset_id, state, person_id in connection.execute(
        sa_select(_FACE.c.id, _FACE.c.asset_id, _FACE.c.state, _FACE.c.person_id)
        .where(_FACE.c.asset_id.in_(asset_ids))
        .order_by(_FACE.c.id)
    ).all():
        faces[asset_id].append(FaceTerms(face_id, _STATES[state], person_id))
    unread = {f.person_id for fs in faces.values() for f in fs if f.person_id} - memo.read
    if unread:
        asked = sorted(unread)
        memo.learn(asked, _load_people(session, asked))
    return [(row, faces.get(row.id, [])) for row in assets]


def _load_people(session: Session, person_ids: Sequence[str]) -> dict[str, PersonTerms]:
    people: dict[str, PersonTerms] = {}
    for chunk in chunks(list(person_ids), BATCH):
        consents: dict[str, list[ConsentTerms]] = defaultdict(list)
        for row in session.execute(
            sa_select(*_CONSENT_COLUMNS)
            .where(col(Consent.person_id).in_(chunk))
            .order_by(col(Consent.person_id), col(Consent.id))
        ).all():
            consents[row.person_id].append(consent_terms(row))
        for person_id, is_minor in session.execute(
            sa_select(col(Person.id), col(Person.is_minor)).where(col(Person.id).in_(chunk))
        ).all():
            people[person_id] = PersonTerms(
                id=person_id, is_minor=bool(is_minor), consents=tuple(consents.get(person_id, ()))
            )
    return people


_CONSENT_COLUMNS = (
    col(Consent.id),
    col(Consent.person_id),
    col(Consent.channels),
    col(Consent.granted_at),
    col(Consent.valid_until),
    col(Consent.withdrawn_at),
    col(Consent.guardian_name),
    col(Consent.superseded_at),
)


def consent_terms(consent: Consent | Any) -> ConsentTerms:
    """A consent (or a row of _CONSENT_COLUMNS) as judge() takes it."""
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
        return refresh_due(self.engine, settings=self.settings)

    def close(self) -> None:
        _live.discard(self)
