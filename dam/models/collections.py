"""Collections: named, described sets of assets that creatives hand to colleagues."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from dam.clock import now
from dam.db import UTCDateTime
from dam.ids import new_id


class Collection(SQLModel, table=True):
    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    title: str = Field(max_length=200, index=True)
    description: str = Field(default="", max_length=5_000)
    owner_id: str | None = Field(
        default=None, foreign_key="user.id", index=True, ondelete="SET NULL", max_length=32
    )
    created_at: datetime = Field(default_factory=now, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=now, sa_type=UTCDateTime, index=True)


class CollectionAsset(SQLModel, table=True):
    """Membership; deleting an asset or a collection removes its rows (ON DELETE CASCADE)."""

    __tablename__ = "collection_asset"

    collection_id: str = Field(
        foreign_key="collection.id", primary_key=True, ondelete="CASCADE", max_length=32
    )
    asset_id: str = Field(
        foreign_key="asset.id", primary_key=True, index=True, ondelete="CASCADE", max_length=32
    )
    added_at: datetime = Field(default_factory=now, sa_type=UTCDateTime)
