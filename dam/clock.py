"""The one place Beeldbank reads the time, so tests can move it."""

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo


def now() -> datetime:
    """The current moment, timezone-aware UTC."""
    return datetime.now(UTC)


def today(zone: str) -> date:
    """Today's date in time zone `zone` (forms' default dates, "not before today")."""
    return now().astimezone(ZoneInfo(zone)).date()
