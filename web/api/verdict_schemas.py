"""An asset's verdicts as API.md shows them (shared by the API's routes and the UI)."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from dam.auth import has_permission
from dam.models import User
from dam.settings import Settings
from gdpr.judgement import verdicts
from gdpr.judgement.verdict import Reason
from gdpr.judgement.verdict_text import describe
from gdpr.publishing import egress


def verdict_public(
    session: Session, asset_id: str, *, settings: Settings, user: User, lang: str
) -> dict[str, Any]:
    """{channel: {"status", "reasons": [{"code", "message", ...}], "next_change_at"}}.

    Names appear in the messages only for roles that may read people."""
    rows = verdicts.stored(session, asset_id)
    show_names = has_permission(user, "people.read")
    person_ids = {r.get("person_id") for row in rows.values() for r in row.reasons}
    names = egress.names_of(session, [p for p in person_ids if p]) if show_names else {}
    out: dict[str, Any] = {}
    for channel in settings.channel_list:
        row = rows.get(channel)
        if row is None:
            continue
        out[channel] = {
            "status": row.status,
            "reasons": [
                {
                    **data,
                    "message": describe(
                        Reason.from_json(data),
                        channel=channel,
                        lang=lang,
                        names=names,
                        zone=settings.default_timezone,
                    ),
                }
                for data in row.reasons
            ],
            "next_change_at": row.next_change_at,
        }
    return out
