"""The settings overview's values for people (/admin/settings): sizes, durations, pixels,
yes/no, channels and choices in the reader's language, each beside the value as it is
typed in the environment (what an administrator changes, then restarts).

Pure: a setting's name and value in, its words and its typed form out. The unit of a
number comes from the setting's name (DAM_MAX_UPLOAD_BYTES, DAM_JOB_STALE_AFTER_S, ...);
tests/test_ui_pages.py checks that every number setting has one or is a plain count.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from babel.units import format_unit
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from dam.numbers import PATTERN
from gdpr.judgement import verdict_text
from web.ui import i18n, labels
from web.ui.labels import N_

SECRETS = {"secret_key", "face_key", "search_api_key", "oidc_client_secret"}
URLS = {"database_url", "queue_url", "search_url", "smtp_url"}
CHANNEL_LISTS = {"channels", "alt_text_channels", "licence_channels", "gps_channels"}
# A number setting's unit, by the end of its name (CLDR units: "10 minuten", "24 hours").
UNITS = {
    "_ms": "duration-millisecond",
    "_hours": "duration-hour",
    "_days": "duration-day",
    "_px": "graphics-pixel",
    "_pixels": "graphics-pixel",
}
SECONDS = (("duration-day", 86_400), ("duration-hour", 3_600), ("duration-minute", 60))
# Number settings that count things: written as a number, without unit.
COUNTS = {"workers", "similar_max_distance", "download_zip_max_assets"}
# The choices of a setting with a few allowed values, by name.
CHOICES: dict[str, Mapping[str, str]] = {
    "environment": {"development": N_("development"), "production": N_("production")},
    "log_format": {"text": N_("plain text"), "json": N_("JSON")},
    "oidc_default_role": {**labels.role, "none": N_("nobody: refused")},
}


@dataclass(frozen=True)
class Shown:
    words: str | None  # None: the typed value says it best (a path, a name, a URL)
    typed: str  # as in the environment ("" when not set)


def shown(name: str, value: object, locale: str) -> Shown:
    """`value` of the setting `name` in words and as typed; secrets never shown."""
    if name in SECRETS:
        return Shown("••••••••", "")
    if value is None or value == "":
        return Shown(i18n.gettext(locale, N_("not set")), "")
    if isinstance(value, bool):
        return Shown(i18n.gettext(locale, N_("yes") if value else N_("no")), str(value).lower())
    typed = _without_password(str(value)) if name in URLS else str(value)
    if isinstance(value, int):
        return Shown(_number(name, value, locale), typed)
    if name in CHOICES and typed in CHOICES[name]:
        return Shown(i18n.gettext(locale, CHOICES[name][typed]), typed)
    if name in CHANNEL_LISTS:
        channels = [verdict_text.channel_label(c, locale) for c in typed.split(",") if c]
        return Shown(", ".join(channels), typed)
    if name == "banner_size":
        width, _, height = typed.partition("x")
        across = i18n.format_number(int(width), locale)
        return Shown(f"{across} × {_unit(int(height), 'graphics-pixel', locale)}", typed)
    return Shown(None, typed)  # a path, a name, an address, a list of networks


def _number(name: str, value: int, locale: str) -> str:
    if name.endswith("_bytes"):
        return i18n.format_size(value, locale)
    if name.endswith("_mb"):
        # A size when the larger unit says it exactly ("2 GB"), else in MB ("1.280 MB").
        if value < 1024 or value % 1024 == 0:
            return i18n.format_size(value * 1024**2, locale)
        return f"{i18n.format_number(value, locale)} MB"
    if name.endswith("_s"):
        unit, size = next(((u, n) for u, n in SECONDS if value and value % n == 0), ("", 1))
        return _unit(value // size, unit or "duration-second", locale)
    if name == "max_image_pixels" and value % 1_000_000 == 0:
        return _unit(value // 1_000_000, "graphics-megapixel", locale)
    for suffix, unit in UNITS.items():
        if name.endswith(suffix):
            return _unit(value, unit, locale)
    return i18n.format_number(value, locale)


def _unit(value: int, unit: str, locale: str) -> str:
    return format_unit(
        value, unit, length="long", format=PATTERN, locale=i18n.FORMAT_LOCALES[locale]
    )


def _without_password(url: str) -> str:
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return url.split("@")[-1]
