"""Languages: every UI string has a Dutch and an English translation; locale formatting;
choosing the language."""

from __future__ import annotations

import ast
import re
from datetime import UTC, date, datetime

import pytest
from babel.messages.pofile import read_po

from dam.errors import DomainError, InvalidInput, N_plural
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


def test_extraction_skips_no_message() -> None:
    """An f-string with values where a message id belongs cannot be in the catalogs: the
    extractor skips it (and says so on stderr), and the text stays English in Dutch."""
    import contextlib
    import io

    stderr = io.StringIO()
    with contextlib.redirect_stderr(stderr):
        catalog_sources.messages()
    assert "Skipping f-string" not in stderr.getvalue(), stderr.getvalue()


# What may stand where an error's message belongs: a message id written out (a literal, or
# N_(...) / N_plural(...)), or a variable that holds one (a module constant must be marked).
def _message_problem(node: ast.expr, unmarked: set[str]) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return None
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
        if node.func.id in ("N_", "N_plural"):
            return None
        return f"the result of {node.func.id}(): raise the error it should build instead"
    if isinstance(node, ast.BoolOp):
        problems = [_message_problem(v, unmarked) for v in node.values]
        return next((p for p in problems if p), None)
    if isinstance(node, ast.Name):
        return f"{node.id} is not marked with N_()" if node.id in unmarked else None
    if isinstance(node, ast.Attribute):
        return None  # a stored message (a job's error), or a constant of another module
    return f"built in code ({type(node).__name__}): use %(name)s placeholders and params"


