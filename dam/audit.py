"""Append to and verify the hash-chained audit log."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import text
from sqlmodel import Session, select

from dam.clock import now
from dam.models import AuditEntry

GENESIS = "0" * 64


def entry_hash(
    *,
    seq: int,
    at: datetime,
    actor_id: str | None,
    action: str,
    subject_type: str | None,
    subject_id: str | None,
    details: dict[str, Any],
    prev_hash: str,
) -> str:
    """The hash of one entry over its canonical JSON form, chained to the previous hash."""
    body = json.dumps(
        {
            "seq": seq,
            "at": at.astimezone(UTC).isoformat(),
            "actor": actor_id,
            "action": action,
            "subject": [subject_type, subject_id],
            "details": details,
            "prev": prev_hash,
        },
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256(body.encode()).hexdigest()


def record(
    session: Session,
    *,
    action: str,
    actor_id: str | None = None,
    subject_type: str | None = None,
    subject_id: str | None = None,
    details: dict[str, Any] | None = None,
) -> AuditEntry:
    """Append one entry in the caller's transaction (so it commits with the action)."""
    # Updating the head row first takes its lock (a row lock on PostgreSQL, the write
    # lock on SQLite), so concurrent appends queue up instead of forking the chain.
    seq, prev = session.execute(
        text("UPDATE audit_head SET seq = seq + 1 WHERE id = 1 RETURNING seq, last_hash")
    ).one()
    at = now()
    details = details or {}
    digest = entry_hash(
        seq=seq,
        at=at,
        actor_id=actor_id,
        action=action,
        subject_type=subject_type,
        subject_id=subject_id,
        details=details,
        prev_hash=prev,
    )
    entry = AuditEntry(
        seq=seq,
        at=at,
        actor_id=actor_id,
        action=action,
        subject_type=subject_type,
        subject_id=subject_id,
        details=details,
        prev_hash=prev,
        hash=digest,
    )
    session.add(entry)
    session.execute(text("UPDATE audit_head SET last_hash = :h WHERE id = 1"), {"h": digest})
    return entry


def list_entries(
    session: Session,
    *,
    action: str | None = None,
    actor_id: str | None = None,
    subject_id: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    before_seq: int | None = None,
    limit: int = 100,
) -> list[AuditEntry]:
    """Entries newest first, filtered; page backwards with `before_seq`."""
    query = select(AuditEntry)
    if action:
        query = query.where(AuditEntry.action == action)
    if actor_id:
        query = query.where(AuditEntry.actor_id == actor_id)
    if subject_id:
        query = query.where(AuditEntry.subject_id == subject_id)
    if since:
        query = query.where(AuditEntry.at >= since)
    if until:
        query = query.where(AuditEntry.at < until)
    if before_seq:
        query = query.where(AuditEntry.seq < before_seq)
    order = AuditEntry.seq.desc()  # type: ignore[attr-defined]
    return list(session.exec(query.order_by(order).limit(limit)))


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    entries: int
    first_bad: int | None


def verify(session: Session) -> VerifyResult:
    """Recompute the whole chain; report the first entry whose hash or link is wrong."""
    prev = GENESIS
    count = 0
    expected_seq = 1
    rows = session.exec(select(AuditEntry).order_by(AuditEntry.seq)).yield_per(1000)  # type: ignore[arg-type]
    for entry in rows:
        count += 1
        recomputed = entry_hash(
            seq=entry.seq,
            at=entry.at,
            actor_id=entry.actor_id,
            action=entry.action,
            subject_type=entry.subject_type,
            subject_id=entry.subject_id,
            details=entry.details,
            prev_hash=entry.prev_hash,
        )
        if entry.seq != expected_seq or entry.prev_hash != prev or recomputed != entry.hash:
            return VerifyResult(ok=False, entries=count, first_bad=entry.seq)
        prev = entry.hash
        expected_seq += 1
    head = session.execute(text("SELECT seq, last_hash FROM audit_head WHERE id = 1")).one()
    if head.seq != count or head.last_hash != prev:
        # Entries were deleted from the end: the head remembers how long the chain was.
        return VerifyResult(ok=False, entries=count, first_bad=count + 1)
    return VerifyResult(ok=True, entries=count, first_bad=None)
