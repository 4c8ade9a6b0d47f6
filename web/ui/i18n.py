"""Languages of the UI: the catalogs and choice of language (from web/catalogs.py) and
formatting of dates, numbers and sizes per language."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime

# The catalogs and the choice of language are shared with the API's errors (web/catalogs.py).
from web.catalogs import (  # noqa: F401  (the UI's one place to reach them)
    DEFAULT_LOCALE,
    FORMAT_LOCALES,
    LOCALES,
    TRANSLATIONS,
    choose_locale,
    gettext,
    ngettext,
    number_text,
    parse_accept_language,
    po_path,
    size_text,
    translations,
)

LANGUAGE_NAMES = {"nl": "Nederlands", "en": "English"}


def _zone(tz: str | None) -> ZoneInfo:
    return ZoneInfo(tz or "Europe/Brussels")


def format_day(value: date | datetime | None, locale: str, tz: str | None = None) -> str:
    """3 maart 2026 / 3 March 2026."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = value.astimezone(_zone(tz)) if value.tzinfo else value
        value = value.date()
    return format_date(value, "long", locale=FORMAT_LOCALES[locale])


def format_moment(value: datetime | None, locale: str, tz: str | None = None) -> str:
    """3 maart 2026 14:05 in the team's time zone (or the recorded one, when aware)."""
    if value is None:
        return ""
    if value.tzinfo is not None and tz is not None:
        value = value.astimezone(_zone(tz))
    return format_datetime(value, "d MMMM y HH:mm", locale=FORMAT_LOCALES[locale])


def format_number(value: float | int | None, locale: str) -> str:
    """1.234 / 1,234; 1,5 / 1.5 (dam.numbers, the one way numbers are written)."""
    return "" if value is None else number_text(value, locale)


def format_seconds(value: float | None, locale: str) -> str:
    """A short time the number way: 1,5 s / 1.5 s; under a second in ms (40 ms), where one
    decimal of a second would say 0."""
    if value is None:
        return ""
    if (ms := round(value * 1000)) < 1000:
        return f"{number_text(ms, locale)} ms"
    return f"{number_text(value, locale)} s"


def format_exposure(value: str | None, locale: str) -> str:
    """A shutter time as photographers write it: 1/250 s as it is, 2,5 s the language's way
    (ingest.image.metadata keeps it as text: "1/250", "2.5")."""
    if not value:
        return ""
    try:
        return format_seconds(float(value), locale) if "/" not in value else f"{value} s"
    except ValueError:
        return value


def format_size(size: int | None, locale: str) -> str:
    """A byte count for people: 1,2 MB / 1.2 MB (dam.sizes, the one way sizes are written)."""
    return "" if size is None else size_text(size, locale)
