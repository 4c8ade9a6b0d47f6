"""The append-only, hash-chained audit log."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Column
from sqlmodel import Field, SQLModel

from dam.db import UTCDateTime


class AuditEntry(SQLModel, table=True):
    __tablename__ = "audit_entry"

    seq: int = Field(primary_key=True, sa_type=BigInteger)
    at: datetime = Field(sa_type=UTCDateTime, index=True)
    actor_id: str | None = Field(default=None, max_length=32, index=True)
    action: str = Field(max_length=64, index=True)
    subject_type: str | None = Field(default=None, max_length=32)
    subject_id: str | None = Field(default=None, max_length=32, index=True)
    # Ids and facts only, never names: erasure must not have to rewrite the chain.
    details: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64)


class AuditHead(SQLModel, table=True):
    """A single row that serialises appends: whoever updates it owns the chain's end."""

    __tablename__ = "audit_head"

    id: int = Field(default=1, primary_key=True)
    seq: int = Field(default=0, sa_type=BigInteger)
    last_hash: str = Field(default="0" * 64, max_length=64)
