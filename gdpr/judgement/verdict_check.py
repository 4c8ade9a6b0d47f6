"""`dam check --verdicts`: every asset's stored verdicts against a fresh judgement."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlmodel import Session

from dam import clock
from dam.changes import FEED
from dam.db import among
from dam.models import Asset
from gdpr.judgement import verdicts
from gdpr.judgement.verdict_rows import LINKS, SETS, row_values

if TYPE_CHECKING:
    from dam.runtime import Runtime

_ASSET = Asset.__table__  # type: ignore[attr-defined]


@dataclass
class VerdictReport:
    checked: int = 0
    stale: list[str] = field(default_factory=list)  # stored verdicts differ from a fresh one
    unjudged: list[str] = field(default_factory=list)  # no stored verdict at all
    pending: int = 0  # change feed rows waiting for a drain (not a fault unless they stay)

    @property
    def problems(self) -> list[str]:
        return [f"asset {a} has a stale verdict" for a in self.stale] + [
            f"asset {a} has no verdict" for a in self.unjudged
        ]


def check_verdicts(
    runtime: Runtime, *, at: datetime | None = None, batch: int = 2000
) -> VerdictReport:
    """Judge every asset afresh and compare with what the cache holds (channels, reasons,
    worst status, cleared channels and next change), a batch per transaction."""
    settings = runtime.settings
    moment = at or clock.now()
    report = VerdictReport()
    after = ""
    while True:
        with runtime.session() as session:
            connection = session.connection()
            if not after:
                report.pending = len(connection.execute(select(FEED.c.id)).all())
            ids = list(
                connection.execute(
                    select(_ASSET.c.id)
                    .where(_ASSET.c.id > after)
                    .order_by(_ASSET.c.id)
                    .limit(batch)
                ).scalars()
            )
            if not ids:
                return report
            fresh = verdicts.compute(session, ids, settings=settings, at=moment)
            stored = _stored(session, ids)
        for asset_id in ids:
            report.checked += 1
            if asset_id not in stored:
                report.unjudged.append(asset_id)
            elif asset_id in fresh and stored[asset_id] != _comparable(row_values(fresh[asset_id])):
                report.stale.append(asset_id)
        after = ids[-1]


def _stored(session: Session, ids: list[str]) -> dict[str, dict[str, Any]]:
    connection = session.connection()
    rows = connection.execute(
        select(
            LINKS.c.asset_id,
            SETS.c.channels,
            SETS.c.status,
            SETS.c.cleared_for,
            SETS.c.next_change_at,
        )
        .join(SETS, SETS.c.id == LINKS.c.verdict_id)
        .where(among(LINKS.c.asset_id, ids, connection))
    ).all()
    return {
        row.asset_id: _comparable(
            {
                "channels": row.channels,
                "status": row.status,
                "cleared_for": row.cleared_for,
                "next_change_at": row.next_change_at,
            }
        )
        for row in rows
    }


def _comparable(values: dict[str, Any]) -> dict[str, Any]:
    # Moments as UTC instants: SQLite hands them back without their zone.
    moment = values["next_change_at"]
    return {**values, "next_change_at": moment.timestamp() if moment is not None else None}
