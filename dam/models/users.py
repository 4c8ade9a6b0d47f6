"""Users, their roles and their API tokens."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import String
from sqlmodel import Field, SQLModel

from dam.clock import now
from dam.db import UTCDateTime
from dam.ids import new_id


class Role(StrEnum):
    """Roles in increasing order of power; each includes the ones before it."""

    viewer = "viewer"
    creative = "creative"
    privacy_officer = "privacy_officer"
    admin = "admin"

    @property
    def rank(self) -> int:
        return list(Role).index(self)

    def includes(self, other: Role) -> bool:
        return self.rank >= other.rank


class User(SQLModel, table=True):
    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    email: str = Field(unique=True, index=True, max_length=320)
    # Empty for accounts that only sign in through single sign-on: no password matches it.
    password_hash: str = Field(max_length=255)
    role: Role = Field(sa_type=String(32))
    is_active: bool = True
    locale: str | None = Field(default=None, max_length=8)
    # What this person's uploads start with (a team photographer: own work, with a credit)
    # unless the upload says otherwise; None: unknown.
    default_licence_status: str | None = Field(default=None, max_length=16)
    default_credit: str = Field(default="", max_length=500)
    created_at: datetime = Field(default_factory=now, sa_type=UTCDateTime)
    # Single sign-on: the identity provider's subject (`sub`) and the name it gives.
    oidc_subject: str | None = Field(default=None, unique=True, max_length=255)
    display_name: str | None = Field(default=None, max_length=200)
    # May log in with a password even when DAM_LOCAL_LOGIN=false (set from the CLI only).
    break_glass: bool = False


class ApiToken(SQLModel, table=True):
    __tablename__ = "api_token"

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    user_id: str = Field(foreign_key="user.id", index=True, ondelete="CASCADE", max_length=32)
    name: str = Field(default="", max_length=200)
    token_hash: str = Field(unique=True, max_length=64)
    created_at: datetime = Field(default_factory=now, sa_type=UTCDateTime)
    last_used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class OidcLogin(SQLModel, table=True):
    """A single sign-on that was started and not yet finished: used once, then deleted."""

    __tablename__ = "oidc_login"

    state: str = Field(primary_key=True, max_length=64)
    nonce: str = Field(max_length=64)
    code_verifier: str = Field(max_length=128)
    next_url: str = Field(default="/", max_length=2000)
    created_at: datetime = Field(default_factory=now, sa_type=UTCDateTime, index=True)
