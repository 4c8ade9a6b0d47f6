"""Writing the verdict cache in bulk: verdict sets (one per distinct set of facts) and the
links saying which set each asset has.

Values are encoded once per set (JSON, dates through the columns' own bind processing,
so the stored form is what the ORM writes) and written by the driver in one pass: an
`executemany` upsert on SQLite, one `unnest()` upsert per batch on PostgreSQL, with the
arrays sent in binary (psycopg escapes text-format arrays element by element in Python).
SQLAlchemy's per-row parameter processing cost more than the judging (measured with
bench/withdrawal.py).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection, Dialect

from dam.chunks import chunks
from dam.db import among, driver_value
from dam.models import AssetVerdict, VerdictSet, VerdictStatus
from gdpr.judgement.verdict import Verdict, worst
from gdpr.judgement.verdict_facts import Facts

SETS = VerdictSet.__table__  # type: ignore[attr-defined]
LINKS = AssetVerdict.__table__  # type: ignore[attr-defined]


def row_values(verdicts: Sequence[Verdict]) -> dict[str, Any]:
    """A verdict set's values (without id, facts and computed_at) as the ORM sees them."""
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


@dataclass(frozen=True)
class EncodedSet:
    id: str
    channels: dict[str, Any]  # as judged, to compare with what is stored
    next_change_at: datetime | None
    values: tuple[Any, ...]  # id, facts, channels, status, cleared_for, next_change_at: bound


class RowWriter:
    """Encodes verdict sets for one connection's database and writes sets and links."""

    def __init__(self, dialect: Dialect) -> None:
        self.dialect = dialect
        self._postgres = dialect.name == "postgresql"
        # The text the JSON columns' bind processing would make (on PostgreSQL it would
        # wrap the value for the driver to encode per row instead).
        self._json = getattr(dialect, "_json_serializer", None) or json.dumps
        self._moment = driver_value(SETS.c.next_change_at, dialect)

    def encode(
        self, facts: Facts, verdicts: Sequence[Verdict], set_id: str | None = None
    ) -> EncodedSet:
        """A verdict set's row: under the facts' digest unless `set_id` says otherwise."""
        values = row_values(verdicts)
        set_id = set_id or facts.id
        return EncodedSet(
            id=set_id,
            channels=values["channels"],
            next_change_at=values["next_change_at"],
            values=(
                set_id,
                self._json(facts.as_json()),
                self._json(values["channels"]),
                values["status"],
                values["cleared_for"],
                self._moment(values["next_change_at"]),
            ),
        )

    def write_sets(
        self, connection: Connection, sets: Sequence[EncodedSet], computed_at: datetime
    ) -> set[str]:
        """Store these verdict sets where they are new or differ from what is stored (a
        set many assets share is judged again by every change to one of them: rewriting
        it unchanged would only make writers wait on each other). Returns the ids of the
        sets whose verdicts changed (or are new), whose assets search must hear of."""
        if not sets:
            return set()
        stored: dict[str, tuple[Any, Any]] = {}
        for chunk in chunks([s.id for s in sets], 2000):
            for set_id, channels, next_change_at in connection.execute(
                select(SETS.c.id, SETS.c.channels, SETS.c.next_change_at).where(
                    among(SETS.c.id, chunk, connection)
                )
            ):
                stored[set_id] = (channels, next_change_at)
        new = [s for s in sets if stored.get(s.id) != (s.channels, s.next_change_at)]
        if new:
            moment = self._moment(computed_at)
            if self._postgres:
                arrays = [list(column) for column in zip(*(s.values for s in new), strict=True)]
                connection.exec_driver_sql(_PG_SETS, (moment, *arrays))
            else:
                connection.exec_driver_sql(_SQLITE_SETS, [(*s.values, moment) for s in new])
        return {s.id for s in new if s.id not in stored or stored[s.id][0] != s.channels}

    def write_links(
        self, connection: Connection, links: Sequence[tuple[str, str]], computed_at: datetime
    ) -> None:
        """Point these assets (asset id, verdict set id) at their sets (they exist: the
        caller just read them, and wrote the sets)."""
        if not links:
            return
        moment = self._moment(computed_at)
        if self._postgres:
            ids, sets = (list(column) for column in zip(*links, strict=True))
            connection.exec_driver_sql(_PG_LINKS, (moment, ids, sets))
        else:
            connection.exec_driver_sql(_SQLITE_LINKS, [(*link, moment) for link in links])


def assets_with(connection: Connection, set_ids: Sequence[str]) -> list[str]:
    """The assets that have any of these verdict sets."""
    found: list[str] = []
    for chunk in chunks(list(set_ids), 2000):
        found.extend(
            connection.execute(
                select(LINKS.c.asset_id).where(among(LINKS.c.verdict_id, chunk, connection))
            ).scalars()
        )
    return found


_SQLITE_SETS = """
INSERT INTO verdict_set
    (id, facts, channels, status, cleared_for, next_change_at, computed_at)
VALUES (?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (id) DO UPDATE SET
    channels = excluded.channels, status = excluded.status,
    cleared_for = excluded.cleared_for, next_change_at = excluded.next_change_at,
    computed_at = excluded.computed_at
"""

# One statement per batch: the columns travel as arrays, the server unpacks them.
_PG_SETS = """
INSERT INTO verdict_set
    (computed_at, id, facts, channels, status, cleared_for, next_change_at)
SELECT %s::timestamptz, i, f::json, c::json, s, cf, n
FROM unnest(%b::text[], %b::text[], %b::text[], %b::text[], %b::text[], %b::timestamptz[])
    AS u(i, f, c, s, cf, n)
ON CONFLICT (id) DO UPDATE SET
    channels = excluded.channels, status = excluded.status,
    cleared_for = excluded.cleared_for, next_change_at = excluded.next_change_at,
    computed_at = excluded.computed_at
"""

_SQLITE_LINKS = """
INSERT INTO asset_verdict (asset_id, verdict_id, computed_at) VALUES (?, ?, ?)
ON CONFLICT (asset_id) DO UPDATE SET
    verdict_id = excluded.verdict_id, computed_at = excluded.computed_at
"""

_PG_LINKS = """
INSERT INTO asset_verdict (computed_at, asset_id, verdict_id)
SELECT %s::timestamptz, a, v FROM unnest(%b::text[], %b::text[]) AS u(a, v)
ON CONFLICT (asset_id) DO UPDATE SET
    verdict_id = excluded.verdict_id, computed_at = excluded.computed_at
"""
