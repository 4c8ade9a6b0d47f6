"""Languages of the UI: gettext catalogs through Babel, the choice of language, formatting.

Catalogs are the .po files in web/translations, compiled in memory when first used: no
build step, and no compiled .mo files to keep in step with their sources.
"""

from __future__ import annotations

import io
from datetime import date, datetime
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal
from babel.support import Translations

TRANSLATIONS = Path(__file__).resolve().parent.parent / "translations"
LOCALES = ("nl", "en")  # Dutch first: the default when nothing else says otherwise
DEFAULT_LOCALE = "nl"
# Formatting follows the team's region: Belgian Dutch (3 maart 2026, 1.234) and British
# English (3 March 2026, 1,234), the English most Flemish colleagues read.
FORMAT_LOCALES = {"nl": "nl_BE", "en": "en_GB"}
LANGUAGE_NAMES = {"nl": "Nederlands", "en": "English"}


def po_path(locale: str) -> Path:
    return TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po"


@cache
def translations(locale: str) -> Translations:
    """The compiled catalog for `locale` (read once per process)."""
    with po_path(locale).open("rb") as fh:
        catalog = read_po(fh, locale=locale)
    buffer = io.BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    buffer.seek(0)
    return Translations(buffer)


def gettext(locale: str, message: str, **values: object) -> str:
    """Translate `message` (Python code of the UI; templates use `_()`)."""
    text = translations(locale).gettext(message)
    return text % values if values else text


def parse_accept_language(header: str | None) -> list[str]:
    """Primary language subtags from an Accept-Language header, most preferred first."""
    weighted: list[tuple[float, int, str]] = []
    for index, part in enumerate((header or "").split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        params = params.strip()
        if params.startswith("q="):
            try:
                quality = float(params[2:])
            except ValueError:
                quality = 0.0
        if tag and quality > 0:
            weighted.append((-quality, index, tag.split("-")[0].lower()))
    return [tag for _, _, tag in sorted(weighted)]


def choose_locale(
    *, user_locale: str | None, session_locale: str | None, accept_language: str | None
) -> str:
    """The user's saved choice, else this browser session's, else the browser's, else Dutch."""
    for candidate in (user_locale, session_locale):
        if candidate in LOCALES:
            return candidate
    for tag in parse_accept_language(accept_language):
        if tag in LOCALES:
            return tag
    return DEFAULT_LOCALE


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
    """1.234 / 1,234."""
    if value is None:
        return ""
    return format_decimal(value, locale=FORMAT_LOCALES[locale])


def format_size(size: int | None, locale: str) -> str:
    """A byte count for people: 1,2 MB / 1.2 MB."""
    if size is None:
        return ""
    value = float(size)
    for unit in ("B", "kB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            pattern = "#,##0" if unit == "B" else "#,##0.#"
            text = format_decimal(value, format=pattern, locale=FORMAT_LOCALES[locale])
            return f"{text} {unit}"
        value /= 1000
    raise AssertionError("unreachable")
