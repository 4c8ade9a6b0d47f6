"""Languages: every UI string has a Dutch and an English translation; locale formatting;
choosing the language."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

import pytest
from babel.messages.pofile import read_po

from dam.errors import N_, DomainError, InvalidInput
from web import catalog_sources
from web.ui import i18n

PLACEHOLDER = re.compile(r"%\((\w+)\)[sr]")


def extracted() -> set[str | tuple[str, str]]:
    """Every message the templates, the UI code and the services' errors use."""
    return catalog_sources.extract()


def test_extraction_finds_the_ui_strings() -> None:
    messages = extracted()
    assert "Skip to main content" in messages  # a template
    assert "You are logged out." in messages  # Python code of a route
    assert "privacy officer" in messages  # an N_() label
    assert ("%(num)s asset", "%(num)s assets") in messages
    assert "There is no asset with this id." in messages  # a service's error
    assert (
        "This file type is not accepted (it is %(what)s). "
        "Beeldbank accepts %(photos)s photos and %(videos)s videos." in messages
    )
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


def _subclasses(cls: type) -> set[type]:
    found = set(cls.__subclasses__())
    for sub in list(found):
        found |= _subclasses(sub)
    return found


def test_every_domain_error_class_is_an_extraction_keyword() -> None:
    """The catalogs find an error's message by its class name: a new subclass must be named
    in web/catalog_sources.py, or its messages stay English in Dutch answers."""
    import web.app  # noqa: F401  (imports every package, so every subclass is defined)

    names = {cls.__name__ for cls in _subclasses(DomainError) | {DomainError}}
    assert names <= set(catalog_sources.ERROR_CLASSES)


def test_no_plural_placeholders_and_one_apostrophe_in_the_catalogs() -> None:
    """Plurals go through ngettext ("1 gezicht", "2 gezichten"), never "gezicht(en)"; one
    apostrophe in Dutch: foto\u2019s (the typographic one, which HTML need not escape)."""
    bad = re.compile(r"\w\((s|en|n|es)\)(?!\w)")
    straight = re.compile(r"(?<=\w)'(?=\w)")
    for locale in i18n.LOCALES:
        with i18n.po_path(locale).open("rb") as fh:
            catalog = read_po(fh, locale=locale)
        for entry in catalog:
            strings = [entry.string] if isinstance(entry.string, str) else list(entry.string)
            for text in strings:
                assert not bad.search(text), (locale, text)
                if locale == "nl":
                    assert not straight.search(text), text


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("nl-BE,nl;q=0.9", "Er is geen bestand met deze id."),
        ("en", "There is no asset with this id."),
    ],
)
def test_api_errors_speak_the_callers_language(header: str, expected: str) -> None:
    from fastapi import FastAPI
    from fastapi.testclient import TestClient

    from dam.errors import NotFound
    from web import errors

    app = FastAPI()
    errors.install(app)

    @app.get("/api/v1/thing")
    def thing() -> None:
        raise NotFound("There is no asset with this id.")

    @app.get("/api/v1/counted")
    def counted() -> None:
        raise InvalidInput(N_("A password needs at least %(n)s characters."), params={"n": 12})

    client = TestClient(app)
    body = client.get("/api/v1/thing", headers={"Accept-Language": header}).json()
    assert body["error"] == {"code": "not_found", "message": expected}
    counted_body = client.get("/api/v1/counted", headers={"Accept-Language": header}).json()
    assert "12" in counted_body["error"]["message"]
    assert ("tekens" in counted_body["error"]["message"]) == header.startswith("nl")


def test_a_message_value_is_translated_with_its_message() -> None:
    from web import catalogs

    message = (
        "This file type is not accepted (it is %(what)s). "
        "Beeldbank accepts %(photos)s photos and %(videos)s videos."
    )
    text = catalogs.translate(
        "nl", message, {"what": "a PDF document", "photos": "JPEG", "videos": "MP4"}
    )
    assert text.startswith("Dit bestandstype wordt niet aanvaard (het is een PDF-document).")


def test_every_stage_and_task_has_a_label() -> None:
    """The asset page's processing table names every job by its label, never its code."""
    from dam.plugins import builtin_wiring
    from web.ui import labels

    wiring = builtin_wiring()
    assert set(wiring.stages) | set(wiring.tasks) <= set(labels.stage)
