"""The gettext catalogs (nl, en) and the choice of language: shared by the UI's pages and
the API's error messages, so an error reads the same wherever a person meets it.

Catalogs are the .po files in web/translations, compiled in memory when first used: no
build step, and no compiled .mo files to keep in step with their sources.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from functools import cache
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

from dam.errors import Message, MessageId, is_message_list, join_messages
from dam.messages import HasError, failure_of
from dam.numbers import Number, format_number
from dam.sizes import Size, format_size

TRANSLATIONS = Path(__file__).resolve().parent / "translations"
LOCALES = ("nl", "en")  # Dutch first: the default when nothing else says otherwise
DEFAULT_LOCALE = "nl"
# Dates, numbers and sizes follow the team's region: Belgian Dutch (3 maart 2026, 1.234,
# 1,5 MB) and British English (3 March 2026, 1,234, 1.5 MB), the English most Flemish
# colleagues read.
FORMAT_LOCALES = {"nl": "nl_BE", "en": "en_GB"}


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
    """Translate `message`, then fill in its %(name)s placeholders."""
    text = translations(locale).gettext(message)
    return text % values if values else text


def ngettext(locale: str, singular: str, plural: str, n: int, **values: object) -> str:
    """The form of `singular`/`plural` for `n` in `locale`; `%(num)s` is `n`, written the
    language's way ("1.234 foto’s")."""
    text = translations(locale).ngettext(singular, plural, n)
    return text % plural_values(locale, n, values)


def plural_values(locale: str, n: int, values: Mapping[str, object]) -> dict[str, object]:
    """The values of a plural message: its form is chosen from the plain integer `n`, and
    `%(num)s` shows `n` grouped in `locale` ("1.234" / "1,234") unless a value for it is
    given. The one place for it: Python's ngettext above, the templates' ngettext
    (web/ui/templating.py) and a service's plural message (translate below)."""
    return {"num": number_text(n, locale), **values}


def translate(locale: str, message: MessageId, params: Mapping[str, object] | None = None) -> str:
    """A message that may hold placeholders (an error's template and its values). A value
    that is itself a message id (marked with N_ where it is defined, such as "a PDF
    document") is translated too, and so is a Message (dam.errors) with values of its own,
    or a list of them (the lines of a file's problems), and a file size (dam.sizes.Size)
    or a number (dam.numbers.Number) is written the language's way; other values (names,
    counts) are not in the catalog. A message with a plural form (N_plural) takes the form
    for its `num` param."""
    catalog = translations(locale)
    if isinstance(message, str):
        text = catalog.gettext(message)
    else:
        text = catalog.ngettext(message[0], message[1], _count((params or {}).get("num")))
    if not params:
        return text
    values = {k: _value(locale, v) for k, v in params.items()}
    count = params.get("num")
    if not isinstance(message, str) and isinstance(count, int):
        # The count that chose the form is written grouped, like every plural's.
        values = plural_values(locale, count, {k: v for k, v in values.items() if k != "num"})
    try:
        return text % values
    except (KeyError, ValueError, TypeError):  # a broken translation must not hide the error
        return Message(message, params).english


def _value(locale: str, value: object) -> object:
    if isinstance(value, str):
        return translations(locale).gettext(value) if value else value
    if isinstance(value, Message):
        return translate_message(locale, value)
    if is_message_list(value):
        return join_messages([translate_message(locale, m) for m in value])
    if isinstance(value, Size):
        return size_text(value.bytes, locale)
    if isinstance(value, Number):
        return number_text(value.value, locale)
    return value


def number_text(value: float, locale: str) -> str:
    """A number in `locale` ("1.234" / "1,234", "1,5" / "1.5"): pages and messages."""
    return format_number(value, FORMAT_LOCALES[locale])


def size_text(size: int, locale: str) -> str:
    """A byte count in `locale` ("1,5 MB" / "1.5 MB"): pages, API messages, kept failures."""
    return format_size(size, FORMAT_LOCALES[locale])


def translate_message(locale: str, message: Message | None) -> str:
    """A kept message (dam/messages.py) in `locale`; empty for none."""
    return "" if message is None else translate(locale, message.id, message.params)


def failure_text(locale: str, row: HasError) -> str | None:
    """Why an asset, a job, a ZIP or an import failed, in `locale` (None: it did not). A
    row from before migration 0022 has only its English text: shown as it is, translated
    when it is a message without values."""
    message = failure_of(row)
    return None if message is None else translate_message(locale, message)


def _count(value: object) -> int:
    return value if isinstance(value, int) else 0


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
