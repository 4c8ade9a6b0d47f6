"""The verdict cache: computing verdicts from the database (gdpr/judgement/verdict.py does the
judging), storing them per asset and channel, and reading them back for egress checks."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from sqlalchemy import exists as sa_exists
from sqlalchemy import select as sa_select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, col, select

from dam import changes, clock
from dam.chunks import chunks
from dam.db import among
from dam.models import (
    Asset,
    AssetStatus,
    Consent,
    Face,
    FaceState,
    LicenceStatus,
    Person,
    VerdictStatus,
)
from dam.settings import Settings
from gdpr.judgement.verdict import (
    AssetTerms,
    ConsentTerms,
    FaceTerms,
    PersonTerms,
    Reason,
    Rules,
    Verdict,
    judge_all,
)
from gdpr.judgement.verdict_facts import Facts
from gdpr.judgement.verdict_rows import LINKS, SETS, RowWriter, assets_with

if TYPE_CHECKING:
    from dam.runtime import Runtime

BATCH = 2000  # assets per query round: well inside every database's parameter limit

_STATES = {state.value: state for state in FaceState}

_ASSET = Asset.__table__  # type: ignore[attr-defined]
_FACE = Face.__table__  # type: ignore[attr-defined]
_CONSENT = Consent.__table__  # type: ignore[attr-defined]
_PERSON = Person.__table__  # type: ignore[attr-defined]


def rules_for(settings: Settings) -> Rules:
    return Rules(
        channels=settings.channel_list,
        alt_text_channels=settings.alt_text_channel_set,
        licence_channels=settings.licence_channel_set,
    )


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
    """What re-judging has learnt: people with their consents, and verdicts per set of
    facts. For one moment; people are read again in every transaction (`begin`), and
    finding anyone changed forgets the verdicts learnt."""

    people: dict[str, PersonTerms] = field(default_factory=dict)
    verdicts: dict[str, list[Verdict]] = field(default_factory=dict)  # by Facts.id
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
            if fresh is None:
                self.people.pop(person_id, None)
            else:
                self.people[person_id] = fresh
            self.read.add(person_id)

    def read_people(self, session: Session, facts: Iterable[Facts]) -> None:
        """Read the people on these facts not read in this transaction yet, at once."""
        unread = {p for f in facts if f.id not in self.verdicts for p in f.person_ids()}
        unread -= self.read
        if unread:
            asked = sorted(unread)
            self.learn(asked, _load_people(session, asked))

    def judge(
        self, session: Session, facts: Facts, moment: datetime, rules: Rules
    ) -> list[Verdict]:
        verdicts = self.verdicts.get(facts.id)
        if verdicts is None:
            self.read_people(session, [facts])
            verdicts = self.verdicts[facts.id] = judge_all(
                facts.terms(), self.people, moment, rules
            )
        return verdicts


def compute(
    session: Session,
    asset_ids: Sequence[str],
    *,
    settings: Settings,
    at: datetime | None = None,
) -> dict[str, list[Verdict]]:
    """Every channel's verdict of each existing asset among `asset_ids` (not stored)."""
    moment = at or clock.now()
    rules = rules_for(settings)
    memo = _Memo()
    result: dict[str, list[Verdict]] = {}
    for chunk in chunks(list(dict.fromkeys(asset_ids)), BATCH):
        rows = _read(session, chunk, settings.default_timezone)
        memo.read_people(session, (row.facts for row in rows))
        for row in rows:
            result[row.asset_id] = memo.judge(session, row.facts, moment, rules)
    return result


