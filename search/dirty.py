"""The table of assets whose search documents are out of date: marking and draining."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import delete, func, literal, select, true, tuple_
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine

from dam.chunks import chunks
from dam.clock import now
from dam.db import UTCDateTime, driver_value
from dam.models import Asset
from search.models import SearchDirty

TABLE = SearchDirty.__table__  # type: ignore[attr-defined]

DirtyRow = tuple[str, int]  # (asset id, seq)


def mark(engine: Engine, asset_ids: Iterable[str]) -> None:
    """Mark assets dirty in one short transaction of their own (see mark_in)."""
    with engine.begin() as conn:
        mark_in(conn, asset_ids)


def mark_in(conn: Connection, asset_ids: Iterable[str]) -> None:
    """Mark assets dirty in the caller's transaction (re-marking bumps their seq).

    Written by the driver in one pass (an executemany on SQLite, one statement with the
    ids as an array on PostgreSQL): a re-judged library marks 100,000 assets at once, and
    SQLAlchemy's per-row parameter processing cost more than the writing (profiled)."""
    ids = sorted(set(asset_ids))
    if not ids:
        return
    moment = driver_value(TABLE.c.marked_at, conn.dialect)(now())
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql(_PG_MARK, (ids, moment))
    else:
        conn.exec_driver_sql(_SQLITE_MARK, [(asset_id, moment) for asset_id in ids])


_SQLITE_MARK = """
INSERT INTO search_dirty (asset_id, seq, marked_at) VALUES (?, 1, ?)
ON CONFLICT (asset_id) DO UPDATE SET seq = search_dirty.seq + 1, marked_at = excluded.marked_at
"""

_PG_MARK = """
INSERT INTO search_dirty (asset_id, seq, marked_at)
SELECT unnest(%b::text[]), 1, %s::timestamptz
ON CONFLICT (asset_id) DO UPDATE SET seq = search_dirty.seq + 1, marked_at = excluded.marked_at
"""


def mark_all(engine: Engine) -> int:
    """Mark every asset dirty (a new, empty index) in one statement; returns how many."""
    moment = now()
    with engine.begin() as conn:
        dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
        # WHERE true: SQLite cannot otherwise tell the upsert's ON from a join's.
        every_asset = select(Asset.id, literal(1), literal(moment, UTCDateTime())).where(true())  # type: ignore[call-overload]
        statement = dialect.insert(TABLE).from_select(["asset_id", "seq", "marked_at"], every_asset)
        statement = statement.on_conflict_do_update(
            index_elements=["asset_id"], set_={"seq": TABLE.c.seq + 1, "marked_at": moment}
        )
        conn.execute(statement)
        return int(conn.execute(select(func.count()).select_from(TABLE)).scalar_one())


def oldest(engine: Engine, limit: int) -> list[DirtyRow]:
    with engine.begin() as conn:
        rows = conn.execute(
            select(TABLE.c.asset_id, TABLE.c.seq)
            .order_by(TABLE.c.marked_at, TABLE.c.asset_id)
            .limit(limit)
        )
        return [(r[0], r[1]) for r in rows]


def remove(engine: Engine, rows: Sequence[DirtyRow]) -> None:
    """Forget rows that were indexed, unless they were marked again in the meantime."""
    if not rows:
        return
    with engine.begin() as conn:
        for chunk in chunks(rows):
            conn.execute(delete(TABLE).where(tuple_(TABLE.c.asset_id, TABLE.c.seq).in_(chunk)))


def still_dirty(engine: Engine, asset_ids: Sequence[str]) -> set[str]:
    return {asset_id for asset_id, _ in rows_of(engine, asset_ids)}


def rows_of(engine: Engine, asset_ids: Sequence[str]) -> list[DirtyRow]:
    """The marks of these assets, if any."""
    found: list[DirtyRow] = []
    if not asset_ids:
        return found
    with engine.begin() as conn:
        for chunk in chunks(list(asset_ids)):
            rows = conn.execute(
                select(TABLE.c.asset_id, TABLE.c.seq).where(TABLE.c.asset_id.in_(chunk))
            )
            found.extend((r[0], r[1]) for r in rows)
    return found


def backlog(engine: Engine) -> tuple[int, datetime | None]:
    """How many assets wait to be indexed, and since when the oldest waits."""
    with engine.begin() as conn:
        count, since = conn.execute(select(func.count(), func.min(TABLE.c.marked_at))).one()
    return int(count), since


def clear(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(delete(TABLE))
