"""Resumable (tus) uploads in progress."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Column
from sqlmodel import Field, SQLModel

from dam.clock import now
from dam.db import UTCDateTime
from dam.ids import new_id


class Upload(SQLModel, table=True):
    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    user_id: str = Field(foreign_key="user.id", index=True, ondelete="CASCADE")
    length: int = Field(sa_type=BigInteger)
    offset: int = Field(default=0, sa_type=BigInteger)
    upload_metadata: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))
    asset_id: str | None = Field(default=None, max_length=32)
    created_at: datetime = Field(default_factory=now, sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime, index=True)


class ImportedFile(SQLModel, table=True):
    """What `dam import` took from where, so an interrupted import resumes without re-reading."""

    __tablename__ = "imported_file"

    path: str = Field(primary_key=True, max_length=1024)
    size: int = Field(sa_type=BigInteger)
    mtime_ns: int = Field(sa_type=BigInteger)
    sha256: str = Field(max_length=64)
    asset_id: str = Field(max_length=32)
    imported_at: datetime = Field(default_factory=now, sa_type=UTCDateTime)
    # The web import (`import_run`) that took it, and whether it became a new asset
    # ("imported") or matched one ("duplicate"): a run taken over after a kill counts
    # what it did itself before the kill as its own. None for `dam import` and older rows.
    run_id: str | None = Field(default=None, max_length=32)
    outcome: str | None = Field(default=None, max_length=16)


class ImportRun(SQLModel, table=True):
    """An import an administrator started from the web UI: what, how far, the outcome."""

    __tablename__ = "import_run"

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    folder: str = Field(max_length=1024)  # absolute, inside one of DAM_IMPORT_ROOTS
    options: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))
    status: str = Field(default="queued", max_length=16)  # queued, running, done, failed
    total: int = 0
    done: int = 0
    counts: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))
    report_path: str | None = Field(default=None, max_length=1024)
    error: str | None = None  # a message for people (English)
    # The error as a message id with its values (dam/messages.py).
    error_message: dict[str, Any] | None = Field(
        default=None, sa_column=Column(JSON(none_as_null=True))
    )
    # The job that runs it (ingest.import_runs); its row holds the run's live state.
    # Empty for runs from before imports were jobs.
    job_id: str | None = Field(default=None, max_length=32)
    started_by: str | None = Field(
        default=None, foreign_key="user.id", ondelete="SET NULL", max_length=32
    )
    created_at: datetime = Field(default_factory=now, sa_type=UTCDateTime, index=True)
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
