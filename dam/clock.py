"""The one place Beeldbank reads the time, so tests can move it."""

from datetime import UTC, datetime


def now() -> datetime:
    """The current moment, timezone-aware UTC."""
    return datetime.now(UTC)
