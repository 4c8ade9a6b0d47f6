"""The consent conditions shared by consents, the withdrawal impact, the dashboard,
notices and retention, on a real database: which versions each one selects, and that
not_ended agrees with consents.state_of row by row."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlmodel import select

from dam.models import Consent, Person
from dam.runtime import Runtime
from gdpr.consent import consent_filters
from gdpr.consent.consents import ConsentState, state_of

AT = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)
WINDOW_END = AT + 30 * DAY

# label: (granted_at, valid_until, withdrawn_at, superseded_at),
#        open_versions, not_ended(AT), ending_between(AT, WINDOW_END)
CASES: dict[str, tuple[tuple[datetime, datetime | None, datetime | None, datetime | None],
                       bool, bool, bool]] = {
    "active, no end": ((AT - DAY, None, None, None), True, True, False),
    "ends within the window": ((AT - DAY, AT + 10 * DAY, None, None), True, True, True),
    "ends on the window's last moment": ((AT - DAY, WINDOW_END, None, None), True, True, True),
    "ends just after the window": ((AT - DAY, WINDOW_END + DAY, None, None), True, True, False),
    "ends at the moment itself": ((AT - DAY, AT, None, None), True, False, False),
    "yet to start, ends in the window": ((AT + DAY, AT + 20 * DAY, None, None), True, True, True),
    "expired, never withdrawn": ((AT - 9 * DAY, AT - DAY, None, None), True, False, False),
    "withdrawn before the moment": ((AT - 9 * DAY, None, AT - DAY, None), False, False, False),
    "withdrawn later": ((AT - 9 * DAY, AT + 5 * DAY, AT + DAY, None), False, True, False),
    "replaced": ((AT - 9 * DAY, AT + 5 * DAY, None, AT - DAY), False, False, False),
}  # fmt: skip


def test_each_condition_selects_what_it_says(rt: Runtime) -> None:
    with rt.session() as session:
        person = Person(name="Iemand")
        session.add(person)
        session.flush()
        ids: dict[str, str] = {}
        for label, ((granted, until, withdrawn, superseded), *_) in CASES.items():
            consent = Consent(
                person_id=person.id, channels=["internal"], granted_at=granted,
                valid_until=until, withdrawn_at=withdrawn, superseded_at=superseded,
            )  # fmt: skip
            session.add(consent)
            session.flush()
            ids[consent.id] = label
        session.commit()

        def chosen(condition: object) -> set[str]:
            return {ids[i] for i in session.exec(select(Consent.id).where(condition))}

        def expected(column: int) -> set[str]:
            return {label for label, case in CASES.items() if case[column]}

        assert chosen(consent_filters.open_versions()) == expected(1)
        assert chosen(consent_filters.not_ended(AT)) == expected(2)
        assert chosen(consent_filters.ending_between(AT, WINDOW_END)) == expected(3)
        # The SQL and the Python reading of "in force or yet to start" agree.
        for consent in session.exec(select(Consent)):
            expected = state_of(consent, AT) in (ConsentState.active, ConsentState.pending)
            assert (ids[consent.id] in chosen(consent_filters.not_ended(AT))) == expected
