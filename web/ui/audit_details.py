"""An audit entry's details for people (privacy/audit.html): codes in words (roles,
channels, sign-in methods, sources, formats, languages, edited fields), moments, sizes,
counts and yes/no the reader's way; ids, fingerprints and free text as recorded.

Pure: a recorded key and value in, the parts to show out (a list's items are parts).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from babel import Locale, UnknownLocaleError

from gdpr.judgement import verdict_text
from web.ui import i18n, labels
from web.ui.labels import N_


@dataclass(frozen=True)
class Part:
    text: str
    code: bool = False  # as recorded (an id, a fingerprint, an unknown code): shown as code


# Keys whose values are codes with names (message ids, translated when shown).
CODES: dict[str, Mapping[str, str]] = {
    "role": labels.role,
    "from": labels.role,
    "to": labels.role,
    "method": labels.sign_in,
    "source": labels.source,
    "reason": {**labels.sign_in_refusal, **labels.face_reason},
    "preset": labels.preset,
    "rendition": labels.rendition,
    "status": labels.licence_status,
    "fields": labels.field,
}
# Keys whose values are names that are the same in every language.
NAMES: dict[str, Mapping[str, str]] = {"format": labels.file_format}
CHANNELS = {"channel", "channels"}
LANGUAGES = {"language", "languages"}
MOMENTS = {"expires_at", "found_before"}
NOTHING = {"status": labels.licence_status["unknown"], "expires_at": N_("never")}


def key_name(key: str, locale: str) -> Part:
    """The key in words, or as recorded when it has no name."""
    name = labels.detail.get(key)
    return Part(i18n.gettext(locale, name)) if name else Part(key, code=True)


def value_parts(key: str, value: object, locale: str, tz: str) -> list[Part]:
    """The value in words: one part, or one per item of a list."""
    if isinstance(value, list):
        if not value:
            return [Part(i18n.gettext(locale, N_("none")))]
        return [part for item in value for part in value_parts(key, item, locale, tz)]
    return [_part(key, value, locale, tz)]


def _part(key: str, value: object, locale: str, tz: str) -> Part:
    if value is None:
        return Part(i18n.gettext(locale, NOTHING.get(key, N_("none"))))
    if isinstance(value, bool):
        return Part(i18n.gettext(locale, N_("yes") if value else N_("no")))
    if isinstance(value, int | float):
        if key == "size" and isinstance(value, int):
            return Part(i18n.format_size(value, locale))
        return Part(i18n.format_number(value, locale))
    if not isinstance(value, str):
        return Part(repr(value), code=True)
    if key in CODES and value in CODES[key]:
        return Part(i18n.gettext(locale, CODES[key][value]))
    if key in NAMES and value in NAMES[key]:
        return Part(NAMES[key][value])
    if key in CHANNELS:
        return Part(verdict_text.channel_label(value, locale))
    if key in LANGUAGES and (name := _language(value, locale)):
        return Part(name)
    if key in MOMENTS and (moment := _moment(value)):
        if len(value) == len("2026-03-02"):  # a day
            return Part(i18n.format_day(moment, locale))
        return Part(i18n.format_moment(moment, locale, tz))
    return Part(value, code=True)


def _language(tag: str, locale: str) -> str | None:
    """A subtitle language ("nl", "fr-BE") by its name in the reader's language."""
    try:
        name = Locale.parse(tag, sep="-").get_display_name(i18n.FORMAT_LOCALES[locale])
    except (ValueError, UnknownLocaleError):
        return None
    return name or None


def _moment(text: str) -> datetime | None:
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None
