"""Electing the one process that writes the index: a lease row in the database.

Tantivy allows a single writer, and two Meilisearch writers could overwrite a newer
document with an older one. The holder renews its lease while it lives; when it dies the
lease runs out and another process takes over. `dam reindex` takes the lease over on
purpose; the previous holder notices at its next renewal and stops writing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import insert, or_, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from dam.clock import now
from search.models import SearchLease

TABLE = SearchLease.__table__  # type: ignore[attr-defined]
NAME = "search-writer"


@dataclass(frozen=True)
class LeaseHolder:
    holder: str
    expires_at: datetime


def acquire(engine: Engine, holder: str, ttl_s: float, *, take_over: bool = False) -> bool:
    """Take or renew the lease for `holder`; True when it holds it now."""
    moment = now()
    until = moment + timedelta(seconds=ttl_s)
    with engine.begin() as conn:
        statement = update(TABLE).where(TABLE.c.name == NAME)
        if not take_over:
            statement = statement.where(or_(TABLE.c.holder == holder, TABLE.c.expires_at < moment))
        result = conn.execute(statement.values(holder=holder, expires_at=until))
        if result.rowcount == 1:
            return True
    try:
        with engine.begin() as conn:
            conn.execute(insert(TABLE).values(name=NAME, holder=holder, expires_at=until))
        return True
    except IntegrityError:
        return False  # someone else holds it (or inserted it a moment ago)


def release(engine: Engine, holder: str) -> None:
    """Give the lease up so the next process need not wait for it to run out."""
    with engine.begin() as conn:
        conn.execute(
            update(TABLE)
            .where(TABLE.c.name == NAME, TABLE.c.holder == holder)
            .values(expires_at=now() - timedelta(seconds=1))
        )


def current(engine: Engine) -> LeaseHolder | None:
    with engine.begin() as conn:
        row = conn.execute(
            select(TABLE.c.holder, TABLE.c.expires_at).where(TABLE.c.name == NAME)
        ).first()
    if row is None or row[1] < now():
        return None
    return LeaseHolder(row[0], row[1])
