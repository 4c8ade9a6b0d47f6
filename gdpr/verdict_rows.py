"""Writing the verdict cache in bulk.

Re-judging a library writes one `asset_verdict` row per asset, but assets with the same
facts share the same verdicts: each distinct set of verdicts is encoded once (JSON, dates,
through the columns' own bind processors, so the stored form is what the ORM writes), and
every asset's row is then written by the driver in one pass: an `executemany` upsert on
SQLite, one `unnest()` upsert per batch on PostgreSQL. Going through SQLAlchemy's
per-row parameter processing instead cost more than judging (measured with
bench/withdrawal.py).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Column
from sqlalchemy.engine import Connection, Dialect

from dam.models import AssetVerdict, VerdictStatus
from gdpr.verdict import Verdict, worst

TABLE = AssetVerdict.__table__  # type: ignore[attr-defined]

# A row's values after asset_id and computed_at, bound for the database:
# channels (JSON text), status, cleared_for, next_change_at.
Encoded = tuple[str, str, str, Any]


def row_values(verdicts: Sequence[Verdict]) -> dict[str, Any]:
    """An asset's row (without id and computed_at) as the ORM sees it."""
    upcoming = [v.next_change_at for v in verdicts if v.next_change_at is not None]
    cleared = [v.channel for v in verdicts if v.status == VerdictStatus.cleared]
    return {
        "channels": {
            v.channel: {"status": v.status.value, "reasons": [r.as_json() for r in v.reasons]}
            for v in verdicts
        },
        "status": worst([v.status for v in verdicts]).value,
        "cleared_for": f",{','.join(cleared)}," if cleared else "",
        "next_change_at": min(upcoming) if upcoming else None,
    }


class RowWriter:
    """Encodes verdict rows for one connection's database and writes them in bulk."""

    def __init__(self, dialect: Dialect) -> None:
        self.dialect = dialect
        # The text the JSON column's bind processor would make (on PostgreSQL it would
        # wrap the value for the driver to encode per row instead).
        self._json = getattr(dialect, "_json_serializer", None) or json.dumps
        self._moment = _bind(TABLE.c.next_change_at, dialect)

    def encode(self, verdicts: Sequence[Verdict]) -> Encoded:
        values = row_values(verdicts)
        return (
            self._json(values["channels"]),
            values["status"],
            values["cleared_for"],
            self._moment(values["next_change_at"]),
        )

    def write(
        self, connection: Connection, rows: Sequence[tuple[str, Encoded]], computed_at: datetime
    ) -> None:
        """Replace the rows of these assets (they exist: the caller just read them)."""
        if not rows:
            return
        moment = self._moment(computed_at)
        if self.dialect.name == "postgresql":
            arrays = [list(column) for column in zip(*((a, *v) for a, v in rows), strict=True)]
            connection.exec_driver_sql(_PG_UPSERT, (moment, *arrays))
        else:
            connection.exec_driver_sql(
                _SQLITE_UPSERT, [(asset_id, moment, *values) for asset_id, values in rows]
            )


def _bind(column: Column[Any], dialect: Dialect) -> Any:
    process = column.type.dialect_impl(dialect).bind_processor(dialect)
    return process if process is not None else (lambda value: value)


_SQLITE_UPSERT = """
INSERT INTO asset_verdict (asset_id, computed_at, channels, status, cleared_for, next_change_at)
VALUES (?, ?, ?, ?, ?, ?)
ON CONFLICT (asset_id) DO UPDATE SET
    computed_at = excluded.computed_at, channels = excluded.channels, status = excluded.status,
    cleared_for = excluded.cleared_for, next_change_at = excluded.next_change_at
"""

# One statement per batch: the columns travel as arrays, the server unpacks them.
_PG_UPSERT = """
INSERT INTO asset_verdict (asset_id, computed_at, channels, status, cleared_for, next_change_at)
SELECT a, %s::timestamptz, c::json, s, f, n
FROM unnest(%b::text[], %b::text[], %b::text[], %b::text[], %b::timestamptz[]) AS u(a, c, s, f, n)
ON CONFLICT (asset_id) DO UPDATE SET
    computed_at = excluded.computed_at, channels = excluded.channels, status = excluded.status,
    cleared_for = excluded.cleared_for, next_change_at = excluded.next_change_at
"""
