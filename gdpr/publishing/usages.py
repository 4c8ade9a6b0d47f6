"""Recorded publications of assets, and a person's take-down list after a withdrawal."""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel, Field, field_validator
from sqlmodel import Session, col, select

from dam import audit, clock
from dam.assets import get_asset
from dam.errors import NotFound
from dam.input_types import Moment
from dam.models import Asset, Face, FaceState, Usage, User
from dam.settings import Settings
from dam.urls import is_web_address
from gdpr.judgement import verdicts
from gdpr.publishing import egress
from gdpr.recognition.identity import get_person


class UsageInput(BaseModel):
    model_config = {"extra": "forbid"}

    channel: str = Field(min_length=1, max_length=32)
    url: str | None = Field(None, max_length=2000)
    note: str = Field("", max_length=2000)
    used_at: Moment | None = None

    @field_validator("url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        value = (value or "").strip()
        if not value:
            return None
        if not is_web_address(value):
            raise ValueError("give a web address that starts with http:// or https://")
        return value


@dataclass(frozen=True)
class TakedownItem:
    usage: Usage
    asset: Asset
    face_state: FaceState  # how the person is on it: confirmed, or only suggested


def record_usage(
    session: Session, *, asset_id: str, data: UsageInput, actor: User, settings: Settings
) -> Usage:
    get_asset(session, asset_id)
    egress.require_channel(settings, data.channel)
    usage = Usage(
        asset_id=asset_id,
        channel=data.channel,
        url=data.url,
        note=data.note.strip(),
        used_at=data.used_at or clock.now(),
        recorded_by=actor.id,
    )
    session.add(usage)
    session.flush()
    audit.record(
        session,
        action="usage.recorded",
        actor_id=actor.id,
        subject_type="asset",
        subject_id=asset_id,
        details={"usage_id": usage.id, "channel": usage.channel},
    )
    session.commit()
    session.refresh(usage)
    return usage


def list_usages(session: Session, asset_id: str) -> list[Usage]:
    get_asset(session, asset_id)
    return list(
        session.exec(
            select(Usage).where(Usage.asset_id == asset_id).order_by(col(Usage.used_at).desc())
        )
    )


def takedown_list(
    session: Session, person_id: str, *, include_recalled: bool = False
) -> list[TakedownItem]:
    """Every recorded usage of every asset the person is on (confirmed or suggested)."""
    get_person(session, person_id)
    asset_ids = verdicts.assets_of_person(session, person_id)
    if not asset_ids:
        return []
    states: dict[str, FaceState] = {}
    for asset_id, state in session.exec(
        select(Face.asset_id, Face.state).where(
            Face.person_id == person_id, col(Face.asset_id).in_(asset_ids)
        )
    ).all():
        if states.get(asset_id) != FaceState.confirmed:
            states[asset_id] = FaceState(state)
    query = (
        select(Usage, Asset)
        .join(Asset, col(Asset.id) == col(Usage.asset_id))
        .where(col(Usage.asset_id).in_(asset_ids))
        .order_by(col(Usage.used_at).desc(), col(Usage.id))
    )
    if not include_recalled:
        query = query.where(col(Usage.recalled_at).is_(None))
    return [
        TakedownItem(usage, asset, states.get(asset.id, FaceState.suggested))
        for usage, asset in session.exec(query).all()
    ]


def mark_recalled(session: Session, *, usage_id: str, actor: User) -> Usage:
    usage = session.get(Usage, usage_id)
    if usage is None:
        raise NotFound("No such usage.")
    if usage.recalled_at is None:
        usage.recalled_at, usage.recalled_by = clock.now(), actor.id
        session.add(usage)
        audit.record(
            session,
            action="usage.recalled",
            actor_id=actor.id,
            subject_type="asset",
            subject_id=usage.asset_id,
            details={"usage_id": usage.id, "channel": usage.channel},
        )
        session.commit()
        session.refresh(usage)
    return usage
