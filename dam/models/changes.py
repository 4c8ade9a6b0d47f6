"""The change feed's outbox: what a transaction changed, written in that transaction."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Column, Integer
from sqlmodel import Field, SQLModel

from dam.clock import now
from dam.db import UTCDateTime


class ChangeRow(SQLModel, table=True):
    """One subject whose verdicts or search documents may be out of date.

    `kind` says what `subject_id` names: an asset whose facts changed, a person or a
    collection (whose assets the drainer finds), or an asset whose search document
    alone must be rebuilt. No foreign keys: a deleted asset's row must outlive it until
    its document has left the index. Rows are deleted by the drain that handled them.
    """

    __tablename__ = "change_feed"

    # BIGINT on PostgreSQL; SQLite autoincrements only an INTEGER PRIMARY KEY.
    id: int | None = Field(
        default=None,
        sa_column=Column(
            BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True
        ),
    )
    kind: str = Field(max_length=16)
    subject_id: str = Field(max_length=32)
    # 0: follow soon; 1: gone, out of search before the request returns; 2: erased, and
    # no older copy left in the index's files either.
    urgency: int = Field(default=0)
    recorded_at: datetime = Field(default_factory=now, sa_type=UTCDateTime)
