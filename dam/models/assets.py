"""Assets (one per stored original), their tags and their derived renditions."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, Index, String, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from dam.clock import now
from dam.db import UTCDateTime
from dam.ids import new_id


class AssetKind(StrEnum):
    image = "image"
    video = "video"
    # Only consent evidence (a signed form as PDF): stored, never processed or listed.
    document = "document"


class LicenceStatus(StrEnum):
    """Whether Beeldbank may assume the right to publish: the team's own work, a licence
    (stock, agency, a photographer's agreement) or nobody said yet. External channels need
    a known one (DESIGN.md, "Licences")."""

    own = "own"
    licensed = "licensed"
    unknown = "unknown"


class AssetStatus(StrEnum):
    processing = "processing"
    ready = "ready"
    failed = "failed"


# Identical library content is stored once and answered as a duplicate; consent evidence
# is outside that key in both directions (issue 12: an upload must not confirm that a file
# is someone's signed form, and linking a form must not touch a library photo).
LIBRARY_ONLY = text("NOT is_evidence")


class Asset(SQLModel, table=True):
    __table_args__ = (
        Index(
            "ux_asset_library_sha256",
            "sha256",
            unique=True,
            sqlite_where=LIBRARY_ONLY,
            postgresql_where=LIBRARY_ONLY,
        ),
    )

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    kind: AssetKind = Field(sa_type=String(16), index=True)
    status: AssetStatus = Field(default=AssetStatus.processing, sa_type=String(16), index=True)
    # Why processing failed: the English text, and the message id with its values that
    # pages and the API show in the reader's language (dam/messages.py).
    error: str | None = None
    error_message: dict[str, Any] | None = Field(
        default=None, sa_column=Column(JSON(none_as_null=True))
    )
    filename: str = Field(max_length=255)
    mime: str = Field(max_length=100)
    size: int = Field(sa_type=BigInteger)
    # Several assets may share one stored original (a library photo and a form with the
    # same bytes); the original is removed with the last of them (dam.assets).
    sha256: str = Field(index=True, max_length=64)
    width: int | None = None
    height: int | None = None
    duration_s: float | None = None
    taken_at: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)
    # Minutes east of UTC the capture time was recorded in, when the file said so.
    taken_at_offset_min: int | None = None
    title: str = Field(default="", max_length=500)
    description: str = ""
    alt_text: str = ""
    meta: dict[str, Any] = Field(default_factory=dict, sa_column=Column("metadata", JSON))
    licence: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))
    # Own work, licensed or unknown; the details (terms, credit, source) live in `licence`.
    licence_status: LicenceStatus = Field(
        default=LicenceStatus.unknown,
        sa_type=String(16),
        sa_column_kwargs={"server_default": LicenceStatus.unknown.value},
        index=True,
    )
    # Not to be published before this moment (any channel).
    embargo_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # A person said the picture shows people the detector missed: never `cleared`.
    undetected_people: bool = False
    # Consent evidence (a scanned form): only privacy officers may see or open it.
    restricted: bool = Field(default=False, index=True)
    # Consent evidence is not a library asset: uploaded through a consent, never
    # processed, listed, searched or deduplicated, removed with its consent's history.
    # Always restricted as well.
    is_evidence: bool = False
    # When face detection last finished for this asset (None: not (yet) looked at).
    faces_checked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    blurhash: str | None = Field(default=None, max_length=64)
    phash: str | None = Field(default=None, max_length=16)
    # The 64-bit perceptual hash in four 16-bit bands: two hashes within 3 bits of each
    # other share at least one band, so similar-image candidates come from an index.
    phash_b0: int | None = Field(default=None, index=True)
    phash_b1: int | None = Field(default=None, index=True)
    phash_b2: int | None = Field(default=None, index=True)
    phash_b3: int | None = Field(default=None, index=True)
    owner_id: str | None = Field(
        default=None, foreign_key="user.id", index=True, ondelete="SET NULL", max_length=32
    )
    created_at: datetime = Field(default_factory=now, sa_type=UTCDateTime, index=True)
    updated_at: datetime = Field(default_factory=now, sa_type=UTCDateTime)


class AssetTag(SQLModel, table=True):
    __tablename__ = "asset_tag"

    asset_id: str = Field(foreign_key="asset.id", primary_key=True, ondelete="CASCADE")
    tag: str = Field(primary_key=True, max_length=100, index=True)


class Rendition(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("asset_id", "name"),)

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    asset_id: str = Field(foreign_key="asset.id", index=True, ondelete="CASCADE")
    name: str = Field(max_length=32)
    mime: str = Field(max_length=100)
    width: int
    height: int
    size: int = Field(sa_type=BigInteger)
    # Content hash, used as the ETag; the file lives at derived/<asset id>/<name>.<ext>.
    sha256: str = Field(max_length=64)
    path: str = Field(max_length=500)
    created_at: datetime = Field(default_factory=now, sa_type=UTCDateTime)
