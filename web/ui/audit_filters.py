"""The audit log page's filters, read from the query string: action, actor (by e-mail),
subject id, a date range (whole days in the team's time zone) and the page position.

Pure: parameters in, a filter with its problems per field (message ids) out; the route
resolves the actor's e-mail to an id.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from web.ui.labels import N_

PAGE_SIZE = 50
FIELDS = ("action", "actor", "subject", "since", "until")


@dataclass(frozen=True)
class AuditFilter:
    action: str = ""
    actor: str = ""  # an e-mail address
    subject: str = ""
    since: date | None = None
    until: date | None = None  # inclusive
    before: int | None = None  # entries with a lower sequence number (older)
    values: dict[str, str] = field(default_factory=dict)  # as typed, to show again
    errors: dict[str, str] = field(default_factory=dict)

    def since_moment(self, zone: str) -> datetime | None:
        """The start of the first day, local time."""
        return datetime.combine(self.since, time(), ZoneInfo(zone)) if self.since else None

    def until_moment(self, zone: str) -> datetime | None:
        """The end of the last day: the next local midnight (exclusive)."""
        if self.until is None:
            return None
        return datetime.combine(self.until + timedelta(days=1), time(), ZoneInfo(zone))

    def url(self, path: str, *, before: int | None = None) -> str:
        """This filter's page, optionally further back."""
        params = {k: v for k, v in self.values.items() if v}
        if before is not None:
            params["before"] = str(before)
        return f"{path}?{urlencode(params)}" if params else path

    @property
    def active(self) -> bool:
        return any(self.values.get(k) for k in FIELDS)


def _day(raw: str) -> date | None:
    try:
        return date.fromisoformat(raw)
    except ValueError:
        return None


def parse(params: Mapping[str, str]) -> AuditFilter:
    """The filter the query string asks for; problems are named per field."""
    values = {k: " ".join(str(params.get(k, "")).split())[:320] for k in FIELDS}
    errors: dict[str, str] = {}
    since = _day(values["since"]) if values["since"] else None
    if values["since"] and since is None:
        errors["since"] = N_("Give a date such as 2026-03-01.")
    until = _day(values["until"]) if values["until"] else None
    if values["until"] and until is None:
        errors["until"] = N_("Give a date such as 2026-03-31.")
    if since and until and until < since:
        errors["until"] = N_("The end date comes before the start date.")
    if len(values["subject"]) > 32:
        errors["subject"] = N_("An id has at most 32 characters.")
    raw_before = str(params.get("before", ""))
    before = int(raw_before) if raw_before.isdigit() and len(raw_before) <= 18 else None
    return AuditFilter(
        action=values["action"][:64],
        actor=values["actor"].lower(),
        subject=values["subject"],
        since=since,
        until=until,
        before=before,
        values=values,
        errors=errors,
    )
