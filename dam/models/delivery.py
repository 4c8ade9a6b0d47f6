"""Downloads: crops people chose per asset and preset, each user's last channel, and
selections being packed as a ZIP."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, String
from sqlmodel import Field, SQLModel

from dam.clock import now
from dam.db import UTCDateTime
from dam.ids import new_id


class AssetCrop(SQLModel, table=True):
    """The crop a person chose for an asset and preset (fractions of the upright image);
    it replaces the automatic one for every later download in that preset."""

    __tablename__ = "asset_crop"

    asset_id: str = Field(
        foreign_key="asset.id", primary_key=True, ondelete="CASCADE", max_length=32
    )
    preset: str = Field(primary_key=True, max_length=32)
    x: float
    y: float
    w: float
    h: float
    chosen_by: str | None = Field(
        default=None, foreign_key="user.id", ondelete="SET NULL", max_length=32
    )
    updated_at: datetime = Field(default_factory=now, sa_type=UTCDateTime)


class DownloadPreference(SQLModel, table=True):
    """The channel (and preset) a user downloaded for last: the dialog opens on it."""

    __tablename__ = "download_preference"

    user_id: str = Field(foreign_key="user.id", primary_key=True, ondelete="CASCADE", max_length=32)
    channel: str = Field(max_length=32)
    preset: str = Field(default="web", max_length=32)
    updated_at: datetime = Field(default_factory=now, sa_type=UTCDateTime)


class DownloadBatch(SQLModel, table=True):
    """A selection being packed as one ZIP by a job; the file is removed after a day."""

    __tablename__ = "download_batch"

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    user_id: str = Field(foreign_key="user.id", index=True, ondelete="CASCADE", max_length=32)
    channel: str = Field(max_length=32)
    preset: str = Field(max_length=32)
    redact: bool = False
    asset_ids: list[str] = Field(default_factory=list, sa_column=Column(JSON))
    status: str = Field(default="queued", sa_type=String(16), index=True)
    done: int = 0
    total: int = 0
    included: int = 0
    error: str | None = None
    # The error as a message id with its values (dam/messages.py).
    error_message: dict[str, Any] | None = Field(
        default=None, sa_column=Column(JSON(none_as_null=True))
    )
    # What happened to each asset: [{"asset_id", "outcome", "file", "reason"}].
    outcomes: list[dict[str, Any]] | None = Field(default=None, sa_column=Column(JSON))
    path: str | None = Field(default=None, max_length=500)
    size: int | None = None
    created_at: datetime = Field(default_factory=now, sa_type=UTCDateTime)
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime, index=True)
