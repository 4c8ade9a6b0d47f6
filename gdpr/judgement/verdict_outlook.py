"""When an asset's verdict changes by itself, and to what: the cache knows the next moment
anything about it changes (a consent starting or ending, an embargo lifting), but not
whether that moment changes a channel's status. A block under a channel the consent does
not cover, or after a withdrawal, stays a block when the consent later ends; the asset
page must not promise otherwise. So the verdict is judged at that moment, and only the
channels whose status is different then are said to change."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from dam.models import VerdictStatus
from dam.settings import Settings
from gdpr.judgement import verdicts


@dataclass(frozen=True)
class Change:
    at: datetime
    status: VerdictStatus  # the channel's status from `at` on


def changes_by_itself(session: Session, asset_id: str, *, settings: Settings) -> dict[str, Change]:
    """{channel: Change} for the channels whose status will differ at the asset's next
    deadline; empty when nothing changes by itself."""
    now = verdicts.stored(session, asset_id)
    moment = next((v.next_change_at for v in now.values() if v.next_change_at), None)
    if moment is None:
        return {}
    later = verdicts.compute(session, [asset_id], settings=settings, at=moment).get(asset_id, [])
    return {
        v.channel: Change(moment, v.status)
        for v in later
        if v.channel in now and v.status != now[v.channel].status
    }
