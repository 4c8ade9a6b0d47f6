"""Captions and subtitles of a video, one WebVTT text per language.

The text lives in the database rather than under derived/: it is what a person wrote,
not something Beeldbank can rebuild from the original.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from dam.clock import now
from dam.db import UTCDateTime
from dam.ids import new_id


class Caption(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("asset_id", "language"),)

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    asset_id: str = Field(foreign_key="asset.id", index=True, ondelete="CASCADE", max_length=32)
    language: str = Field(max_length=35)  # a BCP 47 tag: nl, en, fr, nl-BE
    label: str = Field(max_length=100)  # what the player's menu shows
    kind: str = Field(default="subtitles", sa_type=String(16))  # or "captions"
    source_format: str = Field(sa_type=String(8))  # vtt or srt, as uploaded
    vtt: str = Field(sa_type=Text)
    cue_count: int
    sha256: str = Field(max_length=64)
    created_by: str | None = Field(
        default=None, foreign_key="user.id", ondelete="SET NULL", max_length=32
    )
    created_at: datetime = Field(default_factory=now, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=now, sa_type=UTCDateTime)
