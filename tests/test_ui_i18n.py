"""Languages: every UI string has a Dutch and an English translation; locale formatting;
choosing the language."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from web.ui import i18n

ROOT = Path(__file__).resolve().parents[1]
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None}
PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def extracted() -> set[str | tuple[str, str]]:
    """Every message the templates and the UI code use, found the way pybabel finds them."""
    method_map = [("web/ui/**.py", "python"), ("web/templates/**.html", "jinja2")]
    options = {"web/templates/**.html": {"extensions": "jinja2.ext.i18n", "trimmed": "true"}}
    found: set[str | tuple[str, str]] = set()
    for _, _, message, _, _ in extract_from_dir(
        str(ROOT), method_map, options_map=options, keywords=KEYWORDS
    ):
        found.add(message if isinstance(message, str) else (message[0], message[1]))
    return found


def test_extraction_finds_the_ui_strings() -> None:
    messages = extracted()
    assert "Skip to main content" in messages  # a template
    assert "You are logged out." in messages  # Python code of a route
    assert "privacy officer" in messages  # an N_() label
    assert ("%(num)s asset", "%(num)s assets") in messages
    assert len(messages) > 150


@pytest.mark.parametrize("locale", i18n.LOCALES)
def test_every_ui_string_is_translated(locale: str) -> None:
    with i18n.po_path(locale).open("rb") as fh:
        catalog = read_po(fh, locale=locale)
    missing, fuzzy, placeholders = [], [], []
    for message in extracted():
        entry = catalog.get(message if isinstance(message, str) else message[0])
        if entry is None or not (
            entry.string if isinstance(entry.string, str) else all(entry.string)
        ):
            missing.append(message)
            continue
        if entry.fuzzy:
            fuzzy.append(message)
        source = message if isinstance(message, str) else message[1]
        strings = [entry.string] if isinstance(entry.string, str) else list(entry.string)
        for text in strings:
            if set(PLACEHOLDER.findall(text)) != set(PLACEHOLDER.findall(source)):
                placeholders.append((message, text))
    assert missing == [], f"untranslated in {locale}: run the README's pybabel commands"
    assert fuzzy == []
    assert placeholders == []


def test_catalogs_compile_and_translate() -> None:
    assert i18n.gettext("nl", "Library") == "Bibliotheek"
    assert i18n.gettext("en", "Library") == "Library"
    assert i18n.gettext("nl", "Page %(page)s of %(pages)s", page=2, pages=9) == "Pagina 2 van 9"


@pytest.mark.parametrize(
    ("locale", "day", "number", "size"),
    [("nl", "3 maart 2026", "1.234", "1,2 MB"), ("en", "3 March 2026", "1,234", "1.2 MB")],
)
def test_dates_and_numbers_follow_the_locale(locale: str, day: str, number: str, size: str) -> None:
    assert i18n.format_day(date(2026, 3, 3), locale) == day
    assert i18n.format_number(1234, locale) == number
    assert i18n.format_size(1_234_567, locale) == size
    # 23:30 UTC on 2 March is 3 March in Brussels: days are the team's days.
    late = datetime(2026, 3, 2, 23, 30, tzinfo=UTC)
    assert i18n.format_day(late, locale, "Europe/Brussels") == day
    assert i18n.format_moment(late, locale, "Europe/Brussels").endswith("00:30")


@pytest.mark.parametrize(
    ("user", "session", "header", "expected"),
    [
        (None, None, None, "nl"),
        (None, None, "en-GB,en;q=0.9", "en"),
        (None, None, "fr-BE,fr;q=0.9,en;q=0.5", "en"),
        (None, None, "de, nl;q=0.1, en;q=0.05", "nl"),
        (None, None, "en;q=0, fr", "nl"),
        (None, "en", "nl-BE", "en"),
        ("nl", "en", "en", "nl"),
        ("en", None, "nl-BE", "en"),
        ("xx", None, None, "nl"),
    ],
)
def test_choosing_the_language(
    user: str | None, session: str | None, header: str | None, expected: str
) -> None:
    chosen = i18n.choose_locale(user_locale=user, session_locale=session, accept_language=header)
    assert chosen == expected
