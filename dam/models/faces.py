"""People, the faces found in assets, and (in tables of their own) face embeddings and the
paths of video face tracks."""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Index, LargeBinary, String, event
from sqlmodel import Field, SQLModel

from dam.clock import now
from dam.db import UTCDateTime
from dam.ids import new_id


class FaceState(StrEnum):
    unknown = "unknown"  # nobody said who this is, and no known person matched
    suggested = "suggested"  # matched a known person automatically; a person must confirm
    confirmed = "confirmed"  # a person said who this is
    dismissed = "dismissed"  # a person said it is no face, or no one recognisable


NAME_KEY_MAX = 250
_NOT_IN_WORDS = re.compile(r"[\W_]+")


def name_key(name: str) -> str:
    """A name as people type it when they search: lower case, without accents, words
    apart ("Gaëlle D'Hondt-Peeters" -> "gaelle d hondt peeters"), so that "gael" and
    "hondt" find her."""
    decomposed = unicodedata.normalize("NFKD", name)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()
    return " ".join(w for w in _NOT_IN_WORDS.split(plain) if w)[:NAME_KEY_MAX]


def _name_key_default(context: Any) -> str:
    # Rows inserted without the ORM (bulk inserts) get their key from their name too.
    return name_key(str(context.get_current_parameters().get("name") or ""))


class Person(SQLModel, table=True):
    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    name: str = Field(max_length=200)
    # `name_key(name)`, kept with the name (below): people are found by it, through its
    # index, without reading everyone (gdpr/recognition/people_search.py).
    name_key: str = Field(
        default="", max_length=NAME_KEY_MAX, sa_column_kwargs={"default": _name_key_default}
    )
    email: str | None = Field(default=None, max_length=320)
    notes: str = Field(default="", max_length=5000)
    is_minor: bool = False
    # Not findable by name in search for roles below privacy officer.
    hidden: bool = False
    created_at: datetime = Field(default_factory=now, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=now, sa_type=UTCDateTime)

    # Matches are listed by name, then id: both in the index, so a page needs no sort.
    __table_args__ = (Index("ix_person_name_key", "name_key", "id"),)


@event.listens_for(Person, "before_insert")
@event.listens_for(Person, "before_update")
def _keep_name_key(_mapper: Any, _connection: Any, person: Person) -> None:
    person.name_key = name_key(person.name)


class Face(SQLModel, table=True):
    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    asset_id: str = Field(foreign_key="asset.id", index=True, ondelete="CASCADE", max_length=32)
    # Box relative to the upright image (EXIF orientation applied), 0..1.
    box_x: float
    box_y: float
    box_w: float
    box_h: float
    # Videos: a face is a track, seen from time_s to time_end_s in `frames` sampled frames
    # (the box, score and crop are those of its best frame).
    time_s: float | None = None
    time_end_s: float | None = None
    frames: int | None = None
    score: float
    detector: str = Field(max_length=64)
    state: FaceState = Field(default=FaceState.unknown, sa_type=String(16), index=True)
    person_id: str | None = Field(
        default=None, foreign_key="person.id", index=True, ondelete="SET NULL", max_length=32
    )
    distance: float | None = None  # of a suggestion: embedding distance to the person
    dismiss_reason: str | None = Field(default=None, max_length=200)
    # Unknown faces that look alike share a cluster id (the id of one of its faces).
    cluster_id: str | None = Field(default=None, index=True, max_length=32)
    # After "this is not X" the face is never suggested as X again.
    not_person_id: str | None = Field(default=None, max_length=32)
    crop_path: str | None = Field(default=None, max_length=500)
    decided_by: str | None = Field(default=None, max_length=32)  # user id
    decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=now, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=now, sa_type=UTCDateTime)


class FaceEmbedding(SQLModel, table=True):
    """Biometric data (GDPR art. 9): sealed with AES-GCM (dam/biometrics.py), kept apart."""

    __tablename__ = "face_embedding"

    face_id: str = Field(foreign_key="face.id", primary_key=True, ondelete="CASCADE", max_length=32)
    model: str = Field(max_length=64)
    key_id: str = Field(max_length=16)
    sealed: bytes = Field(sa_type=LargeBinary)
    created_at: datetime = Field(default_factory=now, sa_type=UTCDateTime)


class FacePath(SQLModel, table=True):
    """Where a video face track was in each sampled frame (dam/face_paths.py packs it), so
    that a redacted video blurs the face wherever it moves."""

    __tablename__ = "face_path"

    face_id: str = Field(foreign_key="face.id", primary_key=True, ondelete="CASCADE", max_length=32)
    samples: bytes = Field(sa_type=LargeBinary)
