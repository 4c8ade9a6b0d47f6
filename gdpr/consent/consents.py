"""Consent records: recording, replacing (a new version) and withdrawing them, with the
person's assets re-judged before the call returns."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from enum import StrEnum
from zoneinfo import ZoneInfo

from pydantic import BaseModel, Field, field_validator
from sqlmodel import Session, col, select

from dam import audit, clock
from dam.errors import Conflict, InvalidInput, N_plural, NotFound
from dam.input_types import DayOrMoment, Moment
from dam.models import Asset, Consent, User
from dam.settings import Settings
from gdpr.consent import consent_filters, creative_notices, notifications
from gdpr.judgement import verdicts
from gdpr.recognition.identity import get_person


class ConsentState(StrEnum):
    active = "active"
    pending = "pending"  # starts later
    expired = "expired"
    withdrawn = "withdrawn"
    superseded = "superseded"


class ConsentInput(BaseModel):
    """A consent as given on the form. Dates without a time: the consent runs from the
    start of `granted_at` through the whole of `valid_until` (local time)."""

    model_config = {"extra": "forbid"}

    channels: list[str] = Field(min_length=1, max_length=32)
    granted_at: DayOrMoment
    valid_until: DayOrMoment | None = None
    guardian_name: str | None = Field(None, max_length=200)
    # An empty id is a mistake, not "no evidence": null says that (and "" broke the FK).
    evidence_asset_id: str | None = Field(None, min_length=1, max_length=32)
    form_version: str = Field("", max_length=100)
    notes: str = Field("", max_length=5000)

    @field_validator("channels")
    @classmethod
    def _channels(cls, value: list[str]) -> list[str]:
        channels = sorted({c.strip() for c in value if c.strip()})
        if not channels:
            raise ValueError("name at least one channel")
        return channels

    @field_validator("guardian_name")
    @classmethod
    def _guardian(cls, value: str | None) -> str | None:
        value = " ".join((value or "").split())
        return value or None


class WithdrawInput(BaseModel):
    model_config = {"extra": "forbid"}

    at: Moment | None = None
    reason: str = Field("", max_length=1000)


@dataclass(frozen=True)
class ConsentChange:
    consent: Consent
    assets_rejudged: int


def moment(value: date | datetime, zone: str, *, end: bool = False) -> datetime:
    """A form's date as a moment: a day starts at local midnight; `end`: the next one."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=ZoneInfo(zone))
    if end:
        return verdicts.end_of_day(value, zone)
    return datetime.combine(value, time(), tzinfo=ZoneInfo(zone))


def state_of(consent: Consent, at: datetime | None = None) -> ConsentState:
    at = at or clock.now()
    if consent.superseded_at is not None:
        return ConsentState.superseded
    if consent.withdrawn_at is not None and consent.withdrawn_at <= at:
        return ConsentState.withdrawn
    if consent.valid_until is not None and consent.valid_until <= at:
        return ConsentState.expired
    if consent.granted_at > at:
        return ConsentState.pending
    return ConsentState.active


def get_consent(session: Session, consent_id: str) -> Consent:
    consent = session.get(Consent, consent_id)
    if consent is None or consent.person_id is None:
        raise NotFound("No such consent.")
    return consent


def list_consents(session: Session, person_id: str) -> list[Consent]:
    """A person's consents, every version, newest first."""
    get_person(session, person_id)
    return list(
        session.exec(
            select(Consent)
            .where(Consent.person_id == person_id)
            .order_by(col(Consent.created_at).desc(), col(Consent.version).desc())
        )
    )


def record_consent(
    session: Session, *, person_id: str, data: ConsentInput, actor: User, settings: Settings
) -> ConsentChange:
    get_person(session, person_id)
    # A minor's consent without a guardian is recorded as given (the paper exists); the
    # verdict does not let it clear anything.
    consent = _new_version(session, person_id, data, actor, settings)
    return _finish(session, [consent], "consent.recorded", actor, settings)[0]


def replace_consent(
    session: Session, *, consent_id: str, data: ConsentInput, actor: User, settings: Settings
) -> ConsentChange:
    """A change is a new version; the old one stays as history."""
    old = get_consent(session, consent_id)
    if old.superseded_at is not None:
        raise Conflict("This version was already replaced; change the newest one.")
    if old.withdrawn_at is not None:
        raise Conflict("A withdrawn consent cannot be changed; record a new consent.")
    assert old.person_id is not None
    consent = _new_version(session, old.person_id, data, actor, settings, previous=old)
    old.superseded_at = consent.created_at
    session.add(old)
    return _finish(session, [consent], "consent.replaced", actor, settings, replaced=old.id)[0]


def withdraw_consent(
    session: Session, *, consent_id: str, data: WithdrawInput, actor: User, settings: Settings
) -> ConsentChange:
    """Withdraw (GDPR art. 7(3)); every affected asset is re-judged in this transaction."""
    consent = _withdraw(session, consent_id, data, actor, settings)
    return _finish(session, [consent], "consent.withdrawn", actor, settings)[0]