def _error_messages_built_in_code() -> list[str]:
    names = set(catalog_sources.ERROR_CLASSES)
    found = []
    for package in ("dam", "gdpr", "ingest", "search", "web"):
        for path in sorted((catalog_sources.ROOT / package).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            unmarked: set[str] = set()
            for statement in tree.body:  # module constants holding unmarked text
                if not isinstance(statement, ast.Assign):
                    continue
                value = statement.value
                if isinstance(value, ast.Constant) and isinstance(value.value, str):
                    unmarked |= {t.id for t in statement.targets if isinstance(t, ast.Name)}
            for node in ast.walk(tree):
                if not isinstance(node, ast.Call):
                    continue
                func = node.func
                name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
                if name not in names:
                    continue
                position = catalog_sources.MESSAGE_ARGUMENT.get(name, (1,))[0] - 1
                if len(node.args) <= position:
                    continue
                problem = _message_problem(node.args[position], unmarked)
                if problem:
                    where = path.relative_to(catalog_sources.ROOT)
                    found.append(f"{where}:{node.lineno}: {problem}")
    return found


def test_every_error_message_is_a_message_id() -> None:
    """An error's message is a message id the catalogs hold, its values in `params` (a
    count in `num`, with N_plural): an f-string, a .format() or a helper that returns
    text puts English into Dutch answers and pages."""
    assert _error_messages_built_in_code() == []


def test_the_message_check_finds_text_built_in_code() -> None:
    source = (
        "LIMIT = 'At most 5.'\n"
        "raise InvalidInput(f'Unknown channel {channel!r}.')\n"
        "raise InvalidInput('At most %s.' % n)\n"
        "raise NotFound(explain(exc))\n"
        "raise InvalidInput(LIMIT)\n"
        "raise InvalidInput(N_('Unknown channel %(channel)r.'), params={'channel': c})\n"
    )
    tree = ast.parse(source)
    calls = [
        n
        for n in ast.walk(tree)
        if isinstance(n, ast.Call) and getattr(n.func, "id", "") in ("InvalidInput", "NotFound")
    ]
    problems = [_message_problem(c.args[0], {"LIMIT"}) for c in calls]
    assert [p is not None for p in problems] == [True, True, True, True, False]


def test_plural_messages_take_the_form_for_their_count() -> None:
    from web import catalogs

    message = N_plural(
        "Select at most %(num)s asset at once.", "Select at most %(num)s assets at once."
    )
    assert (
        catalogs.translate("nl", message, {"num": 1}) == "Selecteer hoogstens 1 bestand tegelijk."
    )
    assert catalogs.translate("nl", message, {"num": 500}) == (
        "Selecteer hoogstens 500 bestanden tegelijk."
    )
    assert InvalidInput(message, params={"num": 1}).message == "Select at most 1 asset at once."
    assert str(InvalidInput(message, params={"num": 2})) == "Select at most 2 assets at once."


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

    @app.get("/api/v1/counted/{n}")
    def counted(n: int) -> None:
        raise InvalidInput(
            N_plural(
                "A password needs at least %(num)s character.",
                "A password needs at least %(num)s characters.",
            ),
            params={"num": n},
        )

    client = TestClient(app)
    body = client.get("/api/v1/thing", headers={"Accept-Language": header}).json()
    assert body["error"] == {"code": "not_found", "message": expected}
    dutch = header.startswith("nl")
    for n, word in (
        (1, "teken" if dutch else "character"),
        (12, "tekens" if dutch else "characters"),
    ):
        counted_body = client.get(
            f"/api/v1/counted/{n}", headers={"Accept-Language": header}
        ).json()
        assert counted_body["error"]["code"] == "invalid_input"
        assert f" {n} {word}" in counted_body["error"]["message"], counted_body


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


@pytest.mark.parametrize(
    ("locale", "one", "many"),
    [("nl", "1 foto", "1.234 foto\u2019s"), ("en", "1 photo", "1,234 photos")],
)
def test_plural_messages_write_their_count_grouped(locale: str, one: str, many: str) -> None:
    """The form is chosen from the integer, the count is written the language's way: in
    Python (viewer.ngettext), in templates and in a service's plural message."""
    from web import catalogs
    from web.ui.templating import Templates

    assert i18n.ngettext(locale, "%(num)s photo", "%(num)s photos", 1) == one
    assert i18n.ngettext(locale, "%(num)s photo", "%(num)s photos", 1234) == many
    env = Templates(timezone="Europe/Brussels").envs[locale]
    page = env.from_string('{{ ngettext("%(num)s photo", "%(num)s photos", n) }}')
    assert page.render(n=1234) == many
    assert page.render(n=1) == one
    # A value given for %(num)s wins (the person picker's "{count}" for its script).
    given = env.from_string('{{ ngettext("%(num)s photo", "%(num)s photos", 2, num="{count}") }}')
    assert given.render().startswith("{count} ")
    message = N_plural(
        "Select at most %(num)s asset at once.", "Select at most %(num)s assets at once."
    )
    assert "1.500 bestanden" in catalogs.translate("nl", message, {"num": 1500})
    assert "1,500 assets" in catalogs.translate("en", message, {"num": 1500})


@pytest.mark.parametrize(
    ("value", "nl", "en"),
    [(1234, "1.234", "1,234"), (0, "0", "0"), (2.8, "2,8", "2.8"), (1.78, "1,8", "1.8")],
)
def test_pages_and_messages_write_numbers_one_way(value: float, nl: str, en: str) -> None:
    """The templates' `number` filter is dam.numbers.format_number: counts whole, other
    numbers with one decimal at most (before, the filter kept up to three: "1,78")."""
    from dam.numbers import format_number

    assert (i18n.format_number(value, "nl"), i18n.format_number(value, "en")) == (nl, en)
    assert format_number(value, "nl_BE") == nl
    assert i18n.format_number(None, "nl") == ""


@pytest.mark.parametrize(
    ("seconds", "nl", "en"),
    [(0.04, "40 ms", "40 ms"), (0.9996, "1 s", "1 s"), (12.345, "12,3 s", "12.3 s")],
)
def test_short_times_are_written_the_languages_way(seconds: float, nl: str, en: str) -> None:
    """A job's duration on the asset page (was "12.35 s" in Dutch too) and a shutter time."""
    assert (i18n.format_seconds(seconds, "nl"), i18n.format_seconds(seconds, "en")) == (nl, en)


@pytest.mark.parametrize(
    ("typed", "nl", "en"), [("1/250", "1/250 s", "1/250 s"), ("2.5", "2,5 s", "2.5 s")]
)
def test_shutter_times_keep_their_fraction(typed: str, nl: str, en: str) -> None:
    assert (i18n.format_exposure(typed, "nl"), i18n.format_exposure(typed, "en")) == (nl, en)