def refresh(
    session: Session,
    asset_ids: Iterable[str],
    *,
    settings: Settings,
    at: datetime | None = None,
) -> int:
    """Recompute and store the verdicts of `asset_ids` in the caller's transaction: the
    verdict sets of their facts are judged afresh (which re-judges every asset sharing
    them) and each asset points at its set. The change feed gets every asset whose
    verdicts may have changed (their search documents show them). Returns how many
    assets were judged."""
    ids = list(dict.fromkeys(asset_ids))
    if not ids:
        return 0
    moment = at or clock.now()
    rules = rules_for(settings)
    memo = _Memo()
    connection = session.connection()
    writer = RowWriter(connection.dialect)
    judged = 0
    written: set[str] = set()
    changed: set[str] = set()
    for chunk in chunks(ids, BATCH):
        rows = _read(session, chunk, settings.default_timezone)
        memo.read_people(session, (row.facts for row in rows))
        sets = []
        for row in rows:
            if row.facts.id not in written:
                written.add(row.facts.id)
                verdicts = memo.judge(session, row.facts, moment, rules)
                sets.append(writer.encode(row.facts, verdicts))
        changed |= writer.write_sets(connection, sets, moment)
        writer.write_links(
            connection,
            [(row.asset_id, row.facts.id) for row in rows if row.verdict_id != row.facts.id],
            moment,
        )
        judged += len(rows)
    # Other assets sharing a set that changed changed with it.
    changes.record(session, documents=[*ids, *assets_with(connection, sorted(changed))])
    return judged


def refresh_due(runtime: Runtime, *, at: datetime | None = None, batch: int = 2000) -> int:
    """Re-judge every verdict set that changes by itself at or before `at` (a consent
    starts or ends, an embargo or licence runs out), and judge assets that have no
    verdict yet; a batch per transaction (other writers get their turn between
    batches). Sets are judged from their stored facts: the assets sharing them are not
    read. Returns how many verdict sets and assets were judged.

    On PostgreSQL each batch reads one snapshot (REPEATABLE READ): a consent or face
    change committed by someone else meanwhile makes writing the same set fail instead
    of overwriting their fresher verdict with ours, and the batch is read again."""
    settings = runtime.settings
    moment = at or clock.now()
    rules = rules_for(settings)
    memo = _Memo()  # people are read again in each batch; verdicts carry over
    _prune(runtime.engine)
    snapshot = runtime.engine.dialect.name == "postgresql"
    judged = 0
    retries = 0
    while True:
        try:
            with runtime.session() as session:
                if snapshot:  # set before the transaction's first statement
                    session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
                memo.begin()
                count = _judge_due_sets(session, moment, rules, memo, batch) or refresh(
                    session, _unjudged(session, batch), settings=settings, at=moment
                )
                if not count:
                    return judged
                session.commit()
                judged += count
        except OperationalError as exc:
            if not _is_serialization_failure(exc) or retries >= _RETRIES:
                raise
            retries += 1


def _judge_due_sets(
    session: Session, moment: datetime, rules: Rules, memo: _Memo, batch: int
) -> int:
    due = (
        session.connection()
        .execute(
            sa_select(SETS.c.id, SETS.c.facts)
            .where(SETS.c.next_change_at <= moment)
            .order_by(SETS.c.next_change_at)
            .limit(batch)
        )
        .all()
    )
    changed = _rejudge_sets(session, due, moment, rules, memo)
    changes.record(session, documents=assets_with(session.connection(), changed))
    return len(due)