def _withdraw(
    session: Session, consent_id: str, data: WithdrawInput, actor: User, settings: Settings
) -> Consent:
    """Record the withdrawal of one consent version (not committed, nothing re-judged)."""
    consent = get_consent(session, consent_id)
    if consent.superseded_at is not None:
        raise Conflict("This version was replaced; withdraw the newest one.")
    if consent.withdrawn_at is not None:
        raise Conflict("This consent is already withdrawn.")
    current = clock.now()
    at = data.at.astimezone(UTC) if data.at and data.at.tzinfo else data.at
    if at is None:
        at = current
    elif at.tzinfo is None:
        at = at.replace(tzinfo=ZoneInfo(settings.default_timezone))
    if at > current:
        raise InvalidInput("A withdrawal takes effect now or at a past date, not later.")
    consent.withdrawn_at = at
    consent.withdrawn_reason = data.reason.strip() or None
    consent.withdrawn_by = actor.id
    session.add(consent)
    notifications.notice_withdrawal(session, consent)
    creative_notices.notice_withdrawal(session, consent)
    return consent


def withdraw_all(
    session: Session, *, person_id: str, data: WithdrawInput, actor: User, settings: Settings
) -> list[ConsentChange]:
    """Withdraw every consent of a person that is still in force (the person page's one
    button)."""
    get_person(session, person_id)
    open_ = session.exec(
        select(Consent.id).where(Consent.person_id == person_id, consent_filters.open_versions())
    ).all()
    if not open_:
        raise Conflict("This person has no consent in force to withdraw.")
    # All in one transaction, the person's assets re-judged once.
    withdrawn = [_withdraw(session, cid, data, actor, settings) for cid in open_]
    return _finish(session, withdrawn, "consent.withdrawn", actor, settings)


def _new_version(
    session: Session,
    person_id: str,
    data: ConsentInput,
    actor: User,
    settings: Settings,
    previous: Consent | None = None,
) -> Consent:
    unknown = sorted(set(data.channels) - set(settings.channel_list))
    if unknown:
        raise InvalidInput(
            N_plural(
                "Unknown channel: %(unknown)s. Channels are: %(channels)s.",
                "Unknown channels: %(unknown)s. Channels are: %(channels)s.",
            ),
            params={
                "num": len(unknown),
                "unknown": ", ".join(unknown),
                "channels": ", ".join(settings.channel_list),
            },
        )
    zone = settings.default_timezone
    granted = moment(data.granted_at, zone)
    until = moment(data.valid_until, zone, end=True) if data.valid_until else None
    if until is not None and until <= granted:
        raise InvalidInput("The end date must come after the date the consent was given.")
    if data.evidence_asset_id is not None:
        check_evidence(session, data.evidence_asset_id, person_id)
    consent = Consent(
        person_id=person_id,
        version=(previous.version + 1) if previous else 1,
        supersedes_id=previous.id if previous else None,
        channels=list(data.channels),
        granted_at=granted,
        valid_until=until,
        guardian_name=data.guardian_name,
        evidence_asset_id=data.evidence_asset_id,
        form_version=data.form_version.strip(),
        notes=data.notes.strip(),
        recorded_by=actor.id,
    )
    session.add(consent)
    session.flush()
    return consent


def check_evidence(session: Session, evidence_id: str, person_id: str) -> None:
    """InvalidInput unless `evidence_id` is consent evidence (uploaded through a consent)
    of this person or of no consent yet. A library asset never becomes evidence: linking
    it would hide a photo from everyone who uses it."""
    evidence = session.get(Asset, evidence_id) if evidence_id else None
    if evidence is None:
        raise InvalidInput(
            "The evidence file does not exist; upload it first with "
            "POST /api/v1/people/{id}/evidence."
        )
    if not evidence.is_evidence:
        raise InvalidInput(
            "This is a library asset, not consent evidence. Upload the signed form with "
            "POST /api/v1/people/{id}/evidence and use the id it returns."
        )
    others = session.exec(
        select(Consent.id).where(
            Consent.evidence_asset_id == evidence_id, Consent.person_id != person_id
        )
    ).first()
    if others is not None:
        raise InvalidInput("This evidence belongs to another person's consent.")


def _finish(
    session: Session,
    changed: list[Consent],
    action: str,
    actor: User,
    settings: Settings,
    **extra: str,
) -> list[ConsentChange]:
    """Audit the changed versions (of one person), re-judge the person's assets, commit."""
    person_id = changed[0].person_id
    assert person_id is not None
    for consent in changed:
        # Ids and channels only: the chain outlives the person (art. 17).
        audit.record(
            session,
            action=action,
            actor_id=actor.id,
            subject_type="consent",
            subject_id=consent.id,
            details={
                "person_id": person_id,
                "version": consent.version,
                "channels": list(consent.channels),
                **extra,
            },
        )
    judged = verdicts.refresh_people(session, [person_id], settings=settings)
    session.commit()
    for consent in changed:
        session.refresh(consent)
    return [ConsentChange(consent, judged) for consent in changed]
