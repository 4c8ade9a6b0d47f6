"""The tables that keep the index following the database across processes and machines."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from dam.clock import now
from dam.db import UTCDateTime


class SearchDirty(SQLModel, table=True):
    """An asset whose search document must be rebuilt (or removed, when the asset is gone).

    Any process marks; the elected writer drains. No foreign key: a deleted asset stays
    marked until its document has left the index.
    """

    __tablename__ = "search_dirty"

    asset_id: str = Field(primary_key=True, max_length=32)
    # Bumped by every mark. The writer removes a row only if it still holds the number
    # it read, so a change committed while a batch was being indexed is not lost.
    seq: int = Field(default=1)
    marked_at: datetime = Field(default_factory=now, sa_type=UTCDateTime, index=True)


class SearchLease(SQLModel, table=True):
    """Which process may write the index, until when (renewed while it lives)."""

    __tablename__ = "search_lease"

    name: str = Field(primary_key=True, max_length=64)
    holder: str = Field(max_length=200)
    expires_at: datetime = Field(sa_type=UTCDateTime)