def refresh_people(
    session: Session, person_ids: Sequence[str], *, settings: Settings, at: datetime | None = None
) -> int:
    """Re-judge, in the caller's transaction, what a change of these people's consents
    changes: the verdict sets with them on (confirmed or, conservatively, suggested). Facts
    do not change with consents, so the sets are judged from their stored facts and the
    assets are not read; an asset of theirs without a verdict yet is judged in full. The
    change feed gets the people (the drainer finds their assets, whose documents show
    the verdicts), not their thousands of assets. Returns how many assets they are on."""
    moment = at or clock.now()
    session.flush()
    connection = session.connection()
    on = connection.execute(
        sa_select(_FACE.c.asset_id, LINKS.c.verdict_id)
        .outerjoin(LINKS, LINKS.c.asset_id == _FACE.c.asset_id)
        .where(among(_FACE.c.person_id, person_ids, connection))
        .where(_FACE.c.state.in_([FaceState.confirmed.value, FaceState.suggested.value]))
        .distinct()
    ).all()
    linked = [(asset_id, set_id) for asset_id, set_id in on if set_id is not None]
    unlinked = {asset_id for asset_id, set_id in on if set_id is None}
    set_ids = sorted({set_id for _, set_id in linked})
    sets: list[Any] = []
    for chunk in chunks(set_ids, BATCH):
        sets.extend(
            connection.execute(
                sa_select(SETS.c.id, SETS.c.facts).where(among(SETS.c.id, chunk, connection))
            ).all()
        )
    _rejudge_sets(session, sets, moment, rules_for(settings), _Memo())
    changes.record(session, people=person_ids)
    if unlinked:
        refresh(session, sorted(unlinked), settings=settings, at=moment)
    return len(linked) + len(unlinked)


def _rejudge_sets(
    session: Session, rows: Sequence[Any], moment: datetime, rules: Rules, memo: _Memo
) -> list[str]:
    """Judge verdict sets (rows of id and facts) again from their facts and store them;
    returns the ids of the sets whose verdicts changed."""
    if not rows:
        return []
    connection = session.connection()
    writer = RowWriter(connection.dialect)
    stored_facts = [(set_id, Facts.from_json(data)) for set_id, data in rows]
    memo.read_people(session, (facts for _, facts in stored_facts))
    sets = [
        # Kept under its own id, even were the digest to change in a later version.
        writer.encode(facts, memo.judge(session, facts, moment, rules), set_id)
        for set_id, facts in stored_facts
    ]
    return sorted(writer.write_sets(connection, sets, moment))


def _prune(engine: Engine) -> None:
    """Forget verdict sets no asset has any more (facts that changed, assets deleted or
    erased): nothing to re-judge when their dates pass, no person ids kept for nothing."""
    with engine.begin() as connection:
        connection.execute(SETS.delete().where(~sa_exists().where(LINKS.c.verdict_id == SETS.c.id)))


def _unjudged(session: Session, batch: int) -> list[str]:
    """Assets without a verdict yet (after an upgrade dropped the old cache)."""
    return list(
        session.connection()
        .execute(
            sa_select(_ASSET.c.id)
            .outerjoin(LINKS, LINKS.c.asset_id == _ASSET.c.id)
            .where(LINKS.c.asset_id.is_(None))
            .limit(batch)
        )
        .scalars()
    )


_RETRIES = 5


def _is_serialization_failure(exc: OperationalError) -> bool:
    return getattr(exc.orig, "sqlstate", None) == "40001"


def assets_of_person(session: Session, person_id: str) -> list[str]:
    """Every asset a person is on: confirmed faces and, conservatively, suggested ones."""
    return list(session.exec(assets_of_person_query(person_id)))


def assets_of_person_query(person_id: str) -> Any:
    """assets_of_person as a query, to use inside another (`IN (SELECT ...)`)."""
    return (
        select(Face.asset_id)
        .where(Face.person_id == person_id)
        .where(col(Face.state).in_([FaceState.confirmed, FaceState.suggested]))
        .distinct()
    )


@dataclass(frozen=True)
class StoredVerdict:
    """One channel's verdict as cached."""

    channel: str
    status: VerdictStatus
    reasons: list[dict[str, Any]]
    next_change_at: datetime | None


@dataclass(frozen=True)
class StoredSet:
    """An asset's cached verdicts: every channel, the worst status, the channels it is
    cleared for, and when it next changes by itself."""

    channels: dict[str, Any]
    status: VerdictStatus
    cleared_for: str
    next_change_at: datetime | None


