"""Jobs: the database record of every stage of work on an asset, and of the tasks outside
the pipelines (about an asset, a person, or neither: a ZIP download, an import)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, String
from sqlmodel import Field, SQLModel

from dam.clock import now
from dam.db import UTCDateTime
from dam.ids import new_id


class JobStatus(StrEnum):
    queued = "queued"
    running = "running"
    done = "done"
    failed = "failed"
    cancelled = "cancelled"


class Job(SQLModel, table=True):
    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    # Empty for a task about no asset: a person (`person_id`: an access export, an
    # erasure, a library-wide suggestion), a ZIP or an import (their `params` say which).
    asset_id: str | None = Field(
        default=None, foreign_key="asset.id", index=True, ondelete="CASCADE"
    )
    person_id: str | None = Field(default=None, index=True, max_length=32)
    stage: str = Field(max_length=64)
    status: JobStatus = Field(default=JobStatus.queued, sa_type=String(16), index=True)
    progress: float = 0.0
    error: str | None = None
    # The error as a message id with its values, shown in the reader's language
    # (dam/messages.py); `error` is its English text.
    error_message: dict[str, Any] | None = Field(
        default=None, sa_column=Column(JSON(none_as_null=True))
    )
    attempts: int = 0
    created_at: datetime = Field(default_factory=now, sa_type=UTCDateTime)
    started_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    heartbeat_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # Seconds spent in the stage's own work, for per-stage figures.
    duration_s: float | None = None
    # What a job outside the pipelines needs to know (a redacted video's channel, a ZIP's
    # batch, an import's run).
    params: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    # Who claimed it (dam.owner): a starting process takes over, at once, the running
    # jobs of owners on its host that are gone.
    owner_host: str | None = Field(default=None, max_length=64)
    owner_boot: str | None = Field(default=None, max_length=32)
    owner_pid: int | None = None
    owner_started: str | None = Field(default=None, max_length=32)
