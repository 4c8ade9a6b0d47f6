"""Consent records, the cached publishability verdict, recorded usages, share links,
erasure tombstones and in-app notifications (the tables behind gdpr/)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, String
from sqlmodel import Field, SQLModel

from dam.clock import now
from dam.db import UTCDateTime
from dam.ids import new_id


class VerdictStatus(StrEnum):
    cleared = "cleared"
    review = "review"
    blocked = "blocked"


class Consent(SQLModel, table=True):
    """One version of a person's consent. Never edited in place: a change is a new row
    whose `supersedes_id` names the version it replaces (which gets `superseded_at`).
    Withdrawal is recorded on the version in force (date, reason, who)."""

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    # SET NULL: after an erasure the record stays as an anonymous tombstone of the fact.
    person_id: str | None = Field(
        default=None, foreign_key="person.id", index=True, ondelete="SET NULL", max_length=32
    )
    version: int = 1
    supersedes_id: str | None = Field(default=None, max_length=32)
    superseded_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    channels: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    granted_at: datetime = Field(sa_type=UTCDateTime)
    valid_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    guardian_name: str | None = Field(default=None, max_length=200)
    evidence_asset_id: str | None = Field(
        default=None, foreign_key="asset.id", ondelete="SET NULL", max_length=32
    )
    form_version: str = Field(default="", max_length=100)
    notes: str = Field(default="", max_length=5000)
    recorded_by: str | None = Field(
        default=None, foreign_key="user.id", ondelete="SET NULL", max_length=32
    )
    withdrawn_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    withdrawn_reason: str | None = Field(default=None, max_length=1000)
    withdrawn_by: str | None = Field(default=None, max_length=32)
    created_at: datetime = Field(default_factory=now, sa_type=UTCDateTime)


class VerdictSet(SQLModel, table=True):
    """The verdicts of every asset with the same facts (its faces' states and people, alt
    text present, embargo, licence terms, restricted, faces looked for): judged once per
    distinct set of facts, with every channel's status and reasons and when it next
    changes by itself (the earliest start, end or withdrawal date involved).

    Assets point here through AssetVerdict. When time passes or a consent changes, only
    these rows are re-judged and rewritten, however many assets share them: 90,000
    assets of 2,000 people are a few thousand rows, not 90,000."""

    __tablename__ = "verdict_set"

    # A digest of `facts` (gdpr/judgement/verdict_facts.py): equal facts, equal id.
    id: str = Field(primary_key=True, max_length=32)
    # The facts judged (no names: faces as state and person id) - enough to judge again.
    facts: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    # {channel: {"status", "reasons": [{"code", "person_id"?, "at"?, "count"?}]}}: reasons
    # are rendered into text when shown, so no name is copied here.
    channels: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    # The most restrictive status over all channels (privacy officers' review lists).
    status: VerdictStatus = Field(sa_type=String(16), index=True)
    # ",internal,intranet," for a cheap "cleared for C" filter in SQL.
    cleared_for: str = Field(default="", max_length=500)
    next_change_at: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)
    computed_at: datetime = Field(default_factory=now, sa_type=UTCDateTime)


class AssetVerdict(SQLModel, table=True):
    """Which verdicts an asset has: the VerdictSet of its facts, as last judged. Written
    when the asset's facts change; a consent or a deadline changes the set instead."""

    __tablename__ = "asset_verdict"

    asset_id: str = Field(
        foreign_key="asset.id", primary_key=True, ondelete="CASCADE", max_length=32
    )
    verdict_id: str = Field(foreign_key="verdict_set.id", index=True, max_length=32)
    computed_at: datetime = Field(default_factory=now, sa_type=UTCDateTime)


class Usage(SQLModel, table=True):
    """Where an asset was published: what a withdrawal's take-down list recalls."""

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    asset_id: str = Field(foreign_key="asset.id", index=True, ondelete="CASCADE", max_length=32)
    channel: str = Field(max_length=32)
    url: str | None = Field(default=None, max_length=2000)
    note: str = Field(default="", max_length=2000)
    used_at: datetime = Field(default_factory=now, sa_type=UTCDateTime)
    recorded_by: str | None = Field(
        default=None, foreign_key="user.id", ondelete="SET NULL", max_length=32
    )
    recalled_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    recalled_by: str | None = Field(default=None, max_length=32)
    created_at: datetime = Field(default_factory=now, sa_type=UTCDateTime)


class ShareLink(SQLModel, table=True):
    """A public link to one asset for one channel; serves only while the verdict for that
    channel is `cleared`. Only the token's hash is stored."""

    __tablename__ = "share_link"

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    token_hash: str = Field(unique=True, max_length=64)
    asset_id: str = Field(foreign_key="asset.id", index=True, ondelete="CASCADE", max_length=32)
    channel: str = Field(max_length=32)
    expires_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    password_hash: str | None = Field(default=None, max_length=200)
    created_by: str | None = Field(
        default=None, foreign_key="user.id", ondelete="SET NULL", max_length=32
    )
    created_at: datetime = Field(default_factory=now, sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    revoked_by: str | None = Field(default=None, max_length=32)
    views: int = 0


class ErasureTombstone(SQLModel, table=True):
    """That a person was erased (art. 17), when and by whom; never their name."""

    __tablename__ = "erasure_tombstone"

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    person_id: str = Field(max_length=32, index=True)
    executed_by: str | None = Field(default=None, max_length=32)
    executed_at: datetime = Field(default_factory=now, sa_type=UTCDateTime)
    assets: str = Field(max_length=16)  # "redacted" | "deleted"
    asset_count: int = 0
    face_count: int = 0


class Notification(SQLModel, table=True):
    """An in-app notice for privacy officers (expiring or withdrawn consent, ...). Holds
    ids and dates only; the text is rendered in the reader's language."""

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    kind: str = Field(max_length=64, index=True)
    subject_type: str = Field(max_length=32)
    subject_id: str = Field(max_length=32)
    params: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    # One notice per fact: e.g. "consent C ends on D" is not repeated every night.
    dedupe_key: str = Field(unique=True, max_length=200)
    created_at: datetime = Field(default_factory=now, sa_type=UTCDateTime, index=True)
    read_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    read_by: str | None = Field(default=None, max_length=32)
    emailed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
