"""Which consent versions count, as SQL conditions on the Consent table: one definition
for every query that asks (state_of in gdpr.consent.consents says the same of one row in
Python). Dependency-free, so gdpr.consent.notifications can use it without importing
gdpr.consent.consents."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, and_, or_
from sqlmodel import col

from dam.models import Consent


def open_versions() -> ColumnElement[bool]:
    """Versions neither replaced nor withdrawn, whatever their dates: what a withdrawal
    can still act on."""
    return and_(col(Consent.superseded_at).is_(None), col(Consent.withdrawn_at).is_(None))


def not_ended(at: datetime) -> ColumnElement[bool]:
    """Versions in force at `at` or yet to start: not replaced, and neither withdrawn nor
    expired by `at`."""
    return and_(
        col(Consent.superseded_at).is_(None),
        or_(col(Consent.withdrawn_at).is_(None), col(Consent.withdrawn_at) > at),
        or_(col(Consent.valid_until).is_(None), col(Consent.valid_until) > at),
    )


def ending_between(start: datetime, end: datetime) -> ColumnElement[bool]:
    """Open versions whose end date falls after `start` and no later than `end`."""
    return and_(
        open_versions(),
        col(Consent.valid_until) > start,
        col(Consent.valid_until) <= end,
    )
