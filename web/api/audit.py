"""/api/v1/audit: read and verify the audit log (privacy officers and admins)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel

from dam import audit
from dam.input_types import Moment
from dam.models import User
from web.deps import SessionDep, require

router = APIRouter(prefix="/audit", tags=["audit"])


class AuditEntryPublic(BaseModel):
    seq: int
    at: datetime
    actor_id: str | None
    action: str
    subject_type: str | None
    subject_id: str | None
    details: dict[str, Any]
    hash: str


class VerifyPublic(BaseModel):
    ok: bool
    entries: int
    first_bad: int | None


@router.get("", response_model=list[AuditEntryPublic])
def list_audit(
    session: SessionDep,
    user: User = Depends(require("audit.read")),
    action: str | None = None,
    actor_id: str | None = None,
    subject_id: str | None = None,
    since: Moment | None = None,
    until: Moment | None = None,
    before_seq: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[AuditEntryPublic]:
    entries = audit.list_entries(
        session,
        action=action,
        actor_id=actor_id,
        subject_id=subject_id,
        since=since,
        until=until,
        before_seq=before_seq,
        limit=limit,
    )
    return [AuditEntryPublic.model_validate(e, from_attributes=True) for e in entries]


@router.get("/verify", response_model=VerifyPublic)
def verify_audit(session: SessionDep, user: User = Depends(require("audit.read"))) -> VerifyPublic:
    result = audit.verify(session)
    return VerifyPublic(ok=result.ok, entries=result.entries, first_bad=result.first_bad)