def stored_set(session: Session, asset_id: str) -> StoredSet | None:
    """The cached verdicts of one asset (None: not judged yet)."""
    row = session.execute(
        sa_select(SETS.c.channels, SETS.c.status, SETS.c.cleared_for, SETS.c.next_change_at)
        .join(LINKS, LINKS.c.verdict_id == SETS.c.id)
        .where(LINKS.c.asset_id == asset_id)
    ).first()
    if row is None:
        return None
    return StoredSet(row.channels, VerdictStatus(row.status), row.cleared_for, row.next_change_at)


def stored(session: Session, asset_id: str) -> dict[str, StoredVerdict]:
    """The cached verdicts of one asset by channel."""
    row = stored_set(session, asset_id)
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
    row = stored_set(session, asset_id)
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
    """One asset's facts and its people as judge() takes them (None: no such asset);
    unlike judging, redaction needs the faces themselves."""
    for row in _read(session, [asset_id], settings.default_timezone):
        terms = replace(row.facts.terms(), id=asset_id, faces=tuple(row.faces))
        people = _load_people(session, sorted(row.facts.person_ids()))
        return terms, people
    return None, {}


@dataclass(frozen=True)
class _Row:
    asset_id: str
    facts: Facts
    faces: list[FaceTerms]
    verdict_id: str | None  # the set it has now


def _read(session: Session, asset_ids: Sequence[str], zone: str) -> list[_Row]:
    """The assets' facts (the columns judging needs, with their faces) and the verdict
    set each has now."""
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
            _ASSET.c.licence_status,
            LINKS.c.verdict_id,
        )
        .outerjoin(LINKS, LINKS.c.asset_id == _ASSET.c.id)
        .where(among(_ASSET.c.id, asset_ids, connection))
    ).all()
    faces: dict[str, list[FaceTerms]] = defaultdict(list)
    for face_id, asset_id, state, person_id in connection.execute(
        sa_select(_FACE.c.id, _FACE.c.asset_id, _FACE.c.state, _FACE.c.person_id)
        .where(among(_FACE.c.asset_id, asset_ids, connection))
        .order_by(_FACE.c.id)
    ).all():
        faces[asset_id].append(FaceTerms(face_id, _STATES[state], person_id))
    rows = []
    for row in assets:
        licence = row.licence if isinstance(row.licence, dict) else None
        channels, until = licence_terms(licence, zone) if licence else (None, None)
        own = faces.get(row.id, [])
        facts = Facts.of(
            own,
            faces_checked=bool(row.faces_checked) and row.status == AssetStatus.ready,
            undetected_people=bool(row.undetected_people),
            alt_text=row.alt_text or "",
            embargo_until=row.embargo_until,
            licence_channels=channels,
            licence_until=until,
            restricted=bool(row.restricted),
            licence_unknown=row.licence_status == LicenceStatus.unknown,
        )
        rows.append(_Row(row.id, facts, own, row.verdict_id))
    return rows


def _load_people(session: Session, person_ids: Sequence[str]) -> dict[str, PersonTerms]:
    people: dict[str, PersonTerms] = {}
    connection = session.connection()  # Core, as in _read (the caller has flushed)
    for chunk in chunks(list(person_ids), BATCH):
        consents: dict[str, list[ConsentTerms]] = defaultdict(list)
        for row in connection.execute(
            sa_select(*_CONSENT_COLUMNS)
            .where(among(_CONSENT.c.person_id, chunk, connection))
            .order_by(_CONSENT.c.person_id, _CONSENT.c.id)
        ).all():
            consents[row.person_id].append(consent_terms(row))
        for person_id, is_minor in connection.execute(
            sa_select(_PERSON.c.id, _PERSON.c.is_minor).where(
                among(_PERSON.c.id, chunk, connection)
            )
        ).all():
            people[person_id] = PersonTerms(
                id=person_id, is_minor=bool(is_minor), consents=tuple(consents.get(person_id, ()))
            )
    return people


_CONSENT_COLUMNS = tuple(
    _CONSENT.c[name]
    for name in (
        "id",
        "person_id",
        "channels",
        "granted_at",
        "valid_until",
        "withdrawn_at",
        "guardian_name",
        "superseded_at",
    )
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
