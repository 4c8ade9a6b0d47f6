"""The consent form of the UI: its values, reading what was posted into a ConsentInput
with per-field problems, and the rows that show a person's consent versions.

Problems are message ids (translated when shown), checked here the way
gdpr.consent.consents.ConsentInput and record_consent check them, so a mistake comes back on the
form next to its field instead of as an error page."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from pydantic import ValidationError
from starlette.datastructures import FormData, UploadFile

from dam import clock
from dam.models import Consent
from dam.settings import Settings
from gdpr.consent.consents import ConsentInput, ConsentState, state_of
from web.ui.labels import N_

GUARDIAN_MAX, FORM_VERSION_MAX, NOTES_MAX, REASON_MAX = 200, 100, 5000, 1000


@dataclass
class ConsentForm:
    """What the form shows: its values (strings, as typed) and problems per field."""

    channels: list[str] = field(default_factory=list)
    granted_at: str = ""
    valid_until: str = ""
    guardian_name: str = ""
    form_version: str = ""
    notes: str = ""
    evidence_asset_id: str | None = None  # kept when a change brings no new file
    errors: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ConsentRow:
    consent: Consent
    state: ConsentState
    last_day: date | None  # the last day the consent covers (it ends the midnight after)
    recorded_by: str  # the recorder's e-mail address, "" when unknown
    withdrawn_by: str

    @property
    def open(self) -> bool:
        """Still changeable and withdrawable: neither replaced nor withdrawn."""
        return self.state not in (ConsentState.superseded, ConsentState.withdrawn)


def blank_form(settings: Settings) -> ConsentForm:
    """A new consent: given today, no channel chosen (each one is a decision)."""
    return ConsentForm(granted_at=clock.today(settings.default_timezone).isoformat())


def form_of(consent: Consent, settings: Settings) -> ConsentForm:
    """The form prefilled with a version, to change it into the next one."""
    zone = ZoneInfo(settings.default_timezone)
    last = last_day(consent, settings)
    return ConsentForm(
        channels=list(consent.channels),
        granted_at=consent.granted_at.astimezone(zone).date().isoformat(),
        valid_until=last.isoformat() if last else "",
        guardian_name=consent.guardian_name or "",
        form_version=consent.form_version,
        notes=consent.notes,
        evidence_asset_id=consent.evidence_asset_id,
    )


def last_day(consent: Consent, settings: Settings) -> date | None:
    if consent.valid_until is None:
        return None
    local = consent.valid_until.astimezone(ZoneInfo(settings.default_timezone))
    # "until D" is stored as the midnight after D (gdpr.judgement.verdicts.end_of_day).
    return (local - timedelta(microseconds=1)).date()


def rows_of(
    consents: list[Consent], emails: dict[str, str], settings: Settings
) -> list[ConsentRow]:
    moment = clock.now()
    return [
        ConsentRow(
            consent=c,
            state=state_of(c, moment),
            last_day=last_day(c, settings),
            recorded_by=emails.get(c.recorded_by or "", ""),
            withdrawn_by=emails.get(c.withdrawn_by or "", ""),
        )
        for c in consents
    ]


def evidence_file(form: FormData) -> UploadFile | None:
    """The chosen evidence file; None when the field was left empty."""
    value = form.get("evidence")
    if isinstance(value, UploadFile) and value.filename and (value.size is None or value.size):
        return value
    return None


def read_form(
    form: FormData, *, settings: Settings, is_minor: bool, keep_evidence: str | None = None
) -> tuple[ConsentForm, ConsentInput | None]:
    """The posted consent form, and the ConsentInput when it has no problems."""
    values = ConsentForm(
        channels=[str(v) for v in form.getlist("channels") if isinstance(v, str)],
        granted_at=_text(form, "granted_at", 20),
        valid_until=_text(form, "valid_until", 20),
        guardian_name=" ".join(_text(form, "guardian_name", 10_000).split()),
        form_version=_text(form, "form_version", 10_000).strip(),
        notes=_text(form, "notes", 100_000).strip(),
        evidence_asset_id=keep_evidence,
    )
    errors = values.errors
    if not values.channels:
        errors["channels"] = N_("Choose at least one channel the consent covers.")
    elif set(values.channels) - set(settings.channel_list):
        errors["channels"] = N_("Choose channels from the list.")
    granted = _day(values.granted_at)
    if granted is None:
        errors["granted_at"] = N_("Enter the date the consent was given, like 2026-03-01.")
    until = _day(values.valid_until) if values.valid_until else None
    if values.valid_until and until is None:
        errors["valid_until"] = N_("Enter the last day the consent covers, like 2027-12-31.")
    elif until is not None and granted is not None and until < granted:
        errors["valid_until"] = N_(
            "The last day cannot come before the date the consent was given."
        )
    if is_minor and not values.guardian_name:
        errors["guardian_name"] = N_(
            "This person is a minor: enter the parent or guardian who signed."
        )
    elif len(values.guardian_name) > GUARDIAN_MAX:
        errors["guardian_name"] = N_("A name can be at most 200 characters long.")
    if len(values.form_version) > FORM_VERSION_MAX:
        errors["form_version"] = N_("The form version can be at most 100 characters long.")
    if len(values.notes) > NOTES_MAX:
        errors["notes"] = N_("Notes can be at most 5,000 characters long.")
    if errors or granted is None:
        return values, None
    try:
        data = ConsentInput(
            channels=values.channels,
            granted_at=granted,
            valid_until=until,
            guardian_name=values.guardian_name or None,
            evidence_asset_id=keep_evidence,
            form_version=values.form_version,
            notes=values.notes,
        )
    except ValidationError:
        errors["form"] = N_("The form is not valid.")
        return values, None
    return values, data


def _text(form: FormData, name: str, limit: int) -> str:
    value = form.get(name)
    return value[:limit] if isinstance(value, str) else ""


def _day(value: str) -> date | None:
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        return None
